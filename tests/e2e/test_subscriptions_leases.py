"""Several bot processes on one database share the followed authors: each is a whole bot
(its own database handle, HTTP client and chat connection) on the same database, the real
Bluesky source against the local fake, and one manual clock. Each author is polled once
per interval however many processes tick, a process whose lease ran out records nothing,
a killed process's authors are taken over once its leases run out, and the processes
share one request budget per host."""

from __future__ import annotations

import asyncio
import itertools
from collections import Counter, defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime

import pytest

from bot.adapters.memory import MemoryAdapter
from bot.app import App
from bot.config import (
    BlueskyConfig,
    Config,
    NetworkConfig,
    SourcesConfig,
    SubscriptionsConfig,
)
from bot.context import Room
from bot.http import HttpClient, HttpSettings
from bot.sources import SourceRegistry
from bot.sources.bluesky import BlueskySource
from cogs.subscriptions.clock import ManualClock
from cogs.subscriptions.cog import SubscriptionsCog
from cogs.subscriptions.model import AuthorThread, SubThread, WatchedAuthor
from cogs.subscriptions.ratelimit import POLL_SHARE, WINDOW_S
from cogs.subscriptions.service import SubscriptionService
from storage.db import Database
from tests.conftest import Engine
from tests.fakes.base import Fault
from tests.fakes.bluesky_server import FakeBluesky
from tests.fakes.thread_builder import ThreadBuilder

FEED = "/xrpc/app.bsky.feed.getAuthorFeed"
START = datetime(2026, 6, 1, 12, 0, tzinfo=UTC).timestamp()
INTERVAL_S = 60
LEASE_S = 30.0
AUTHORS = ["alice", "bob", "carol", "dave", "erin", "frank"]
ROOMS = [Room("memory", "scope-1", "room-a"), Room("memory", "scope-1", "room-b")]


@dataclass
class Proc:
    """One bot process."""

    name: str
    app: App
    cog: SubscriptionsCog
    chat: MemoryAdapter
    http: HttpClient

    @property
    def service(self) -> SubscriptionService:
        return self.cog.service

    own_db: bool = True

    async def close(self) -> None:
        if self.own_db:
            await self.app.close()
        else:
            await self.cog.stop()
            await self.app.http.close()
        await self.http.close()


async def start_process(
    name: str, engine: Engine, bsky: FakeBluesky, clock: ManualClock, shared: Database | None
) -> Proc:
    config = Config(
        storage=replace(engine.storage(), lease_s=LEASE_S),
        network=NetworkConfig(allow_private_addresses=True, retries=0),
        sources=SourcesConfig(bluesky=BlueskyConfig(appview_url=bsky.base_url)),
        subscriptions=SubscriptionsConfig(
            min_poll_interval_s=INTERVAL_S, max_poll_interval_s=900, settle_s=600, max_backfill=5
        ),
    )
    http = HttpClient(HttpSettings(allow_private_addresses=True, retries=0))
    sources = [BlueskySource(http, bsky.base_url)]
    if shared is None:
        app = await App.create(config, sources=sources, extensions=[])
    else:
        app = App(config, shared, HttpClient(HttpSettings()), SourceRegistry(sources))
    app.layouts.default = "per-post"
    cog = SubscriptionsCog.from_host(app, clock=clock)
    # Separate processes in one test process: each names itself, none is the database's
    # only process (as SQLite is in production).
    cog.service.leases.owner = f"{name}:{id(cog)}"
    cog.service.only_process = False
    app.dispatcher.register(cog)
    chat = MemoryAdapter(app.dispatcher)
    app.adapters["memory"] = chat
    return Proc(name, app, cog, chat, http, own_db=shared is None)


