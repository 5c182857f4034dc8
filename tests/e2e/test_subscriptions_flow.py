"""Subscriptions end to end: commands through the in-memory adapter, the real Bluesky and
Mastodon sources against the local fakes, the outbox, and a manual clock so ten minutes of
settling pass in no time."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.adapters.memory import MemoryAdapter, Sent
from bot.app import App
from bot.config import (
    BlueskyConfig,
    Config,
    NetworkConfig,
    SourcesConfig,
    StorageConfig,
    SubscriptionsConfig,
)
from bot.context import MessageRef, Room
from bot.http import HttpClient, HttpSettings
from bot.render.document import Message
from bot.sources.bluesky import BlueskySource
from bot.sources.mastodon import MastodonSource
from cogs.subscriptions.clock import ManualClock
from cogs.subscriptions.cog import SubscriptionsCog
from tests.conftest import Engine
from tests.fakes.base import Fault
from tests.fakes.bluesky_server import FakeBluesky
from tests.fakes.mastodon_server import FakeMastodon
from tests.fakes.thread_builder import SynthLink, ThreadBuilder

FEED = "/xrpc/app.bsky.feed.getAuthorFeed"
START = datetime(2026, 6, 1, 12, 0, tzinfo=UTC).timestamp()
ROOM = Room("memory", "scope-1", "channel-1")


@dataclass
class Bot:
    app: App
    cog: SubscriptionsCog
    chat: MemoryAdapter
    clock: ManualClock
    bsky: FakeBluesky
    masto: FakeMastodon
    b: ThreadBuilder = field(default_factory=ThreadBuilder)

    async def say(self, text: str, *, room: Room = ROOM, moderator: bool = True) -> str:
        ctx = await self.chat.command(text, moderator=moderator, room=room)
        return "\n".join(r.text for r in ctx.replies)

    async def run(self, seconds: float, step: float = 30.0) -> None:
        """Let ``seconds`` of bot time pass, running a round at every step."""
        end = self.clock.now() + seconds
        while self.clock.now() < end:
            await self.clock.advance(min(step, end - self.clock.now()))
            await self.cog.service.tick()

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.clock.now(), UTC)

    def thread(self, author: str, n: int, text: str = "Part", ago_s: float = 0) -> list[str]:
        """A self-thread of ``n`` posts, the last one ``ago_s`` seconds before now."""
        keys: list[str] = []
        parent = None
        for i in range(1, n + 1):
            at = datetime.fromtimestamp(self.clock.now() - ago_s - (n - i) * 5, UTC)
            parent = self.b.post(author, f"{text} {i}/{n}", parent=parent, at=at)
            keys.append(parent)
        self.bsky.add_thread(self.b.build())
        return keys

    def add_replies(self, author: str, after: str, n: int) -> list[str]:
        keys = []
        for i in range(n):
            after = self.b.post(author, f"Later {i + 1}", parent=after, at=self.now())
            keys.append(after)
        self.bsky.add_thread(self.b.build())
        return keys

    def headers(self, room: Room = ROOM) -> list[Sent]:
        return [s for s in self.chat.sent if s.thread is None and s.ref.channel == room.channel]

    def in_thread(self, header: Sent) -> list[str]:
        return self.chat.posted_texts(f"t{header.ref.message_id}")

    def feed_polls(self) -> int:
        return self.bsky.count(FEED)


async def make_app(
    storage: StorageConfig, bsky: FakeBluesky, clock: ManualClock
) -> tuple[App, SubscriptionsCog, HttpClient]:
    config = Config(
        storage=storage,
        network=NetworkConfig(allow_private_addresses=True, retries=0),
        sources=SourcesConfig(bluesky=BlueskyConfig(appview_url=bsky.base_url)),
        subscriptions=SubscriptionsConfig(
            min_poll_interval_s=60, max_poll_interval_s=900, settle_s=600, max_backfill=5
        ),
    )
    # No retries inside the client: a 429 reaches the poller, which honours it.
    http = HttpClient(HttpSettings(allow_private_addresses=True, retries=0))
    sources = [BlueskySource(http, bsky.base_url), MastodonSource(http, handle_scheme="http")]
    app = await App.create(config, sources=sources, extensions=[])  # type: ignore[list-item]
    # These tests pin one chat message per post: the per-post layout, chosen explicitly.
    app.layouts.default = "per-post"
    cog = SubscriptionsCog.from_host(app, clock=clock)
    app.dispatcher.register(cog)
    return app, cog, http


@pytest.fixture
async def bot(engine: Engine) -> AsyncIterator[Bot]:
    async with FakeBluesky() as bsky, FakeMastodon(start_ms=int(START * 1000)) as masto:
        clock = ManualClock(START)
        app, cog, http = await make_app(engine.storage(), bsky, clock)
        chat = MemoryAdapter(app.dispatcher)
        app.adapters["memory"] = chat
        b = ThreadBuilder(start=datetime.fromtimestamp(START - 86400 * 3, UTC))
        b.author("alice", handle="alice.example.com", name="Alice")
        b.author("bob", handle="bob.example.com", name="Bob")
        bsky.add_thread(b.build())  # the accounts exist before they post
        bot = Bot(app, cog, chat, clock, bsky, masto, b)
        yield bot
        await bot.cog.stop()
        await bot.app.close()
        await http.close()


async def test_subscribing_records_what_exists_and_posts_nothing(bot: Bot) -> None:
    bot.thread("alice", 4, ago_s=86400)
    bot.thread("alice", 2, ago_s=3600)
    reply = await bot.say("subscribe alice.example.com")
    assert "Following @alice.example.com (Bluesky)" in reply
    assert "2 earlier threads recorded and not posted" in reply
    await bot.run(3600)
    assert bot.chat.sent == []


async def test_a_new_thread_is_posted_once_when_settled(bot: Bot) -> None:
    bot.thread("alice", 1, ago_s=86400)
    await bot.say("subscribe alice.example.com")
    bot.thread("alice", 3, text="Cats")
    await bot.run(540)
    assert bot.chat.sent == []  # still within settle_s of the last post
    await bot.run(180)
    [header] = bot.headers()
    assert "Thread by Alice (@alice.example.com) · 3 posts" in header.text
    assert [t.split("\n")[-1] for t in bot.in_thread(header)] == [
        "Cats 1/3",
        "Cats 2/3",
        "Cats 3/3",
    ]
    await bot.run(3600)
    assert len(bot.chat.sent) == 4  # nothing posted twice
    listing = await bot.say("subscriptions")
    assert "last thread: https://bsky.app/profile/alice.example.com/post/" in listing


async def test_a_thread_still_growing_waits_for_quiet(bot: Bot) -> None:
    await bot.say("subscribe alice.example.com")
    keys = bot.thread("alice", 2)
    for _ in range(3):  # a new self-reply every 5 minutes holds it back
        await bot.run(300)
        keys += bot.add_replies("alice", keys[-1], 1)
    assert bot.chat.sent == []
    await bot.run(700)
    [header] = bot.headers()
    assert "5 posts" in header.text and len(bot.in_thread(header)) == 5


async def test_later_posts_are_appended_and_the_header_count_edited(bot: Bot) -> None:
    await bot.say("subscribe alice.example.com")
    keys = bot.thread("alice", 3)
    await bot.run(700)
    [header] = bot.headers()
    bot.add_replies("alice", keys[-1], 2)
    await bot.run(700)
    assert bot.headers() == [header]  # no second header
    texts = bot.in_thread(header)
    assert len(texts) == 5 and texts[-1].endswith("Later 2")
    assert "5 posts" in header.text and header.edits
    # A title quoting post 1 has no count to follow.
    assert bot.chat.threads[f"t{header.ref.message_id}"] == "@alice.example.com: Part 1/3"
    await bot.run(1800)
    assert len(bot.in_thread(header)) == 5


async def test_a_title_that_counts_posts_follows_the_appended_posts(bot: Bot) -> None:
    # Post 1 carries a content note, so the title names the author and the count.
    await bot.app.load(["cogs.content_notes"])
    await bot.say("subscribe alice.example.com")
    keys = bot.thread("alice", 3, text="my grandma passed away this morning")
    await bot.run(700)
    [header] = bot.headers()
    title = f"t{header.ref.message_id}"
    assert bot.chat.threads[title] == "Thread by @alice.example.com · 3 posts"
    bot.add_replies("alice", keys[-1], 2)
    await bot.run(700)
    assert "5 posts" in header.text
    assert bot.chat.threads[title] == "Thread by @alice.example.com · 5 posts"


async def test_backfill_posts_the_last_n_threads(bot: Bot) -> None:
    for i in range(4):
        bot.thread("alice", 2, text=f"Old{i}", ago_s=86400 * (4 - i))
    reply = await bot.say("subscribe alice.example.com backfill:2")
    assert "The latest 2 will be posted shortly" in reply
    await bot.run(60)
    firsts = sorted(bot.in_thread(h)[0].split("\n")[-1] for h in bot.headers())
    assert firsts == ["Old2 1/2", "Old3 1/2"]
    await bot.run(1800)
    assert len(bot.headers()) == 2


async def test_filters_min_posts_include_and_exclude(bot: Bot) -> None:
    await bot.say("subscribe alice.example.com min_posts:2 include:cats,dogs exclude:spoiler")
    bot.thread("alice", 1, text="cats alone")  # too short
    bot.thread("alice", 2, text="birds")  # no include word
    bot.thread("alice", 2, text="dogs with a spoiler")  # excluded word
    bot.thread("alice", 3, text="Cats!")  # posted
    await bot.run(700)
    [header] = bot.headers()
    assert bot.in_thread(header)[0].endswith("Cats! 1/3")
    listing = await bot.say("subscriptions")
    assert "min_posts 2; include cats, dogs; exclude spoiler" in listing


async def test_opted_out_author_is_refused_at_subscribe(bot: Bot) -> None:
    bot.b.author("carol", handle="carol.example.com", labels=("!no-unauthenticated",))
    bot.thread("carol", 2)
    reply = await bot.say("subscribe carol.example.com")
    assert reply.startswith("Not subscribed:")
    assert "No authors are followed here" in await bot.say("subscriptions")


async def test_author_who_opts_out_later_is_never_posted_and_the_list_says_why(
    bot: Bot,
) -> None:
    await bot.say("subscribe alice.example.com")
    bot.thread("alice", 2)
    bot.bsky.set_author_labels("alice", ("!no-unauthenticated",))
    await bot.run(1800)
    assert bot.chat.sent == []
    listing = await bot.say("subscriptions")
    assert "not posted:" in listing and "logged-out viewers" in listing


async def test_one_poll_per_author_however_many_rooms(bot: Bot) -> None:
    rooms = [Room("memory", "scope-1", f"channel-{i}") for i in range(20)]
    for room in rooms:
        await bot.say("subscribe alice.example.com", room=room)
    assert bot.feed_polls() == 1  # later rooms reuse the first poll
    bot.thread("alice", 3)
    before = bot.feed_polls()
    await bot.run(720, step=60)
    polls = bot.feed_polls() - before
    assert polls <= 12  # one per minute at most, not 20 per minute
    threads_fetched = bot.bsky.count("/xrpc/app.bsky.feed.getPostThread")
    assert threads_fetched <= 2  # the settled thread is fetched once for all rooms
    for room in rooms:
        [header] = bot.headers(room)
        assert len(bot.in_thread(header)) == 3


async def test_quiet_authors_are_polled_less_often(bot: Bot) -> None:
    await bot.say("subscribe alice.example.com")
    start = bot.feed_polls()
    await bot.run(3600, step=30)
    hour = bot.feed_polls() - start
    assert 4 <= hour <= 15  # 60 s growing to 900 s, not 60 polls


async def test_errors_back_off_exponentially_and_recover(bot: Bot) -> None:
    await bot.say("subscribe alice.example.com")
    bot.bsky.inject(FEED, *[Fault(502, {"error": "BadGateway"})] * 4)
    times = []
    for _ in range(200):
        before = bot.feed_polls()
        await bot.run(30)
        if bot.feed_polls() > before:
            times.append(bot.clock.now())
        if len(times) == 5:
            break
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert gaps[1] > gaps[0] * 1.5 and gaps[2] > gaps[1] * 1.5  # growing waits
    listing = await bot.say("subscriptions")
    assert "active" in listing and "failing" not in listing  # the fifth poll worked


async def test_error_shows_in_the_list_while_backing_off(bot: Bot) -> None:
    await bot.say("subscribe alice.example.com")
    bot.bsky.inject(FEED, *[Fault(500, {"error": "InternalServerError"})] * 3)
    await bot.run(200)
    listing = await bot.say("subscriptions")
    assert "failing (" in listing and "HTTP 500" in listing


async def test_deleted_account_is_paused_not_retried_forever(bot: Bot) -> None:
    await bot.say("subscribe alice.example.com")
    did = bot.bsky.did("alice")
    del bot.bsky.profiles[did]
    await bot.run(6 * 3600, step=60)
    polls = bot.feed_polls()
    listing = await bot.say("subscriptions")
    assert "paused" in listing and "no Bluesky account" in listing
    await bot.run(6 * 3600, step=300)
    assert bot.feed_polls() == polls  # no more polls once paused
    assert polls <= 5


async def test_rate_limit_429_honours_retry_after(bot: Bot) -> None:
    await bot.say("subscribe alice.example.com")
    bot.bsky.inject(FEED, Fault(429, {"error": "RateLimitExceeded"}, {"Retry-After": "1200"}))
    await bot.run(120, step=10)
    after_429 = bot.feed_polls()
    await bot.run(1000, step=30)
    assert bot.feed_polls() == after_429  # nothing within Retry-After
    await bot.run(400, step=30)
    assert bot.feed_polls() > after_429


async def test_mastodon_author_threads_are_posted(bot: Bot) -> None:
    m = bot.masto
    ann = m.account("ann")
    m.clock_ms = int((bot.clock.now() - 86400) * 1000)
    m.thread(ann, 2, label="Old")
    reply = await bot.say(f"subscribe @ann@{m.host}")
    assert f"Following @ann@{m.host} (Mastodon)" in reply
    m.clock_ms = int((bot.clock.now() - 30) * 1000)
    m.thread(ann, 3, label="Fresh", interval_s=5)
    await bot.run(700)
    [header] = bot.headers()
    assert "3 posts" in header.text
    assert [t.split("\n")[-1] for t in bot.in_thread(header)] == [
        "Fresh 1/3",
        "Fresh 2/3",
        "Fresh 3/3",
    ]


async def test_only_moderators_manage_subscriptions(bot: Bot) -> None:
    for text in ("subscribe alice.example.com", "unsubscribe alice.example.com", "subscriptions"):
        assert "Only moderators" in await bot.say(text, moderator=False)


async def test_unsubscribe_and_bad_input(bot: Bot) -> None:
    assert "already follows" in (
        await bot.say("subscribe alice.example.com") + await bot.say("subscribe alice.example.com")
    )
    assert "backfill must be between 0 and 5" in await bot.say(
        "subscribe bob.example.com backfill:9"
    )
    assert "Could not find an author" in await bot.say("subscribe not-a-handle!!")
    assert "does not follow" in await bot.say("unsubscribe bob.example.com")
    assert "Stopped following @alice.example.com" in await bot.say(
        "unsubscribe https://bsky.app/profile/alice.example.com"
    )
    bot.thread("alice", 2)
    await bot.run(1200)
    assert bot.chat.sent == []
    assert "No authors are followed here" in await bot.say("subscriptions")


async def test_background_loop_runs_on_the_manual_clock(bot: Bot) -> None:
    await bot.say("subscribe alice.example.com")
    await bot.cog.start()
    bot.thread("alice", 2)
    for _ in range(12):
        await bot.clock.sleepers()
        await bot.clock.advance(60)
    await bot.clock.sleepers()
    [header] = bot.headers()
    assert len(bot.in_thread(header)) == 2


class FlakyChat(MemoryAdapter):
    """The in-memory platform, failing every send after the first ``fail_after``."""

    fail_after: int | None = None

    async def send(self, room: Room, message: Message, **kw: Any) -> list[MessageRef]:
        if self.fail_after is not None and len(self.sent) >= self.fail_after:
            raise ConnectionError("the chat platform went away")
        return await super().send(room, message, **kw)


async def test_restart_in_the_middle_of_a_delivery_resumes_it(bot: Bot, engine: Engine) -> None:
    chat = FlakyChat(bot.app.dispatcher)
    bot.chat = chat
    bot.app.adapters["memory"] = chat
    await bot.say("subscribe alice.example.com")
    bot.thread("alice", 6)
    chat.fail_after = 3  # header and two posts, then the process "dies"
    await bot.run(700)
    assert len(chat.sent) == 3
    await bot.cog.stop()
    await bot.app.close()
    # A new process on the same database; the platform kept what it received.
    app, cog, http = await make_app(engine.storage(), bot.bsky, bot.clock)
    try:
        chat.fail_after = None
        chat.dispatcher = app.dispatcher
        app.adapters["memory"] = chat
        bot.app, bot.cog = app, cog
        await bot.run(60)
        [header] = bot.headers()
        assert [t.split("\n")[-1] for t in bot.in_thread(header)] == [
            f"Part {i}/6" for i in range(1, 7)
        ]
        await bot.run(1800)
        assert len(chat.sent) == 7
    finally:
        await http.close()


async def test_command_line_lists_every_subscription(
    bot: Bot, engine: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.cli import main

    await bot.say("subscribe alice.example.com min_posts:2")
    await bot.say("subscribe bob.example.com", room=Room("memory", "scope-2", "elsewhere"))
    config = tmp_path / "cli.toml"
    config.write_text(engine.toml())
    code = await asyncio.to_thread(main, ["subscriptions", "--config", str(config)])
    out = capsys.readouterr().out
    assert code == 0
    assert "[memory scope-1] • @alice.example.com (Bluesky) in channel-1 · active" in out
    assert "min_posts 2" in out
    assert "[memory scope-2] • @bob.example.com (Bluesky) in elsewhere" in out


async def test_posted_threads_feed_the_thread_linking_index(bot: Bot) -> None:
    from cogs.links import service_of, setup

    await setup(bot.app)  # the links feature hooks into every unroll as a processor
    await bot.say("subscribe alice.example.com")
    first = bot.thread("alice", 2, text="Soil")
    url = bot.bsky.url(first[0])
    follow_up = bot.b.post("alice", f"More, continued here: {url}", links=(SynthLink(url, url),))
    bot.bsky.add_thread(bot.b.build())
    await bot.run(700)
    assert len(bot.headers()) == 2
    described = await service_of(bot.app).describe(bot.bsky.url(follow_up))
    assert "continues" in described and url.split("/")[-1] in described


async def test_platform_without_edits_still_gets_appends(bot: Bot) -> None:
    from bot.render.document import Capabilities

    chat = MemoryAdapter(
        bot.app.dispatcher,
        Capabilities(max_length=2000, markup="plain", spoilers=True, threads=True, edits=False),
    )
    bot.chat = chat
    bot.app.adapters["memory"] = chat
    await bot.say("subscribe alice.example.com")
    keys = bot.thread("alice", 2)
    await bot.run(700)
    bot.add_replies("alice", keys[-1], 1)
    await bot.run(700)
    [header] = bot.headers()
    assert "2 posts" in header.text and not header.edits  # no edits on this platform
    assert len(bot.in_thread(header)) == 3


async def test_first_check_failing_still_posts_nothing_old(bot: Bot) -> None:
    bot.thread("alice", 3, ago_s=7200)
    bot.bsky.inject(FEED, Fault(503, {"error": "Unavailable"}))
    reply = await bot.say("subscribe alice.example.com")
    assert "The first check did not work" in reply and "nothing old will be posted" in reply
    await bot.run(1800)
    assert bot.chat.sent == []
    bot.thread("alice", 2, text="New")
    await bot.run(700)
    [header] = bot.headers()
    assert bot.in_thread(header)[0].endswith("New 1/2")


async def test_thread_written_after_subscribing_counts_even_if_the_first_check_is_late(
    bot: Bot,
) -> None:
    bot.thread("alice", 2, text="Before", ago_s=3600)
    bot.bsky.inject(FEED, *[Fault(503, {"error": "Unavailable"})] * 2)
    await bot.say("subscribe alice.example.com")
    await bot.run(30)
    bot.thread("alice", 2, text="After")  # written while the first check still fails
    await bot.run(900)
    [header] = bot.headers()
    assert bot.in_thread(header)[0].endswith("After 1/2")


async def test_post_dated_in_the_future_is_posted_once_and_not_fetched_again(bot: Bot) -> None:
    await bot.say("subscribe alice.example.com")
    bot.thread("alice", 2, text="Future", ago_s=-3600)  # the client's clock is an hour ahead
    await bot.run(700)
    [header] = bot.headers()  # settled from when it was first seen, not its date
    fetched = bot.bsky.count("/xrpc/app.bsky.feed.getPostThread")
    await bot.run(3600)
    assert bot.bsky.count("/xrpc/app.bsky.feed.getPostThread") == fetched
    assert bot.headers() == [header] and len(bot.in_thread(header)) == 2
