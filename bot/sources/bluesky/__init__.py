"""Bluesky: posts from a public AppView (parse.py links, walk.py the thread crawl,
mapping.py API records to neutral posts). ``SITE`` registers it."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from bot.models import Author, PostRef
from bot.sources.base import Polling, PostKey, Site
from bot.sources.bluesky.parse import parse_post_link, post_uri
from bot.sources.bluesky.source import BlueskySource

if TYPE_CHECKING:
    from bot.config import Config
    from bot.http import HttpClient


def _build(config: Config, http: HttpClient) -> BlueskySource | None:
    cfg = config.sources.bluesky
    return BlueskySource(http, cfg.appview_url) if cfg.enabled else None


def _post_key(ref: PostRef, author: Author | None) -> PostKey:
    """A link by DID, or by the thread author's own handle, keys on the AT URI."""
    if len(ref.key) != 2:
        return PostKey(ref.url, None)
    actor, rkey = ref.key
    if actor.startswith("did:"):
        return PostKey(post_uri(actor, rkey), actor)
    if author is not None and author.handle.lower() == actor and author.id.startswith("did:"):
        return PostKey(post_uri(author.id, rkey), author.id)
    return PostKey(ref.url, actor)


def _api_host(config: Config) -> str:
    return urlsplit(config.sources.bluesky.appview_url).netloc.lower()


# The public AppView serves every author and allows about 3000 requests per 5 minutes.
SITE = Site(
    "bluesky",
    _build,
    parse_link=parse_post_link,
    post_key=_post_key,
    polling=Polling(per_window=3000, api_host=_api_host),
    title="Bluesky",
)

__all__ = ["SITE", "BlueskySource"]
