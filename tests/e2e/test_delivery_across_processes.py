"""Exactly-once delivery with two bot processes on one database: each is an App with its own
database handle and its own connection to one chat platform that dedupes idempotency keys
(like Matrix transaction ids). A sender paused past its lease is taken over and records
nothing more; a killed sender's delivery is finished by the other process's sweep; two
processes asked to post the same thread in one channel post it once; an edit waits for the
sender. Every post lands exactly once, in order, in one chat thread."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import pytest

from bot.adapters.memory import MemoryAdapter, MemoryContext
from bot.app import App
from bot.config import Config, NetworkConfig, UnrollConfig
from bot.context import MessageRef, Room
from bot.dispatcher import Dispatcher
from bot.http import HttpClient, HttpSettings
from bot.render.document import Capabilities, Message
from bot.render.thread_view import thread_messages
from bot.sources.bluesky import BlueskySource
from cogs.subscriptions.clock import ManualClock
from cogs.subscriptions.cog import SubscriptionsCog
from storage.db import Database
from storage.deliveries_repo import DeliveryRecord
from storage.layouts_repo import LayoutRepo
from tests.conftest import PASSWORD_ENV, Engine
from tests.e2e.test_delivery_packed import SMALL, chain, numbers, sentences
from tests.e2e.test_subscriptions_flow import ROOM, START, make_app
from tests.fakes.bluesky_server import FakeBluesky
from tests.fakes.thread_builder import ThreadBuilder
from tests.postgres import PASSWORD, PostgresServer

LEASE_S = 2.0  # the shortest [storage] lease_s: the sweep runs every second
T0 = 1_000_000.0


class Chat(MemoryAdapter):
    """One process's connection to a chat platform it shares with the other process: what
    either sends, both see, and a key sent before returns the first message. ``stall_at``:
    the send that reaches the platform and then hangs (its answer never gets back) until
    ``go`` is set: the message in flight at a kill or a long pause."""

    def __init__(
        self,
        dispatcher: Dispatcher,
        capabilities: Capabilities | None = None,
        platform: MemoryAdapter | None = None,
    ) -> None:
        super().__init__(dispatcher, capabilities)
        if platform is not None:
            self.sent, self.threads = platform.sent, platform.threads
            self._ids, self._by_key = platform._ids, platform._by_key
        self.stall_at: int | None = None
        self.fail_at: int | None = None  # the send the platform refuses, once
        self.on_send: Callable[[], Awaitable[None]] | None = None  # runs during each send
        self.stalled = asyncio.Event()
        self.go = asyncio.Event()
        self.sends = 0

    async def send(
        self,
        room: Room,
        message: Message,
        *,
        thread: MessageRef | None = None,
        key: str | None = None,
    ) -> list[MessageRef]:
        if self.fail_at == self.sends + 1:
            self.fail_at = None
            raise ConnectionError("platform went away")
        refs = await super().send(room, message, thread=thread, key=key)
        self.sends += 1
        if self.on_send is not None:
            await self.on_send()
        if self.stall_at == self.sends:
            self.stalled.set()
            await self.go.wait()
        return refs


@pytest.fixture
async def bsky() -> AsyncIterator[FakeBluesky]:
    async with FakeBluesky() as server:
        yield server


@pytest.fixture
async def pair(engine: Engine, bsky: FakeBluesky) -> AsyncIterator[tuple[App, App]]:
    """Two bot processes on one database, with the shortest lease."""
    http = HttpClient(HttpSettings(allow_private_addresses=True, retries=1, backoff_base_s=0.01))
    config = Config(
        storage=dataclasses.replace(engine.storage(), lease_s=LEASE_S),
        network=NetworkConfig(allow_private_addresses=True, retries=1),
        unroll=UnrollConfig(max_posts=500, cache_ttl_s=600),
    )
    apps: list[App] = []
    try:
        for _ in range(2):
            app = await App.create(config, sources=[BlueskySource(http, bsky.base_url)])
            apps.append(app)
        yield apps[0], apps[1]
    finally:
        for app in apps:
            await app.close()
        await http.close()


def _fake_clock(*apps: App) -> list[float]:
    """One clock for both processes' leases, moved by the test."""
    now = [T0]
    for app in apps:
        app.deliverer.clock = lambda: now[0]
    return now


