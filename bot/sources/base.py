"""The contract every source implements, and the registration a site package exports.

A new site is a package ``bot/sources/<site>/`` with a Source class and ``SITE`` in its
``__init__.py``, plus its name in ``bot.sources.SITES``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, NamedTuple, Protocol

if TYPE_CHECKING:
    from bot.config import Config
    from bot.http import HttpClient
    from bot.models import Author, FetchedPosts, PostRef


class Source(Protocol):
    name: str  # "bluesky", "mastodon", "x"
    # A source may set ``generic = True`` when its links match any host (the Mastodon API):
    # it is asked last.

    def parse(self, url: str) -> PostRef | None:
        """The post a link names, or None when this source does not handle the link.
        Pure: no network. Raise UsageError for a link that is recognisably this source's
        but malformed."""

    async def fetch(self, ref: PostRef, max_posts: int) -> FetchedPosts:
        """Every post needed to assemble the thread containing ``ref``, in as few
        sequential round trips as the API allows. Raises NotFound, Refused (opt-out,
        non-public) or UpstreamUnavailable."""
        ...


class AuthorSource(Protocol):
    """Optional: sources that can list an author's recent posts (subscriptions)."""

    async def resolve_author(self, spec: str) -> Author | None: ...

    async def recent_posts(self, author: Author, limit: int) -> FetchedPosts: ...


class PostKey(NamedTuple):
    """What the thread-linking index stores for a post link: the post's stable id when
    the link alone tells it (else the link in normal form), and the account the link
    names (lowercased) when it names one."""

    key: str
    user: str | None


@dataclass(frozen=True)
class Polling:
    """How subscriptions poll a site's authors within its limits."""

    # Requests one host allows per five minutes (per IP address).
    per_window: int = 300
    # Extra requests to find an author again after a restart, before listing its posts.
    lookup_requests: int = 0
    # Requests for a whole thread, before one more per ten posts.
    thread_requests: int = 1
    # The one host serving every author, from the config (None: each author's own server).
    api_host: Callable[[Config], str] | None = None


@dataclass(frozen=True)
class Site:
    """One site's registration (``SITE`` in its package)."""

    name: str
    # The site's source when the config enables it, else None.
    build: Callable[[Config, HttpClient], Source | None]
    # Reads the site's post links with no source built (even when disabled), or None.
    parse_link: Callable[[str], PostRef | None] | None = None
    # The index key for a parsed link; ``author`` (the thread's) resolves handles to ids.
    post_key: Callable[[PostRef, Author | None], PostKey] | None = None
    polling: Polling = field(default_factory=Polling)
    # The site's name as readers know it ("Bluesky"); empty: the name.
    title: str = ""


# ``created_at`` in the one form every source gives: ISO 8601, UTC, milliseconds and a Z,
# so that times from different sites sort as strings.


def iso_ms(when: datetime) -> str:
    """``when`` as e.g. ``2025-03-01T12:00:00.250Z`` (naive times are taken as UTC)."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    when = when.astimezone(UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def iso_ms_from_epoch(seconds: float) -> str:
    return iso_ms(datetime.fromtimestamp(seconds, UTC))