@dataclass
class Cluster:
    procs: list[Proc]
    clock: ManualClock
    bsky: FakeBluesky
    b: ThreadBuilder
    # author DID -> clock times of its polls
    polls: defaultdict[str, list[float]]
    _seen: int = 0
    _rounds: int = 0

    def note_polls(self) -> None:
        for rec in self.bsky.requests[self._seen :]:
            if rec.path == FEED:
                actor = dict(rec.query)["actor"]
                self.polls[actor].append(self.clock.now())
        self._seen = len(self.bsky.requests)

    async def tick(self, procs: list[Proc] | None = None) -> None:
        """Every (given) process runs a round at the same moment, a different one first
        each time (which process comes first to the due authors varies in real life)."""
        order = procs or self.procs
        self._rounds += 1
        k = self._rounds % len(order)
        await asyncio.gather(*(p.service.tick() for p in order[k:] + order[:k]))
        self.note_polls()

    async def run(self, seconds: float, procs: list[Proc] | None = None) -> None:
        end = self.clock.now() + seconds
        while self.clock.now() < end:
            await self.clock.advance(min(30.0, end - self.clock.now()))
            await self.tick(procs)

    def thread(self, author: str, n: int, text: str, parent: str | None = None) -> str:
        """Write a thread of ``n`` posts (below ``parent``: a continuation); its last post."""
        for i in range(1, n + 1):
            at = datetime.fromtimestamp(self.clock.now() - (n - i) * 5, UTC)
            parent = self.b.post(author, f"{text} {i}/{n}", parent=parent, at=at)
        self.bsky.add_thread(self.b.build())
        assert parent is not None
        return parent

    def sent_texts(self, room: Room) -> list[str]:
        return [
            s.text.split("\n")[-1]
            for p in self.procs
            for s in p.chat.sent
            if s.ref.channel == room.channel and s.thread is not None
        ]

    def handle(self, author: str) -> str:
        """What polls name the author by (its DID)."""
        return self.bsky.did(author)


@pytest.fixture
async def cluster(engine: Engine) -> AsyncIterator[Cluster]:
    async with FakeBluesky() as bsky:
        clock = ManualClock(START)
        b = ThreadBuilder(start=datetime.fromtimestamp(START - 86400 * 3, UTC))
        for name in AUTHORS:
            b.author(name, handle=f"{name}.example.com", name=name.title())
        bsky.add_thread(b.build())
        # Each process has its own database handle. SQLite serves one process by design
        # (its readers do not wait for other handles' writers): there the processes share
        # one handle, their leases are still each their own.
        shared = await engine.open() if engine.dialect == "sqlite" else None
        procs = [await start_process(f"p{i}", engine, bsky, clock, shared) for i in range(3)]
        c = Cluster(procs, clock, bsky, b, defaultdict(list))
        try:
            for room in ROOMS:
                for name in AUTHORS:
                    ctx = await procs[0].chat.command(
                        f"subscribe {name}.example.com", moderator=True, room=room
                    )
                    assert "Following" in ctx.replies[0].text
            c.note_polls()
            yield c
        finally:
            for p in procs:
                await p.close()
            if shared is not None:
                await shared.close()


async def author_named(p: Proc, name: str) -> WatchedAuthor:
    repo = p.service.repo
    subs = await repo.all_subscriptions()
    found = [
        a
        for a in (await repo.authors(s.author for s in subs)).values()
        if a.handle.startswith(name)
    ]
    assert len(found) == 1
    return found[0]


def gaps(times: list[float]) -> list[float]:
    return [b - a for a, b in itertools.pairwise(times)]


async def test_each_author_is_polled_once_per_interval_however_many_processes_tick(
    cluster: Cluster,
) -> None:
    start = cluster.clock.now()
    at_start = [p.service.poller.polls for p in cluster.procs]
    for name in AUTHORS[:3]:
        cluster.thread(name, 3, f"{name} news")
    await cluster.run(1800)
    for name in AUTHORS:
        times = [t for t in cluster.polls[cluster.handle(name)] if t > start]
        assert len(times) >= 3, f"{name} polled {len(times)} times"
        assert min(gaps(times)) >= INTERVAL_S, f"{name} polled twice within an interval"
    # The polling was shared out between the processes.
    polled = [
        p.service.poller.polls - before for p, before in zip(cluster.procs, at_start, strict=True)
    ]
    assert sum(1 for n in polled if n) >= 2, polled
    # Each settled thread is posted once per room, whichever process posted it.
    for room in ROOMS:
        texts = Counter(cluster.sent_texts(room))
        assert sorted(texts) == sorted(
            f"{name} news {i}/3" for name in AUTHORS[:3] for i in range(1, 4)
        )
        assert set(texts.values()) == {1}, f"posted twice in {room.channel}: {texts}"