def _chain(bsky: FakeBluesky, n: int) -> str:
    b = ThreadBuilder()
    keys = b.chain(b.author("alice"), n)
    bsky.add_thread(b.build())
    return bsky.url(keys[0])


def _in_thread(chat: MemoryAdapter) -> list[str]:
    return [s.text for s in chat.sent if s.thread]


def _keys_once(chat: MemoryAdapter) -> None:
    keys = [s.key for s in chat.sent]
    assert len(keys) == len(set(keys)), "a message was posted twice"


async def _only(app: App, url: str) -> DeliveryRecord:
    thread = await app.unroller.unroll(url)
    [record] = await app.deliveries.for_thread(thread.root_id)
    return record


async def test_a_sender_paused_past_its_lease_is_taken_over_and_each_post_lands_once(
    pair: tuple[App, App], bsky: FakeBluesky
) -> None:
    a, b = pair
    a.layouts.default = b.layouts.default = "per-post"
    now = _fake_clock(a, b)
    url = _chain(bsky, 8)
    chat_a = Chat(a.dispatcher)
    chat_b = Chat(b.dispatcher, platform=chat_a)
    chat_a.stall_at = 4  # the header and posts 1-3 reached the platform; 3 is not recorded
    unroll = asyncio.create_task(chat_a.command(f"unroll {url}"))
    await asyncio.wait_for(chat_a.stalled.wait(), 10)

    assert await b.resume_pending(chat_b) == 0  # a live sender's delivery is not taken
    now[0] += LEASE_S + 1  # process A is paused past its lease
    assert await b.resume_pending(chat_b) == 1
    chat_a.go.set()  # A wakes up: it may not record post 3, and stops
    ctx = await asyncio.wait_for(unroll, 10)

    assert _in_thread(chat_a) == [f"Part {i}/8" for i in range(1, 9)]
    assert len([s for s in chat_a.sent if s.thread is None]) == 1
    _keys_once(chat_a)
    assert chat_a.sends == 4  # A sent nothing after it woke
    assert chat_b.sends == 6  # post 3 again (deduplicated by its key), then 4-8
    record = await _only(b, url)
    assert record.state == "sent" and record.fence == 2 and record.lease_owner is None
    # The user who asked is told the thread was unrolled, not that anything failed.
    assert ctx.replies[-1].text.startswith("Unrolled 8 posts")


async def test_a_slow_sender_that_renews_its_lease_is_never_taken_over(
    pair: tuple[App, App], bsky: FakeBluesky
) -> None:
    a, b = pair
    a.layouts.default = b.layouts.default = "per-post"
    now = _fake_clock(a, b)
    url = _chain(bsky, 8)
    chat_a = Chat(a.dispatcher)
    chat_b = Chat(b.dispatcher, platform=chat_a)
    taken: list[int] = []

    async def slow_platform() -> None:
        # Each message takes 40 % of a lease; the other process sweeps meanwhile.
        now[0] += 0.4 * LEASE_S
        taken.append(await b.resume_pending(chat_b))

    chat_a.on_send = slow_platform
    ctx = await chat_a.command(f"unroll {url}")
    assert now[0] - T0 > 3 * LEASE_S  # the delivery outlived several leases
    assert len(taken) == 9 and set(taken) == {0} and chat_b.sends == 0
    assert _in_thread(chat_a) == [f"Part {i}/8" for i in range(1, 9)]
    assert ctx.replies[-1].text.startswith("Unrolled 8 posts")
    record = await _only(a, url)
    assert record.state == "sent" and record.fence == 1


