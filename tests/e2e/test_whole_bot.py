"""The whole bot through the shipped harness (``bot.testing.TestBot``), one line per
exchange: commands, a bare link, moderation and help, against the local fake Bluesky."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.config import Config, StorageConfig, UnrollConfig
from bot.context import Room
from bot.http import HttpClient, HttpSettings
from bot.models import Author, Post, Thread
from bot.sources.bluesky import BlueskySource
from bot.testing import TestBot
from tests.fakes.bluesky_server import FakeBluesky
from tests.fakes.thread_builder import ThreadBuilder


@pytest.fixture
async def bsky() -> AsyncIterator[FakeBluesky]:
    async with FakeBluesky(latency_s=0.0) as server:
        yield server


@pytest.fixture
async def bot(bsky: FakeBluesky) -> AsyncIterator[TestBot]:
    http = HttpClient(HttpSettings(allow_private_addresses=True, retries=1, backoff_base_s=0.01))
    async with TestBot(sources=[BlueskySource(http, bsky.base_url)]) as harness:
        yield harness
    await http.close()


def thread(bsky: FakeBluesky, posts: int) -> list[str]:
    b = ThreadBuilder()
    keys = b.chain(b.author("alice"), posts)
    bsky.add_thread(b.build())
    return [bsky.url(k) for k in keys]


async def test_a_chat_with_the_bot(bot: TestBot, bsky: FakeBluesky) -> None:
    urls = thread(bsky, 4)
    assert await bot.say(f"/unroll {urls[2]}") == "Unrolled 4 posts: memory://channel-1/tm1"
    assert "already unrolled here: memory://channel-1/tm1" in await bot.say(urls[0])
    assert await bot.say("The weather is fine.") == ""
    assert "Only moderators can use /link" in await bot.say(f"/link {urls[3]} belongs {urls[0]}")
    assert "Moderators only." in await bot.say("/help link")
    assert "Unknown command 'frobnicate'" in await bot.say("/frobnicate")
    assert "Thread warnings: none" in await bot.say("/cw list", moderator=True)


async def test_what_the_bot_posted(bot: TestBot, bsky: FakeBluesky) -> None:
    urls = thread(bsky, 3)
    assert "Layout set to per-post" in await bot.say("/layout per-post", moderator=True)
    await bot.say(urls[0])  # a bare link unrolls
    header, *posts = bot.posted()
    assert "3 posts" in header
    assert [p.split()[-1] for p in posts] == ["1/3", "2/3", "3/3"]  # "Part 2/3", in order
    assert bot.posted("tm1") == posts


@pytest.mark.parametrize(
    "command",
    [
        "/unroll https://example.org/" + "a" * 10_000,
        "/" + "frobnicate" * 1_000,
        "/subscribe " + "@" * 10_000,
        "/unroll https://bsky.app/profile/alice.test/post/3kabc " + "extra " * 2_000,
        "/cw add https://bsky.app/profile/alice.test/post/3kabc " + "c" * 10_000,
        "/link https://bsky.app/profile/alice.test/post/3kabc " + "k" * 10_000 + " x",
    ],
)
async def test_a_pasted_essay_is_quoted_back_cut_short(bot: TestBot, command: str) -> None:
    # A reply quotes what it could not use, but a whole paste would flood the channel.
    reply = await bot.say(command, moderator=True)
    assert 0 < len(reply) < 400
    assert "…'" in reply


async def test_a_thread_not_unrolled_for_keep_days_is_dropped_and_its_links_still_apply(
    bot: TestBot, bsky: FakeBluesky
) -> None:
    b = ThreadBuilder()
    alice = b.author("alice")
    first, second = b.chain(alice, 3), b.chain(alice, 2)
    bsky.add_thread(b.build())
    moved, target = bsky.url(first[2]), bsky.url(second[0])
    assert "Unrolled 3 posts" in await bot.say(f"/unroll {bsky.url(first[0])}")
    assert "Linked" in await bot.say(f"/link {moved} belongs {target}", moderator=True)

    # A month later the bot holds no copy of the thread's posts...
    later = time.time() + (bot.app.config.unroll.keep_days + 1) * 86_400
    bot.app.unroller.clock = lambda: later
    assert await bot.app.forget_old_threads() == 1
    assert await bot.app.threads.find_by_url(moved) is None
    # ...and nothing the moderator said is lost: the moved post still shows where it belongs.
    asked = bsky.count()
    elsewhere = Room("memory", "scope-1", "channel-2")
    assert "Unrolled 3 posts" in await bot.say(f"/unroll {target}", room=elsewhere)
    assert bsky.count() > asked  # fetched anew, not from a copy
    assert f"{moved} moved in from" in bot.posted()[-1]


async def test_a_running_bot_drops_old_threads_by_itself(tmp_path: Path) -> None:
    config = Config(
        storage=StorageConfig(str(tmp_path / "bot.sqlite3"), lease_s=0.2),  # sweeps every 0.1 s
        unroll=UnrollConfig(keep_days=2),
    )
    alice = Author("did:alice", "alice.test", "Alice", "https://bsky.app/profile/alice.test")

    def one_post(pid: str, days_ago: float) -> Thread:
        post = Post(pid, f"https://x.test/{pid}", alice, "2026-01-01T00:00:00Z", "words", None)
        fetched_at = time.time() - days_ago * 86_400
        return Thread("bluesky", post.url, pid, alice, (post,), fetched_at=fetched_at)

    async with TestBot(config) as bot:
        await bot.app.threads.save(one_post("old", 3))
        await bot.app.threads.save(one_post("recent", 1))
        bot.app.start_sweeping()
        for _ in range(200):  # up to 10 s
            if await bot.app.threads.load("old") is None:
                break
            await asyncio.sleep(0.05)
        assert await bot.app.threads.load("old") is None
        assert await bot.app.threads.load("recent") is not None
