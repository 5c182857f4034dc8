"""The subscriptions engine: poll what is due, post what has settled, resume what a crash
interrupted. Platform-free; the cog wires it to commands and the app."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from typing import Any

from bot.config import SubscriptionsConfig
from bot.delivery import Deliverer
from bot.errors import NotFound, Refused
from bot.models import Thread
from bot.sources import SourceRegistry, polling
from bot.unroller import Unroller
from cogs.subscriptions.author_lease import AuthorLease, LeaseLost
from cogs.subscriptions.clock import Clock
from cogs.subscriptions.delivery import Shown, ThreadDelivery
from cogs.subscriptions.leases import AuthorLeases
from cogs.subscriptions.model import AuthorThread, Subscription, SubThread, WatchedAuthor
from cogs.subscriptions.poller import Poller, host_of
from cogs.subscriptions.ratelimit import DatabaseBudgets, HostLimiter
from cogs.subscriptions.repo import ObservedThread, SubscriptionsRepo
from cogs.subscriptions.scheduler import Bounds
from cogs.subscriptions.settle import activity_time, is_settled, parse_time, settles_at
from storage.deliveries_repo import DeliveryRepo
from storage.leases import process_owner

log = logging.getLogger(__name__)

# A delivery still "delivering" this long after it was planned failed and is retried.
STUCK_S = 120.0
# Dates further ahead of the bot's clock than this are not believed.
FUTURE_SLACK_S = 300.0
# Authors polled at the same time.
CONCURRENCY = 16
# Rooms a settled thread is posted to at the same time.
ROOM_CONCURRENCY = 8
# Authors claimed per round (the rest stay due for the next round or another process).
CLAIM_LIMIT = 1000
# An author whose threads are due to settle while another process holds it is looked at
# again this much later.
HELD_RETRY_S = 5.0
# How long a claim on an author lasts without renewal ([storage] lease_s).
DEFAULT_LEASE_S = 60.0


def needs(st: SubThread | None, row: AuthorThread) -> bool:
    """Whether a subscription has something to do with a thread."""
    if st is None:
        return True
    if st.state in ("old", "delivering"):
        return False
    return st.version < row.version


def _is_old(t: AuthorThread, cutoff: float, now: float) -> bool:
    """Whether a thread was written before a subscription started (its first check may
    come later on a busy server). A date that cannot be read, or lies in the future,
    counts as old: the thread was there when it was first seen."""
    created = parse_time(t.root_created_at)
    return created is None or created < cutoff or created > now + FUTURE_SLACK_S


class SubscriptionService:
    def __init__(
        self,
        *,
        repo: SubscriptionsRepo,
        registry: SourceRegistry,
        unroller: Unroller,
        deliverer: Deliverer,
        deliveries: DeliveryRepo,
        adapters: Mapping[str, Any],
        shown: Shown,
        settings: SubscriptionsConfig,
        max_posts: int,
        clock: Clock,
        api_hosts: Mapping[str, str] | None = None,
        limiter: HostLimiter | None = None,
        lease_s: float = DEFAULT_LEASE_S,
        owner: str | None = None,
        only_process: bool = False,
    ) -> None:
        self.repo = repo
        self.unroller = unroller
        self.settings = settings
        self.max_posts = max_posts
        self.clock = clock
        # Sites whose authors are all served by one host (named by the site).
        self.api_hosts = dict(api_hosts or {})
        self.bounds = Bounds(settings.min_poll_interval_s, settings.max_poll_interval_s)
        # Every process on the database draws from one budget per host.
        self.limiter = limiter or HostLimiter(
            clock,
            {host: polling(name).per_window for name, host in self.api_hosts.items()},
            store=DatabaseBudgets(repo.db),
        )
        # Several processes may share the database: an author is worked on under a lease.
        self.leases = AuthorLeases(repo, clock, lease_s, owner or process_owner())
        # The database serves this process alone (SQLite): leases found at start are a
        # killed earlier run's, free at once.
        self.only_process = only_process
        self.poller = Poller(repo, registry, self.limiter, clock, self.bounds, self._refused)
        self.delivery = ThreadDelivery(
            repo, unroller, deliverer, deliveries, adapters, shown, clock
        )
        self.full_fetches = 0
        self._resumed = False
        self._to_process: set[int] = set()
        # Authors whose threads this process has looked at since it started: another
        # process may have left one waiting to settle (or posting) when it died.
        self._looked: set[int] = set()
        # When to look again at an author's threads that some subscription waits for: at
        # that moment the thread is fetched whole (which also shows any post added since
        # the last poll), without waiting for the author's next poll.
        self._settle_due: dict[int, float] = {}
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    # ---- hosts --------------------------------------------------------------------------

    def host_for(self, source: str, author_url: str, author_id: str) -> str:
        if source in self.api_hosts:
            return self.api_hosts[source]
        return host_of(author_url) or host_of(author_id) or source

    # ---- one round ----------------------------------------------------------------------

    async def tick(self) -> None:
        """Resume interrupted deliveries, poll every due author, post what settled. Each
        author is worked on under its lease: one another process holds is left to it."""
        now = self.clock.now()
        if not self._resumed:
            if self.only_process:
                await self.leases.free_abandoned()
            await self.delivery.resume_unfinished(hold=self.leases.hold)
            self._resumed = True
            # Threads a crash kept from being posted are posted now, not at the next poll.
            self._to_process |= set(await self.repo.followed_author_ids())
        else:
            await self.delivery.resume_unfinished(stuck_before=now - STUCK_S, hold=self.leases.hold)
        self._to_process |= self.delivery.look_again
        self.delivery.look_again.clear()
        due = await self.leases.claim_due(CLAIM_LIMIT)
        for author, at in list(self._settle_due.items()):
            if at <= now:
                del self._settle_due[author]
                self._to_process.add(author)
        forced, self._to_process = self._to_process, set()
        extra = forced - {a.id for a, _ in due}
        gate = asyncio.Semaphore(CONCURRENCY)

        async def one(a: WatchedAuthor, lease: AuthorLease) -> None:
            # Renewed from the claim on, also while waiting for a free slot.
            async with self.leases.keep(lease), gate:
                try:
                    await self.poll_author(a, force=a.id in forced, lease=lease)
                except LeaseLost:
                    log.warning("the lease on %s ran out: what its poll found is dropped", a.key)
                except Exception:
                    log.exception("polling %s failed", a.key)

        await asyncio.gather(*(one(a, lease) for a, lease in due))
        for a in (await self.repo.authors(extra)).values():
            try:
                await self.process(a)
            except Exception:
                log.exception("processing %s failed", a.key)

    async def poll_author(
        self,
        a: WatchedAuthor,
        force: bool = False,
        *,
        priority: bool = False,
        lease: AuthorLease | None = None,
    ) -> bool:
        """Poll one author, record what the poll saw, post what settled. ``lease`` is this
        round's claim on the author (the caller keeps it); without one the author's lease
        is taken here (False at once when another process holds it). Saving the poll gives
        the lease back; priming and posting after it take the author again."""
        if lease is None:
            async with self.leases.hold(a.id) as held:
                if held is None:
                    return False
                return await self.poll_author(a, force, priority=priority, lease=held)
        subs = await self.repo.subscriptions_of(a.id)
        unprimed = [s for s in subs if not s.primed]
        backfill = max((s.backfill for s in unprimed), default=0)
        result = await self.poller.poll(a, backfill, priority=priority, lease=lease)
        if not result.ok:
            if force:
                # The poll waits for budget or failed, but a thread may be due to settle:
                # that goes ahead on what earlier polls saw.
                await self.process(result.author)
            return False
        # Nothing new and nothing waiting to settle: no need to look at the threads (the
        # first look in this process's life may find what another process left waiting).
        if not (result.changed or unprimed or force or a.id not in self._looked):
            return True
        async with self.leases.hold(a.id) as held:
            if held is None:
                # Taken by another process since the poll: look again a little later.
                self._retry_held(a.id)
                return True
            try:
                if unprimed:
                    await self.prime(result.author, lease=held)
                await self.process(result.author, lease=held)
            except LeaseLost:
                log.warning("the lease on %s ran out while posting its threads", a.key)
        return True

    def _retry_held(self, author: int) -> None:
        at = self.clock.now() + HELD_RETRY_S
        self._settle_due[author] = min(self._settle_due.get(author, at), at)

    def wake(self, author: int | None = None) -> None:
        """Run a round soon (a new subscription, a backfill)."""
        if author is not None:
            self._to_process.add(author)
        self._wake.set()

    async def _refused(self, a: WatchedAuthor, lease: AuthorLease | None) -> None:
        # Threads written while the author opted out are never posted: when that ends,
        # the next poll records them as old, like a new subscription's first poll.
        subs = await self.repo.subscriptions_of(a.id)
        await self.repo.set_primed([s.id for s in subs], False, fence=lease)

    async def prime(self, a: WatchedAuthor, *, lease: AuthorLease | None = None) -> bool:
        """Record what exists for the author's new subscriptions (never posted). Without
        ``lease`` the author's lease is taken here (False when another process holds it:
        that process's next poll of the author does it)."""
        if lease is None:
            async with self.leases.hold(a.id) as held:
                if held is None:
                    return False
                return await self.prime(a, lease=held)
        subs = [s for s in await self.repo.subscriptions_of(a.id) if not s.primed]
        if not subs:
            return True
        threads = sorted(
            (t for t in (await self.repo.threads(a.id)).values() if t.kind == "thread"),
            key=lambda t: (t.root_created_at, t.root_id),
            reverse=True,
        )
        now = self.clock.now()
        for sub in subs:
            # What was written before the subscription is old, however late the first
            # poll came (a busy server); after an opt-out ended, what was written before
            # that moment is old too.
            # After an opt-out ended, everything that exists now is old.
            cutoff = now if await self.repo.sub_threads([sub.id]) else sub.created_at
            backfill = {t.root_id for t in threads[: sub.backfill]}
            old = [
                (t.root_id, t.version)
                for t in threads
                if t.root_id not in backfill and _is_old(t, cutoff, now)
            ]
            await self.repo.prime(sub.id, old, now, fence=lease)
            if len(old) < len(threads):
                self._to_process.add(a.id)
        return True

    # ---- settling and posting -----------------------------------------------------------

    async def process(self, a: WatchedAuthor, *, lease: AuthorLease | None = None) -> None:
        """Post the author's settled threads to every subscription that needs them, and
        make sure the author is polled again when the next thread would settle. Without
        ``lease`` the author's lease is taken here; when another process holds it, the
        author is looked at again a little later."""
        if lease is None:
            async with self.leases.hold(a.id) as held:
                if held is None:
                    self._retry_held(a.id)
                    return
                try:
                    await self.process(a, lease=held)
                except LeaseLost:
                    log.warning("the lease on %s ran out while posting its threads", a.key)
                return
        self._looked.add(a.id)
        current = await self.repo.author(a.id)
        if current is None or current.state != "active":
            return
        a = current
        subs = [s for s in await self.repo.subscriptions_of(a.id) if s.primed]
        if not subs:
            return
        rows = await self.repo.threads(a.id)
        sts = await self.repo.sub_threads([s.id for s in subs])
        now = self.clock.now()
        next_settle: float | None = None
        for row in sorted(rows.values(), key=lambda t: t.activity_at):
            if row.kind != "thread":
                continue
            waiting = [s for s in subs if needs(sts.get((s.id, row.root_id)), row)]
            if not waiting:
                continue
            settle_s = self.settings.settle_s
            if not is_settled(row.activity_at, row.post_count, now, settle_s, self.max_posts):
                at = settles_at(row.activity_at, row.post_count, settle_s, self.max_posts)
                next_settle = at if next_settle is None else min(next_settle, at)
                continue
            try:
                later = await self._settle(a, row, waiting, lease)
            except LeaseLost:
                raise
            except Exception:
                log.exception("posting %s failed", row.url)
                later = now + self.bounds.min_s  # try again soon
            if later is not None:
                next_settle = later if next_settle is None else min(next_settle, later)
        if next_settle is None:
            self._settle_due.pop(a.id, None)
        else:
            self._settle_due[a.id] = next_settle

    async def _settle(
        self,
        a: WatchedAuthor,
        row: AuthorThread,
        waiting: list[Subscription],
        lease: AuthorLease | None = None,
    ) -> float | None:
        """Fetch the whole thread once, reconcile it with what the polls saw, and post it
        to the waiting subscriptions if it is still settled. Returns when to look again if
        it turned out not to be settled."""
        now = self.clock.now()
        # A whole thread (Mastodon: the status and its context), and again every ten or so
        # levels.
        cost = polling(a.source).thread_requests + row.post_count // 10
        wait = await self.limiter.reserve(a.host, cost, priority=True)
        if wait > 0:
            return now + wait
        if lease is not None:
            # Not a request for a process whose lease ran out (stopped since it was taken).
            lease.check()
        self.full_fetches += 1
        try:
            base = await self.unroller.base_thread(row.url, refresh=True)
        except (Refused, NotFound) as exc:
            # Deleted or no longer public: never posted.
            log.info("thread %s is not available: %s", row.url, exc)
            await self.repo.set_thread_kind(a.id, row.root_id, "hidden", fence=lease)
            return None
        known = set(await self.repo.known_posts(a.id))
        observed = self._observe(a, base, row, known, now)
        if observed.root_id != row.root_id:
            await self.repo.merge_thread(a.id, row.root_id, observed, now, fence=lease)
        else:
            await self.repo.record(a.id, [observed], now, fence=lease)
        fresh = await self.repo.thread(a.id, observed.root_id)
        if fresh is None:
            return None
        first = base.posts[0] if base.posts else None
        if first is not None and first.status == "ok" and first.parent_id is not None:
            # The author's chain starts as a reply to someone else: not a thread of theirs.
            await self.repo.set_thread_kind(a.id, fresh.root_id, "reply", fence=lease)
            return None
        if not is_settled(
            fresh.activity_at, fresh.post_count, now, self.settings.settle_s, self.max_posts
        ):
            return settles_at(
                fresh.activity_at, fresh.post_count, self.settings.settle_s, self.max_posts
            )
        subs = await self.repo.subscriptions_of(a.id)
        sts = await self.repo.sub_threads([s.id for s in subs])
        targets = [s for s in subs if s.primed and needs(sts.get((s.id, fresh.root_id)), fresh)]
        gate = asyncio.Semaphore(ROOM_CONCURRENCY)

        async def one(sub: Subscription) -> bool:
            async with gate:
                try:
                    st = sts.get((sub.id, fresh.root_id))
                    return await self.delivery.handle(sub, fresh, base, st, lease)
                except LeaseLost:
                    raise
                except Exception:
                    log.exception("posting %s to %s failed", fresh.url, sub.channel)
                    return False

        done = await asyncio.gather(*(one(s) for s in targets))
        # A room that could not take it (adapter down, send failed) is tried again later.
        return None if all(done) else now + self.bounds.min_s

    def _observe(
        self, a: WatchedAuthor, thread: Thread, row: AuthorThread, known: set[str], now: float
    ) -> ObservedThread:
        mine = [p for p in thread.all_posts if p.status == "ok" and p.author.id == a.author_id]
        # Only posts not seen before can move the thread's activity on (a post dated in
        # the future must not look new at every fetch).
        newest = max(
            (
                activity_time(p.created_at, now if p.id not in known else row.activity_at)
                for p in mine
            ),
            default=row.activity_at,
        )
        first = thread.posts[0] if thread.posts else None
        return ObservedThread(
            root_id=thread.root_id,
            url=thread.url,
            root_created_at=first.created_at if first is not None else "",
            activity_at=newest,
            post_ids=tuple(p.id for p in mine),
        )

    # ---- running in the background ------------------------------------------------------

    async def run_forever(self) -> None:
        while True:
            try:
                await self.tick()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("a subscriptions round failed")
            times = [t for t in (await self.repo.next_poll_at(), *self._settle_due.values()) if t]
            now = self.clock.now()
            delay = min(times) - now if times else self.bounds.max_s
            await self._sleep_or_wake(min(max(delay, 1.0), self.bounds.max_s))

    async def _sleep_or_wake(self, delay: float) -> None:
        if self._wake.is_set():
            self._wake.clear()
            return
        sleeper = asyncio.ensure_future(self.clock.sleep(delay))
        waker = asyncio.ensure_future(self._wake.wait())
        try:
            await asyncio.wait({sleeper, waker}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (sleeper, waker):
                task.cancel()
            self._wake.clear()

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self.run_forever(), name="subscriptions")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