async def test_a_killed_senders_delivery_is_finished_by_the_other_process_sweep(
    pair: tuple[App, App], bsky: FakeBluesky
) -> None:
    a, b = pair
    now = _fake_clock(a, b)
    url = bsky.url(chain(bsky, sentences(30))[0])
    chat_a = Chat(a.dispatcher, SMALL)
    chat_b = Chat(b.dispatcher, SMALL, platform=chat_a)
    chat_a.stall_at = 3  # the header and two packed messages: the second one in flight
    killed = asyncio.create_task(chat_a.command(f"unroll {url}"))
    await asyncio.wait_for(chat_a.stalled.wait(), 10)

    # Process B runs the adapter too: connected, then sweeping every half lease.
    b.adapters[chat_b.name] = chat_b
    assert await b.resume_pending(chat_b) == 0
    b.start_sweeping()
    await asyncio.sleep(LEASE_S)
    assert await b.deliveries.pending("memory") != []  # A's lease still counts
    now[0] += LEASE_S + 1  # A never renews again: killed
    for _ in range(100):
        if not await b.deliveries.pending("memory"):
            break
        await asyncio.sleep(0.1)
    assert await b.deliveries.pending("memory") == []

    assert numbers(_in_thread(chat_a), 30) == list(range(1, 31))
    assert {s.thread for s in chat_a.sent[1:]} == {"tm1"}
    _keys_once(chat_a)
    killed.cancel()
    with pytest.raises(asyncio.CancelledError):
        await killed
    record = await _only(b, url)
    assert record.state == "sent" and record.fence == 2


async def test_two_processes_asked_for_one_thread_in_one_channel_post_it_once(
    pair: tuple[App, App], bsky: FakeBluesky
) -> None:
    a, b = pair
    url = _chain(bsky, 5)
    chat_a = Chat(a.dispatcher)
    chat_b = Chat(b.dispatcher, platform=chat_a)
    first, second = await asyncio.gather(
        chat_a.command(f"unroll {url}"), chat_b.command(f"unroll {url}")
    )
    assert len([s for s in chat_a.sent if s.thread is None]) == 1
    replies = [r.text for r in first.replies + second.replies]
    assert sum("already unrolled here" in t for t in replies) == 1
    # Another channel still gets its own copy.
    other = Room("memory", "scope-1", "channel-2")
    await chat_b.command(f"unroll {url}", room=other)
    assert len([s for s in chat_a.sent if s.thread is None]) == 2


async def test_asking_again_after_a_failed_unroll_finishes_it_instead_of_posting_twice(
    pair: tuple[App, App], bsky: FakeBluesky
) -> None:
    a, _ = pair
    a.layouts.default = "per-post"
    url = _chain(bsky, 6)
    chat = Chat(a.dispatcher)
    chat.fail_at = 4  # the header and posts 1-2 are posted, then the platform fails
    ctx = await chat.command(f"unroll {url}")
    assert "Sorry" in ctx.replies[-1].text
    ctx = await chat.command(f"unroll {url}")
    assert ctx.replies[-1].text.startswith("Unrolled 6 posts")
    assert len([s for s in chat.sent if s.thread is None]) == 1
    assert _in_thread(chat) == [f"Part {i}/6" for i in range(1, 7)]
    assert await a.deliveries.pending("memory") == []


async def test_asking_another_process_for_a_thread_a_killed_one_was_posting_finishes_it(
    pair: tuple[App, App], bsky: FakeBluesky
) -> None:
    a, b = pair
    a.layouts.default = b.layouts.default = "per-post"
    now = _fake_clock(a, b)
    url = _chain(bsky, 6)
    chat_a = Chat(a.dispatcher)
    chat_b = Chat(b.dispatcher, platform=chat_a)
    chat_a.stall_at = 3
    killed = asyncio.create_task(chat_a.command(f"unroll {url}"))
    await asyncio.wait_for(chat_a.stalled.wait(), 10)
    # The user asks again, and process B answers: it waits for A's lease to run out.
    again = asyncio.create_task(chat_b.command(f"unroll {url}"))
    await asyncio.sleep(0.5)
    assert not again.done() and chat_b.sends == 0
    now[0] += LEASE_S + 1
    ctx = await asyncio.wait_for(again, 10)
    assert ctx.replies[-1].text.startswith("Unrolled 6 posts")
    assert len([s for s in chat_a.sent if s.thread is None]) == 1
    await _every_part_once(chat_a, killed)


