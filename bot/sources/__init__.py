"""Sources: one package per site (``bot/sources/<site>/``), all behind the Source protocol
(base.py). Each site's ``__init__.py`` holds its one registration, ``SITE``; ``SITES`` lists
the site packages in the order their links are tried (specific sites first, a generic one
that matches any host last). Nothing outside a site's package names the site."""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterable
from functools import cache
from typing import TYPE_CHECKING

from bot.errors import UnsupportedLink
from bot.models import Author, PostRef
from bot.sources.base import Polling, PostKey, Site, Source

if TYPE_CHECKING:
    from bot.config import Config
    from bot.http import HttpClient

SITES: tuple[str, ...] = ("bot.sources.bluesky", "bot.sources.x", "bot.sources.mastodon")

_URL = re.compile(r"https?://[^\s<>\"'`|()\[\]]+", re.IGNORECASE)


@cache
def sites() -> tuple[Site, ...]:
    """Every site's registration, in ``SITES`` order."""
    return tuple(importlib.import_module(name).SITE for name in SITES)


def enabled_sources(config: Config, http: HttpClient) -> list[Source]:
    """The sources the config enables, in the order their links are tried."""
    found = (site.build(config, http) for site in sites())
    return [source for source in found if source is not None]


def offline_ref(url: str) -> PostRef | None:
    """The post a link names on any known site, enabled or not, without the network
    (the index records links to sites the bot cannot fetch too)."""
    for site in sites():
        if site.parse_link is not None:
            ref = site.parse_link(url)
            if ref is not None:
                return ref
    return None


def post_key(ref: PostRef, author: Author | None) -> PostKey:
    """The key the index stores for a post link, and the account the link names."""
    site = next((s for s in sites() if s.name == ref.source), None)
    if site is not None and site.post_key is not None:
        return site.post_key(ref, author)
    return PostKey(ref.url, None)


def polling(source: str) -> Polling:
    """How subscriptions poll the site named ``source``."""
    site = next((s for s in sites() if s.name == source), None)
    return site.polling if site is not None else Polling()


def title(source: str, default: str | None = None) -> str:
    """The site named ``source`` as readers know it ("Bluesky")."""
    site = next((s for s in sites() if s.name == source), None)
    if site is not None and site.title:
        return site.title
    return source if default is None else default


def api_hosts(config: Config) -> dict[str, str]:
    """Site name -> the one host serving all its authors, for sites that have one."""
    return {s.name: s.polling.api_host(config) for s in sites() if s.polling.api_host}


class SourceRegistry:
    """Finds the source for a link. Specific sources are asked first; a generic source
    (any host, such as the Mastodon API) last, so the specific handler wins."""

    def __init__(self, sources: Iterable[Source] = ()) -> None:
        self.sources: list[Source] = list(sources)

    def add(self, source: Source) -> None:
        self.sources.append(source)

    def get(self, name: str) -> Source | None:
        return next((s for s in self.sources if s.name == name), None)

    def in_order(self) -> list[Source]:
        """The sources in the order links are tried: generic ones last."""
        return sorted(self.sources, key=lambda s: bool(getattr(s, "generic", False)))

    def parse(self, url: str) -> tuple[Source, PostRef]:
        url = url.strip().strip("<>")
        for source in self.in_order():
            ref = source.parse(url)
            if ref is not None:
                return source, ref
        raise UnsupportedLink(url)

    def find_links(self, text: str) -> list[str]:
        """Supported post links in free text, in order (for context menus and detection)."""
        found = []
        for m in _URL.finditer(text):
            url = m.group(0).rstrip(".,;:!?")
            try:
                self.parse(url)
            except Exception:
                continue
            found.append(url)
        return found
