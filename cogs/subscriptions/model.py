"""What the subscriptions feature keeps: followed authors, their threads, subscriptions and
what each subscription did with each thread. Plain frozen rows; storage maps them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

AuthorState = Literal["active", "refused", "paused"]
ThreadKind = Literal["thread", "reply", "hidden"]
SubThreadState = Literal["old", "skipped", "delivering", "delivered"]


@dataclass(frozen=True)
class WatchedAuthor:
    """An author polled once for every room that follows it."""

    id: int
    source: str
    author_id: str
    handle: str
    name: str
    url: str
    host: str
    state: AuthorState
    reason: str | None
    interval_s: float
    next_poll_at: float
    failures: int
    last_error: str | None
    last_error_at: float | None
    last_poll_at: float | None
    last_activity_at: float | None

    @property
    def key(self) -> str:
        return f"{self.source}:{self.author_id}"


@dataclass(frozen=True)
class Filters:
    min_posts: int = 1
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()

    def describe(self) -> str:
        parts = []
        if self.min_posts > 1:
            parts.append(f"min_posts {self.min_posts}")
        if self.include:
            parts.append("include " + ", ".join(self.include))
        if self.exclude:
            parts.append("exclude " + ", ".join(self.exclude))
        return "; ".join(parts)


@dataclass(frozen=True)
class Subscription:
    id: int
    author: int  # WatchedAuthor.id
    adapter: str
    scope: str
    channel: str
    filters: Filters
    backfill: int
    primed: bool
    created_by: str
    created_at: float
    last_thread_url: str | None
    last_delivered_at: float | None
    last_error: str | None


@dataclass(frozen=True)
class AuthorThread:
    """A thread by a followed author as the polls see it."""

    author: int
    root_id: str
    url: str
    root_created_at: str
    first_seen_at: float
    activity_at: float
    post_count: int
    version: int
    kind: ThreadKind


@dataclass(frozen=True)
class SubThread:
    subscription: int
    root_id: str
    state: SubThreadState
    reason: str | None
    version: int
    delivery_id: int | None
    planned_at: float | None
    header_count: int | None
