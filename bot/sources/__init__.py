"""Sources: one module per site, all behind the Source protocol (base.py)."""

from __future__ import annotations

import re
from collections.abc import Iterable

from bot.errors import UnsupportedLink
from bot.models import PostRef
from bot.sources.base import Source

_URL = re.compile(r"https?://[^\s<>\"'`|()\[\]]+", re.IGNORECASE)


class SourceRegistry:
    """Finds the source for a link. Specific sources are asked first; the generic
    Mastodon-API source (any host) last, so the specific handler wins."""

    def __init__(self, sources: Iterable[Source] = ()) -> None:
        self.sources: list[Source] = list(sources)

    def add(self, source: Source) -> None:
        self.sources.append(source)

    def get(self, name: str) -> Source | None:
        return next((s for s in self.sources if s.name == name), None)

    def parse(self, url: str) -> tuple[Source, PostRef]:
        url = url.strip().strip("<>")
        for source in sorted(self.sources, key=lambda s: s.name == "mastodon"):
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
