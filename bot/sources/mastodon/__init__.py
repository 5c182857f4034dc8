"""Any server with the Mastodon API (urls.py links, api.py requests, software.py which
software a server runs, walk.py and coverage.py the thread crawl, mapping.py statuses to
neutral posts), and fediverse links that name an ActivityPub object (objects.py; Misskey's
own API in misskey.py). ``SITE`` registers it; its links match any host, so it is tried
after every specific site."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.config import mastodon_tokens
from bot.sources.base import Polling, Site
from bot.sources.mastodon.source import MastodonSource

if TYPE_CHECKING:
    from bot.config import Config
    from bot.http import HttpClient


def _build(config: Config, http: HttpClient) -> MastodonSource | None:
    cfg = config.sources.mastodon
    return MastodonSource(http, tokens=mastodon_tokens(cfg)) if cfg.enabled else None


# 300 requests per 5 minutes per IP on each server; an author is looked up again after a
# restart, and a thread takes the status and its context.
SITE = Site(
    "mastodon",
    _build,
    polling=Polling(lookup_requests=1, thread_requests=2),
    title="Mastodon",
)

__all__ = ["SITE", "MastodonSource"]
