"""Leases on followed authors, so several bot processes on one database poll each author
once per interval and never settle or post the same author's thread at the same time.

A process claims an author (a due one through ``claim_due``, any one through ``hold``),
works on it, and releases it. Each write about the author checks, in its own transaction,
that the lease is still this process's and unexpired (the fence, ``SubscriptionsRepo``):
a process that stalled past its lease records nothing, and whoever took the author over
carries on. A killed process's leases simply run out."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from cogs.subscriptions.author_lease import AuthorLease
from cogs.subscriptions.clock import Clock
from cogs.subscriptions.model import WatchedAuthor
from cogs.subscriptions.repo import SubscriptionsRepo

log = logging.getLogger(__name__)

# A held lease is renewed this many times per lease period while work on the author runs.
RENEWALS_PER_LEASE = 3


class AuthorLeases:
    """One process's leases on authors: claims them, renews them while work runs, and
    releases them when the work ends."""

    def __init__(self, repo: SubscriptionsRepo, clock: Clock, lease_s: float, owner: str):
        self.repo = repo
        self.clock = clock
        self.lease_s = lease_s
        self.owner = owner
        # Authors this process works on now: never claimed twice by one process.
        self._held: dict[int, AuthorLease] = {}
        self.claimed = 0
        self.lost = 0

    def lease(self, author: int, claimed_at: float) -> AuthorLease:
        """The lease on ``author`` claimed at ``claimed_at``: it ends where its row does."""
        return AuthorLease(author, self.owner, self.clock, self.lease_s, claimed_at + self.lease_s)

    def holds(self, author: int) -> bool:
        mine = self._held.get(author)
        return mine is not None and not mine.released

    async def claim_due(self, limit: int) -> list[tuple[WatchedAuthor, AuthorLease]]:
        """Take the authors due now whose lease is free or expired (at most ``limit``,
        earliest first). Each comes with its lease; ``keep`` it while working on it."""
        now = self.clock.now()
        found = await self.repo.claim_due(self.owner, now, self.lease_s, limit)
        out = []
        for a in found:
            lease = self.lease(a.id, now)
            self._held[a.id] = lease
            out.append((a, lease))
        self.claimed += len(out)
        return out

    async def free_abandoned(self) -> int:
        """Free the leases other owners hold, when this process is the database's only one
        (SQLite): they are left over from a run that was killed, and waiting for them to
        run out would hold up every author that run was working on."""
        freed = await self.repo.free_leases(self.owner, self.clock.now())
        if freed:
            log.info("freed %d author leases a previous run left behind", freed)
        return freed

    @contextlib.asynccontextmanager
    async def hold(self, author: int) -> AsyncIterator[AuthorLease | None]:
        """The author's lease for the block, or None when another process (or this one,
        elsewhere) holds it: skip the author then, it is looked at again later."""
        mine = self._held.get(author)
        if mine is not None and not mine.released:
            yield None
            return
        now = self.clock.now()
        if not await self.repo.claim_author(author, self.owner, now, self.lease_s):
            yield None
            return
        lease = self.lease(author, now)
        self._held[author] = lease
        self.claimed += 1
        async with self.keep(lease):
            yield lease

    @contextlib.asynccontextmanager
    async def keep(self, lease: AuthorLease) -> AsyncIterator[AuthorLease]:
        """Renew a claimed lease while the block runs, release it after."""
        self._held[lease.author] = lease
        renewer = asyncio.create_task(self._renew(lease), name=f"lease-{lease.author}")
        try:
            yield lease
        finally:
            renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewer
            if self._held.get(lease.author) is lease:
                del self._held[lease.author]
            if lease.lost:
                self.lost += 1
            elif not lease.released:
                try:
                    await self.repo.release(lease.author, self.owner)
                except Exception:
                    # It runs out by itself.
                    log.warning("releasing the lease on author %s failed", lease.author)

    async def _renew(self, lease: AuthorLease) -> None:
        # Real time, not the service's clock: a renewal is due after this process ran
        # for a while, whatever a test's clock says.
        while True:
            await asyncio.sleep(self.lease_s / RENEWALS_PER_LEASE)
            if lease.released:
                return
            try:
                kept = await self.repo.renew(lease)
            except Exception:
                log.warning("renewing the lease on author %s failed", lease.author)
                continue
            if not kept:
                log.warning("the lease on author %s ran out while working on it", lease.author)
                lease.lost = True
                return