async def test_an_edit_waits_for_the_sender_and_rewrites_every_message(
    pair: tuple[App, App], bsky: FakeBluesky
) -> None:
    a, b = pair
    a.layouts.default = b.layouts.default = "per-post"
    url = _chain(bsky, 5)
    chat_a = Chat(a.dispatcher)
    chat_b = Chat(b.dispatcher, platform=chat_a)
    chat_a.stall_at = 3
    unroll = asyncio.create_task(chat_a.command(f"unroll {url}"))
    await asyncio.wait_for(chat_a.stalled.wait(), 10)
    record = (await b.deliveries.pending("memory"))[0]
    thread = await b.unroller.unroll(url)

    async def render(rec: DeliveryRecord) -> Sequence[Message]:
        return thread_messages(thread)

    edit = asyncio.create_task(b.deliverer.edit(chat_b, record, render))
    await asyncio.sleep(0.5)
    assert not edit.done()  # it waits for the sender instead of racing it
    chat_a.go.set()
    await asyncio.wait_for(unroll, 10)
    assert await asyncio.wait_for(edit, 10) == 6  # the header and all five posts
    assert all(s.edits for s in chat_a.sent)
    _keys_once(chat_a)


@dataclasses.dataclass
class Subscribed:
    """Two bot processes with the subscriptions cog on one database and one manual clock,
    both chats on one platform, and a room following alice."""

    clock: ManualClock
    a: App
    cog_a: SubscriptionsCog
    chat_a: Chat
    b: App
    cog_b: SubscriptionsCog
    chat_b: Chat
    builder: ThreadBuilder
    bsky: FakeBluesky

    def write_thread(self, word: str, posts: int) -> None:
        """Alice writes "<word> 1/N" ... just now, five seconds apart."""
        parent = None
        for i in range(1, posts + 1):
            at = datetime.fromtimestamp(START - (posts - i) * 5, UTC)
            parent = self.builder.post("alice", f"{word} {i}/{posts}", parent=parent, at=at)
        self.bsky.add_thread(self.builder.build())

    async def tick_a_until(self, reached: asyncio.Event) -> asyncio.Task[None]:
        """Process A's rounds until one of them reaches ``reached`` (and waits there);
        returns that round, still running."""
        for _ in range(40):
            await self.clock.advance(30)
            tick = asyncio.create_task(self.cog_a.service.tick())
            waiting = asyncio.create_task(reached.wait())
            await asyncio.wait({tick, waiting}, return_when=asyncio.FIRST_COMPLETED)
            waiting.cancel()
            if reached.is_set():
                return tick
            await tick
        raise AssertionError("process A never reached the point it was to stop at")


@asynccontextmanager
async def subscribed(
    engine: Engine, bsky: FakeBluesky, *, delivery_clock: bool = True
) -> AsyncIterator[Subscribed]:
    """``delivery_clock``: delivery leases on the manual clock too (else the wall's)."""
    clock = ManualClock(START)
    storage = dataclasses.replace(engine.storage(), lease_s=LEASE_S)
    (a, cog_a, http_a), (b, cog_b, http_b) = [
        await make_app(storage, bsky, clock) for _ in range(2)
    ]
    try:
        if delivery_clock:
            for app in (a, b):
                app.deliverer.clock = clock.now
        chat_a = Chat(a.dispatcher)
        chat_b = Chat(b.dispatcher, platform=chat_a)
        a.adapters[chat_a.name], b.adapters[chat_b.name] = chat_a, chat_b
        builder = ThreadBuilder(start=datetime.fromtimestamp(START - 86400 * 3, UTC))
        builder.author("alice", handle="alice.example.com", name="Alice")
        bsky.add_thread(builder.build())
        await chat_a.command("subscribe alice.example.com", moderator=True, room=ROOM)
        yield Subscribed(clock, a, cog_a, chat_a, b, cog_b, chat_b, builder, bsky)
    finally:
        for app, cog, http in ((a, cog_a, http_a), (b, cog_b, http_b)):
            await cog.stop()
            await app.close()
            await http.close()


