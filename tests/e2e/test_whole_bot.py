"""The whole bot through the shipped harness (``bot.testing.TestBot``), one line per
exchange: commands, a bare link, moderation and help, against the local fake Bluesky."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.http import HttpClient, HttpSettings
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
