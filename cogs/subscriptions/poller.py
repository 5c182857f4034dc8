"""Polling followed authors: one poll per author however many rooms follow it, inside each
host's request budget, with adaptive intervals and backoff; what a poll finds is recorded
per author, and the first successful poll of a new subscription records what already
exists so only later threads are posted."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Protocol, runtime_checkable
from urllib.parse import urlsplit

from bot.models import Author, FetchedPosts
from bot.sources import SourceRegistry, polling
from cogs.subscriptions.author_lease import AuthorLease
from cogs.subscriptions.clock import Clock
from cogs.subscriptions.grouping import group_posts
from cogs.subscriptions.model import WatchedAuthor
from cogs.subscriptions.ratelimit import HostLimiter
from cogs.subscriptions.repo import SubscriptionsRepo
from cogs.subscriptions.scheduler import Bounds, after_error, after_success, classify

log = logging.getLogger(__name__)

# Posts asked for per poll: one page on Mastodon (40), well under Bluesky's 100.
POLL_LIMIT = 40
# A first poll with backfill asks for more, so the last N threads are likely all in it.
BACKFILL_POSTS_PER_THREAD = 25
MAX_POLL_LIMIT = 300
# Threads remembered per author (older ones cannot receive appends any more).
KEEP_THREADS = 200


@runtime_checkable
class AuthorSource(Protocol):
    name: str

    async def resolve_author(self, spec: str) -> Author | None: ...

    async def recent_posts(self, author: Author, limit: int) -> FetchedPosts: ...


@dataclass(frozen=True)
class PollResult:
    author: WatchedAuthor
    ok: bool
    changed: tuple[str, ...] = ()
    deferred: bool = False  # the host's budget was spent: tried again later


def author_sources(registry: SourceRegistry) -> list[AuthorSource]:
    """Sources that can list an author's posts; a generic one (any host) last."""
    return [s for s in registry.in_order() if isinstance(s, AuthorSource)]


def host_of(url: str) -> str:
    try:
        return urlsplit(url).netloc.lower()
    except ValueError:
        return ""


class Poller:
    def __init__(
        self,
        repo: SubscriptionsRepo,
        registry: SourceRegistry,
        limiter: HostLimiter,
        clock: Clock,
        bounds: Bounds,
        on_refused: Callable[[WatchedAuthor, AuthorLease | None], Awaitable[None]] | None = None,
    ) -> None:
        self.repo = repo
        self.registry = registry
        self.limiter = limiter
        self.clock = clock
        self.bounds = bounds
        self.on_refused = on_refused
        self.polls = 0
        self._warm: set[int] = set()

    def warmed(self, author: int) -> None:
        """The source just resolved this author (its account id is cached there)."""
        self._warm.add(author)

    def source(self, name: str) -> AuthorSource | None:
        return next((s for s in author_sources(self.registry) if s.name == name), None)

    async def poll(
        self,
        a: WatchedAuthor,
        backfill: int = 0,
        *,
        priority: bool = False,
        lease: AuthorLease | None = None,
    ) -> PollResult:
        """Poll one author and record what it shows. With ``lease``, every write checks
        the lease is still ours (``LeaseLost`` otherwise: nothing of this poll is kept),
        so does the request (none is sent then), and saving the poll's result gives the
        lease back."""
        if lease is not None:
            # Ran out while waiting for a turn: another process may poll it now.
            lease.check()
        source = self.source(a.source)
        now = self.clock.now()
        if source is None:
            a = replace(
                a,
                last_error=f"the {a.source} source is not enabled",
                last_error_at=now,
                next_poll_at=now + self.bounds.max_s,
            )
            await self.repo.save_poll_state(a, fence=lease, release=True)
            return PollResult(a, ok=False)
        # After a restart some sources (Mastodon) look the account up again before listing.
        cost = 1 + (polling(a.source).lookup_requests if a.id not in self._warm else 0)
        if await self.limiter.reserve(a.host, cost, priority=priority) > 0:
            a = replace(a, next_poll_at=now + await self.limiter.slot(a.host, cost))
            await self.repo.save_poll_state(a, fence=lease, release=True)
            return PollResult(a, ok=False, deferred=True)
        if lease is not None:
            # Once more just before the request: the process may have been stopped since.
            lease.check()
        self.polls += 1
        who = Author(id=a.author_id, handle=a.handle, name=a.name, url=a.url)
        try:
            limit = POLL_LIMIT
            if backfill:
                limit = min(MAX_POLL_LIMIT, max(POLL_LIMIT, backfill * BACKFILL_POSTS_PER_THREAD))
            fetched = await source.recent_posts(who, limit)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            now = self.clock.now()
            updated, kind = after_error(a, now, exc, self.bounds)
            if kind == "rate_limited":
                until = await self.limiter.close(a.host, classify(exc)[2])
                updated = replace(updated, next_poll_at=max(updated.next_poll_at, until))
            log.info("poll of %s failed (%s): %s", a.key, kind, updated.last_error or exc)
            if kind == "refused" and self.on_refused is not None:
                await self.on_refused(updated, lease)
            await self.repo.save_poll_state(updated, fence=lease, release=True)
            return PollResult(updated, ok=False)
        now = self.clock.now()
        self._warm.add(a.id)
        known = await self.repo.known_posts(a.id)
        # Only threads with posts not seen before are written: a quiet author's poll
        # costs one small update.
        observed = [
            ob
            for ob in group_posts(fetched, who, known, now)
            if any(known.get(pid) != ob.root_id for pid in ob.post_ids)
        ]
        refreshed = next(
            (p.author for p in fetched.posts.values() if p.author.id == a.author_id), None
        )

        def finish(changed: list[str]) -> WatchedAuthor:
            # A fresh author's first poll only fills the table: that is not activity.
            active = bool(changed) and a.last_poll_at is not None
            updated = after_success(a, now, active, self.bounds)
            if refreshed is not None:
                updated = replace(updated, handle=refreshed.handle, name=refreshed.name)
            return updated

        # What the poll saw and the author's new poll state are one write: a claimant
        # whose lease ran out keeps neither.
        if len(known) > KEEP_THREADS * 10:
            await self.repo.prune_threads(a.id, KEEP_THREADS, fence=lease)
        changed, updated = await self.repo.save_poll(
            a.id, observed, now, finish, fence=lease, release=True
        )
        return PollResult(updated, ok=True, changed=tuple(changed))
