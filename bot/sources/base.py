"""The contract every source implements. A new site is one module with one Source class."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from bot.models import Author, FetchedPosts, PostRef


class Source(Protocol):
    name: str  # "bluesky", "mastodon", "x"

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