async def test_a_process_whose_lease_ran_out_records_nothing_and_another_takes_over(
    cluster: Cluster,
) -> None:
    slow, other = cluster.procs[0], cluster.procs[1]
    await cluster.run(INTERVAL_S * 2)
    repo = slow.service.repo
    alice = await author_named(slow, "alice")
    cluster.thread("alice", 2, "late")
    await cluster.clock.advance(alice.next_poll_at - cluster.clock.now())
    before = await repo.author(alice.id)
    threads_before = await repo.threads(alice.id)
    assert before is not None
    # The slow process claims alice and its poll goes out; the answer comes late, after
    # its lease ran out (its timers did not run meanwhile: the clock jumps).
    cluster.bsky.latency_s = 0.3
    seen = len(cluster.bsky.requests)
    slow_round = asyncio.create_task(slow.service.tick())
    while not any(r.path == FEED for r in cluster.bsky.requests[seen:]):  # noqa: ASYNC110
        await asyncio.sleep(0.01)
    claimed_at = cluster.clock.now()
    cluster.clock._now += LEASE_S + 1
    await slow_round
    cluster.bsky.latency_s = 0.0
    cluster.note_polls()
    after = await repo.author(alice.id)
    assert after is not None
    # Nothing of that poll was kept: no thread, no poll time.
    assert after.last_poll_at == before.last_poll_at
    assert await repo.threads(alice.id) == threads_before
    assert slow.service.leases.lost >= 1
    # Not due again for the others before its interval has passed since that claim.
    polled = len(cluster.polls[cluster.handle("alice")])
    await cluster.tick([other])
    assert len(cluster.polls[cluster.handle("alice")]) == polled
    await cluster.clock.advance(claimed_at + before.interval_s - cluster.clock.now())
    await cluster.tick([other])
    assert len(cluster.polls[cluster.handle("alice")]) == polled + 1
    threads = await repo.threads(alice.id)
    assert any(t.post_count == 2 and t.first_seen_at > claimed_at for t in threads.values())
    # The thread is posted once, by the process that took alice over.
    await cluster.run(900, [other])
    for room in ROOMS:
        assert Counter(cluster.sent_texts(room)) == {"late 1/2": 1, "late 2/2": 1}


async def test_a_process_paused_past_its_lease_sends_no_poll_when_it_goes_on(
    cluster: Cluster,
) -> None:
    """A process stopped (SIGSTOP) in the middle of a poll, after its claim and before its
    request, goes on once its lease ran out and another process polled the author: it
    sends nothing, so the server never sees the author polled twice within an interval."""
    paused, other = cluster.procs[0], cluster.procs[1]
    await cluster.run(INTERVAL_S * 2)
    alice = await author_named(paused, "alice")
    await cluster.clock.advance(alice.next_poll_at - cluster.clock.now())
    # The paused process stops once its polls have their share of the host's budget, just
    # before asking for the posts; none of its timers run meanwhile.
    stopped, resumed = asyncio.Event(), asyncio.Event()
    reserve = paused.service.limiter.reserve

    async def reserve_then_stop(host: str, cost: float = 1.0, *, priority: bool = False) -> float:
        wait = await reserve(host, cost, priority=priority)
        stopped.set()
        await resumed.wait()
        return wait

    paused.service.limiter.reserve = reserve_then_stop  # type: ignore[method-assign]
    paused_round = asyncio.create_task(paused.service.tick())
    async with asyncio.timeout(10):
        await stopped.wait()
    assert paused.service.leases.holds(alice.id)
    # Its lease runs out, alice is due again, and another process polls her.
    cluster.clock._now += max(LEASE_S, alice.interval_s)
    polled = len(cluster.polls[cluster.handle("alice")])
    await cluster.tick([other])
    assert len(cluster.polls[cluster.handle("alice")]) == polled + 1
    seen = len(cluster.bsky.requests)
    resumed.set()
    await paused_round
    late = [dict(r.query)["actor"] for r in cluster.bsky.requests[seen:] if r.path == FEED]
    assert late == [], f"polled after the lease ran out: {late}"
    assert paused.service.leases.lost >= 1
    cluster.note_polls()
    times = cluster.polls[cluster.handle("alice")]
    assert min(gaps(times)) >= INTERVAL_S, f"alice polled twice within an interval: {times}"