async def test_a_subscription_delivery_of_a_paused_process_is_finished_by_the_other(
    engine: Engine, bsky: FakeBluesky
) -> None:
    async with subscribed(engine, bsky) as s:
        s.write_thread("Cats", 6)
        # Process A posts the settled thread and stalls with post 2 in flight.
        s.chat_a.stall_at = 3
        tick_a = await s.tick_a_until(s.chat_a.stalled)

        await s.cog_b.service.tick()  # A's lease is live: B leaves the delivery alone
        assert s.chat_b.sends == 0
        await s.clock.advance(30)  # A stays paused past its lease
        await s.cog_b.service.tick()  # B takes it over at once, not after minutes
        s.chat_a.go.set()
        await asyncio.wait_for(tick_a, 10)  # A wakes, records nothing, reports no failure
        for _ in range(5):
            await s.clock.advance(30)
            await s.cog_a.service.tick()
            await s.cog_b.service.tick()

        [header] = [m for m in s.chat_a.sent if m.thread is None]
        in_thread = [m.text.split("\n")[-1] for m in s.chat_a.sent if m.thread]
        assert in_thread == [f"Cats {i}/6" for i in range(1, 7)]
        assert "6 posts" in header.text
        _keys_once(s.chat_a)
        assert s.chat_a.sends == 3 and s.chat_b.sends == 5  # post 2 again (deduplicated), 3-6
        [sub] = await s.cog_b.repo.all_subscriptions()
        assert sub.last_error is None and sub.last_thread_url is not None
        states = await s.cog_b.repo.sub_threads([sub.id])
        assert [st.state for st in states.values()] == ["delivered"]


class PausingLayouts(LayoutRepo):
    """The room's layout, read by a sender right after it records its intent to post and
    right before it plans: ``pause`` holds it there (a process paused, or killed, between
    the two steps) until ``go`` is set."""

    def __init__(self, db: Database) -> None:
        super().__init__(db, "per-post")
        self.pause = False
        self.paused = asyncio.Event()
        self.go = asyncio.Event()

    async def get(self, scope: str) -> str:
        if self.pause:
            self.paused.set()
            await self.go.wait()
        return await super().get(scope)


async def test_a_process_starting_leaves_alone_an_intent_another_is_about_to_plan(
    postgres_server: PostgresServer, bsky: FakeBluesky, monkeypatch: pytest.MonkeyPatch
) -> None:
    # PostgreSQL only: the engine several processes share (SQLite serves one, so there an
    # intent without a plan at start is always a dead predecessor's).
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    engine = Engine("postgresql", await postgres_server.create_database(), PASSWORD)
    async with subscribed(engine, bsky, delivery_clock=False) as s:
        layouts = PausingLayouts(s.a.db)
        s.a.deliverer.layouts = layouts
        try:
            s.write_thread("Dogs", 3)
            layouts.pause = True
            tick_a = await s.tick_a_until(layouts.paused)

            await s.cog_b.service.tick()  # B starts while A is between intent and plan
            [sub] = await s.cog_b.repo.all_subscriptions()
            [st] = (await s.cog_b.repo.sub_threads([sub.id])).values()
            assert st.state == "delivering" and s.chat_b.sends == 0
            layouts.pause = False
            layouts.go.set()
            await asyncio.wait_for(tick_a, 10)
            for _ in range(5):
                await s.clock.advance(30)
                await s.cog_b.service.tick()
                await s.cog_a.service.tick()
            assert len([m for m in s.chat_a.sent if m.thread is None]) == 1
            assert [m.text.split("\n")[-1] for m in s.chat_a.sent if m.thread] == [
                f"Dogs {i}/3" for i in range(1, 4)
            ]
            assert s.chat_b.sends == 0
        finally:
            layouts.go.set()


