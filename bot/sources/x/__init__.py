"""X, through an FxTwitter-compatible API (links.py links, mapping.py API answers to
neutral posts). ``SITE`` registers it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.models import Author, PostRef
from bot.sources.base import PostKey, Site
from bot.sources.x.links import canonical_url, parse_x_url
from bot.sources.x.source import NOTICE_SINGLE_POST, XSource

if TYPE_CHECKING:
    from bot.config import Config
    from bot.http import HttpClient


def _build(config: Config, http: HttpClient) -> XSource | None:
    cfg = config.sources.x
    return XSource(http, cfg.api_url) if cfg.enabled else None


def _parse_link(url: str) -> PostRef | None:
    found = parse_x_url(url)
    return PostRef("x", canonical_url(*found), (found[1],)) if found is not None else None


def _post_key(ref: PostRef, author: Author | None) -> PostKey:
    """Status ids are global on X; the user in the link ("i" names no one) is kept."""
    if not ref.key:
        return PostKey(ref.url, None)
    user = parse_x_url(ref.url)
    name = user[0].lower() if user and user[0].lower() != "i" else None
    return PostKey(f"x:{ref.key[0]}", name)


SITE = Site("x", _build, parse_link=_parse_link, post_key=_post_key, title="X")

__all__ = ["NOTICE_SINGLE_POST", "SITE", "XSource"]