async def test_a_killed_processs_authors_are_taken_over_once_its_leases_run_out(
    cluster: Cluster,
) -> None:
    doomed, survivor = cluster.procs[2], cluster.procs[0]
    await cluster.run(INTERVAL_S * 2)
    repo = survivor.service.repo
    soonest = await repo.next_poll_at()
    assert soonest is not None
    await cluster.clock.advance(soonest + INTERVAL_S - cluster.clock.now())
    # The doomed process claims every due author, then dies before polling any.
    claimed = await doomed.service.leases.claim_due(100)
    assert len(claimed) == len(AUTHORS)
    killed_at = cluster.clock.now()
    await doomed.close()
    cluster.procs.remove(doomed)
    for name in AUTHORS:
        cluster.thread(name, 2, f"{name} after the crash")
    start = len(cluster.bsky.requests)
    await cluster.run(LEASE_S)
    assert not any(r.path == FEED for r in cluster.bsky.requests[start:])
    # Once the leases ran out and the interval passed, the others poll every author and
    # post what the dead process never got to.
    await cluster.run(INTERVAL_S + 900)
    for name in AUTHORS:
        assert any(t > killed_at + LEASE_S for t in cluster.polls[cluster.handle(name)])
    owner, _ = await repo.lease_of(claimed[0][0].id)
    assert owner != doomed.service.leases.owner
    for room in ROOMS:
        assert Counter(cluster.sent_texts(room)) == {
            f"{name} after the crash {i}/2": 1 for name in AUTHORS for i in (1, 2)
        }


async def test_requests_to_a_host_across_processes_stay_within_one_budget(
    cluster: Cluster,
) -> None:
    alice = await author_named(cluster.procs[0], "alice")
    # A host allowing 4 requests per 5 minutes (polls may use 80% of it): the six authors
    # would need about 35 in half an hour, each process alone would allow 20 of them.
    for p in cluster.procs:
        p.service.limiter.limits[alice.host] = 4
    capacity = 4 * POLL_SHARE
    seen = len(cluster.bsky.requests)
    cluster.thread("alice", 2, "busy host")
    await cluster.run(1800)
    sent = len(cluster.bsky.requests) - seen
    # One bucket for all: at most a full bucket plus the refill over the run, where three
    # buckets of their own would have allowed three times the refill.
    assert sent <= capacity + capacity * 1800 / WINDOW_S
    assert sent >= capacity * 1800 / WINDOW_S * 0.8
    assert sum(p.service.limiter.stats()[alice.host]["throttled"] for p in cluster.procs) > 0
    # The thread still got through: settling a thread has priority on the budget.
    for room in ROOMS:
        assert Counter(cluster.sent_texts(room)) == {"busy host 1/2": 1, "busy host 2/2": 1}


async def test_a_429_seen_by_one_process_pauses_the_host_for_all(cluster: Cluster) -> None:
    await cluster.run(INTERVAL_S * 2)
    cluster.bsky.inject(FEED, Fault(429, {"error": "RateLimitExceeded"}, {"Retry-After": "600"}))
    while not any(p.service.limiter.rate_limited for p in cluster.procs):
        await cluster.run(30)
    refused_at = cluster.clock.now()
    [told] = [p for p in cluster.procs if p.service.limiter.rate_limited]
    others = [p for p in cluster.procs if p is not told]
    # Every author is due again at once (as when a moderator names them again).
    repo = told.service.repo
    for a in (await repo.authors(s.author for s in await repo.all_subscriptions())).values():
        await repo.save_poll_state(replace(a, next_poll_at=refused_at))
    seen = len(cluster.bsky.requests)
    # Only the processes that were not told poll meanwhile: they send nothing either.
    await cluster.run(570, others)
    assert len(cluster.bsky.requests) == seen, "a process sent to the host while it was closed"
    # They had authors due meanwhile: the closed host held them back.
    host = (await author_named(told, "alice")).host
    held_back = [p.service.limiter.stats().get(host, {}).get("throttled", 0) for p in others]
    assert sum(held_back) > 0
    await cluster.run(refused_at + 600 + 60 - cluster.clock.now(), others)
    assert len(cluster.bsky.requests) > seen