async def _killed_mid_thread(
    pair: tuple[App, App], bsky: FakeBluesky
) -> tuple[Chat, asyncio.Task[MemoryContext]]:
    """Process A posts a six-post thread and is killed after two posts; its lease runs out.
    Returns A's chat (the platform both processes share) and A's stuck command."""
    a, b = pair
    a.layouts.default = b.layouts.default = "per-post"
    now = _fake_clock(a, b)
    url = _chain(bsky, 6)
    chat_a = Chat(a.dispatcher)
    chat_a.stall_at = 3
    killed = asyncio.create_task(chat_a.command(f"unroll {url}"))
    await asyncio.wait_for(chat_a.stalled.wait(), 10)
    now[0] += LEASE_S + 1
    return chat_a, killed


async def _every_part_once(chat_a: Chat, killed: asyncio.Task[MemoryContext]) -> None:
    """A's six-post thread is in its chat thread whole, every part once and each message's
    key used once; A's stalled command is then stopped."""
    assert _in_thread(chat_a) == [f"Part {i}/6" for i in range(1, 7)]
    _keys_once(chat_a)
    killed.cancel()
    with pytest.raises(asyncio.CancelledError):
        await killed


async def _finished_once(b: App, chat_a: Chat, killed: asyncio.Task[MemoryContext]) -> None:
    """B's sweep finishes A's thread, every part once."""
    assert await b.sweep() == 1
    await _every_part_once(chat_a, killed)


async def test_a_standing_by_adapter_leaves_a_killed_senders_delivery_to_the_live_one(
    pair: tuple[App, App], bsky: FakeBluesky
) -> None:
    """A process whose adapter stands by (another process holds its session, as with
    Matrix) sweeps nothing for it: the delivery stays pending for the live holder instead
    of failing on a send the standby may not make."""
    _, b = pair
    chat_a, killed = await _killed_mid_thread(pair, bsky)

    standby = Chat(b.dispatcher, platform=chat_a)
    standby.live = False
    b.adapters[standby.name] = standby
    assert await b.resume_pending(standby) == 0
    assert await b.sweep() == 0
    assert standby.sends == 0
    [record] = await b.deliveries.pending("memory")
    assert record.state == "pending"  # not failed: kept for whoever holds the session

    standby.live = True  # the session was handed over
    await _finished_once(b, chat_a, killed)


async def test_a_delivery_resumed_as_the_session_moves_away_is_kept_for_its_new_holder(
    pair: tuple[App, App], bsky: FakeBluesky
) -> None:
    """A process resuming a killed sender's delivery loses the session mid-way (another
    process took it over, as with Matrix): the send that then fails leaves the delivery
    pending for the holder, not failed, and the holder finishes it once."""
    _, b = pair
    chat_a, killed = await _killed_mid_thread(pair, bsky)

    losing = Chat(b.dispatcher, platform=chat_a)

    async def hand_over() -> None:  # after its first send, the session moves away
        losing.live = False

    losing.on_send = hand_over
    losing.fail_at = 2  # ... and its next send is refused
    b.adapters[losing.name] = losing
    assert await b.resume_pending(losing) == 0
    [record] = await b.deliveries.pending("memory")
    assert record.state == "pending"  # not failed: kept for whoever holds the session

    losing.on_send = None
    losing.live = True  # the session came back to this process
    await _finished_once(b, chat_a, killed)