async def test_threads_an_author_posts_reach_rooms_whose_platform_another_process_holds(
    cluster: Cluster, caplog: pytest.LogCaptureFixture
) -> None:
    """Only one process holds a platform's session (Matrix): the others stand by for it
    but still poll. A standby that settles a thread plans it, and the holder posts it at its
    next round: every thread reaches every room once, nothing is reported as failing."""
    caplog.set_level("INFO", logger="cogs.subscriptions")
    holder, *standbys = cluster.procs
    for p in standbys:
        p.chat.live = False  # another process holds the session
    await cluster.run(600)  # every process has looked at every author once
    last = {name: cluster.thread(name, 3, f"{name} news") for name in AUTHORS}
    # The threads settle while only the standbys run rounds (the holder is busy).
    await cluster.run(1200, procs=standbys)
    assert all(not p.chat.sent for p in cluster.procs)
    await cluster.run(120)

    for room in ROOMS:
        texts = Counter(cluster.sent_texts(room))
        assert sorted(texts) == sorted(
            f"{name} news {i}/3" for name in AUTHORS for i in range(1, 4)
        )
        assert set(texts.values()) == {1}, f"posted twice in {room.channel}: {texts}"
    assert all(not p.chat.sent for p in standbys)
    # Standbys did settle some of the threads: they planned them for the holder.
    assert any("the process holding it sends it" in r.getMessage() for r in caplog.records)
    subs = await holder.service.repo.all_subscriptions()
    assert [s.last_error for s in subs if s.last_error] == []

    # Two authors go on with their threads; again only the standbys see it first. They
    # hand the threads to the holder, which appends the new posts to the same chat threads.
    for name in AUTHORS[:2]:
        cluster.thread(name, 2, f"{name} more", parent=last[name])
    sent_before = len(holder.chat.sent)
    await cluster.run(1200, procs=standbys)
    assert len(holder.chat.sent) == sent_before and all(not p.chat.sent for p in standbys)
    await cluster.run(300)
    for room in ROOMS:
        texts = Counter(cluster.sent_texts(room))
        more = [texts[f"{name} more {i}/2"] for name in AUTHORS[:2] for i in (1, 2)]
        assert more == [1, 1, 1, 1], f"{room.channel}: {texts}"
        assert set(texts.values()) == {1}, f"posted twice in {room.channel}: {texts}"


async def test_a_thread_is_not_posted_while_another_process_works_on_its_author(
    cluster: Cluster,
) -> None:
    busy, other = cluster.procs[0], cluster.procs[1]
    alice = await author_named(busy, "alice")
    cluster.thread("alice", 2, "held")
    await cluster.run(120, [other])  # the other process polls alice and sees the thread
    assert cluster.sent_texts(ROOMS[0]) == []
    # While the busy process works on alice (posting a long thread, say), the thread
    # settles: the other process leaves alice alone and looks again a little later.
    async with busy.service.leases.hold(alice.id) as held:
        assert held is not None
        for _ in range(45):
            # Renewed as its renewer does while the work runs (in real time; the test's
            # clock runs far faster).
            assert await busy.service.repo.renew(held)
            await cluster.run(20, [other])
        assert cluster.sent_texts(ROOMS[0]) == []
        assert other.service.leases.holds(alice.id) is False
    await cluster.run(60, [other])
    for room in ROOMS:
        assert Counter(cluster.sent_texts(room)) == {"held 1/2": 1, "held 2/2": 1}


async def test_a_thread_a_killed_process_meant_to_post_is_posted_without_a_new_post(
    cluster: Cluster,
) -> None:
    """A process recorded that it was about to post a thread to a room, then died before
    planning it. Another process, which had already looked at the author, finds the intent
    abandoned and posts the thread at once: it does not wait for the author's next post
    (which may never come)."""
    await cluster.run(600)  # every process has looked at every author
    p = cluster.procs[0]
    repo = p.service.repo
    alice = await author_named(p, "alice")
    cluster.thread("alice", 3, "orphaned")
    rows: list[AuthorThread] = []
    deadline = cluster.clock.now() + 500  # well before it settles (settle_s)
    while not rows:
        assert cluster.clock.now() < deadline, "alice's new thread was never polled"
        await cluster.run(30)
        rows = [t for t in (await repo.threads(alice.id)).values() if t.post_count == 3]
    [row] = rows
    # Just before the thread settles, a process records that it is posting it to room-a
    # and dies; room-b gets it from whichever process settles it.
    await cluster.run(row.activity_at + 600 - 45 - cluster.clock.now())
    sub_a = next(s for s in await repo.subscriptions_of(alice.id) if s.channel == "room-a")
    died_at = cluster.clock.now()
    await repo.set_sub_thread(
        SubThread(sub_a.id, row.root_id, "delivering", None, row.version, None, died_at, None),
        died_at,
    )
    await cluster.run(1200)
    for room in ROOMS:
        texts = Counter(cluster.sent_texts(room))
        assert [texts[f"orphaned {i}/3"] for i in range(1, 4)] == [1, 1, 1], room.channel
