"""A Bluesky thread unrolled into Discord: the real Bluesky source against the local fake
AppView, the whole app, and the real discord.py against the fake Discord."""

from __future__ import annotations

import asyncio
import re
import time
from pathlib import Path

from bot.app import App
from bot.config import Config, NetworkConfig, StorageConfig
from bot.http import HttpClient, HttpSettings
from bot.sources.bluesky import BlueskySource
from tests.fakes.bluesky_server import FakeBluesky
from tests.fakes.discord_bot import connected
from tests.fakes.discord_server import FakeDiscord
from tests.fakes.thread_builder import SynthImage, ThreadBuilder


async def test_a_long_bluesky_thread_lands_packed_in_a_discord_thread(tmp_path: Path) -> None:
    b = ThreadBuilder()
    alice = b.author("alice", name="Alice")
    keys = b.chain(alice, 60, text="Part")
    b.update(keys[0], images=(SynthImage("two herons by a pond"),))
    b.update(keys[7], text="Part 8/60: the night I thought about suicide.")
    b.update(keys[9], text="Part 10/60: the suicide hotline answered.")
    b.reply(b.author("bob"), keys[3], "someone else's reply stays out")

    async with FakeBluesky() as bsky, FakeDiscord() as fake:
        assert fake.message_bucket == (5, 5.0)  # Discord's own bucket, in real time
        bsky.add_thread(b.build())
        http = HttpClient(HttpSettings(allow_private_addresses=True, retries=1))
        config = Config(
            storage=StorageConfig(str(tmp_path / "bot.sqlite3")),
            network=NetworkConfig(allow_private_addresses=True),
        )
        app = await App.create(
            config, sources=[BlueskySource(http, bsky.base_url)], extensions=["cogs.content_notes"]
        )
        try:
            async with connected(app, fake, test_guild_ids=[int(fake.guild_id)]) as adapter:
                app.adapters[adapter.name] = adapter
                started = time.monotonic()
                rec = await fake.slash("unroll", url=bsky.url(keys[20]))  # a post in the middle
                await fake.wait_acknowledged(rec)
                acked = time.monotonic() - started
                await asyncio.sleep(0)
                await adapter.binder.drain(10)
                elapsed = time.monotonic() - started
                header = fake.channel_messages(fake.channel_id)[-1]
                posts = fake.channel_messages(header["id"])
                before = [p["content"] for p in posts]
                # A moderator's warning rewrites the packed messages in place.
                mod = fake.new_user("mod", moderator=True)
                cw = await fake.slash("cw add", mod, url=bsky.url(keys[0]), categories="abuse")
                await fake.wait_acknowledged(cw)
                await asyncio.sleep(0)
                await adapter.binder.drain(10)
        finally:
            await app.close()
            await http.close()

    assert rec.callback_type == 5 and acked < 1.0
    assert "60 posts" in header["content"] and bsky.url(keys[0]) in header["content"]
    # A handful of messages instead of 60, each under Discord's limit, every post once and
    # in order, each with its link.
    assert 2 <= len(posts) <= 6 and all(len(c) <= 2000 for c in before)
    joined = "\n".join(before)
    assert re.findall(r"\]\(<([^>]+)>\)", joined) == [bsky.url(k) for k in keys]
    # The author numbered the posts ("Part 7/60"): the bot adds its own number only where
    # the author's is hidden behind a warning.
    numbers = [int(n) for n in re.findall(r"Part (\d+)/60", joined)]
    assert numbers == list(range(1, 61))
    assert re.findall(r"\[(\d+)/60\]\(<", joined) == ["8", "10"]
    assert "two herons by a pond" in before[0]
    assert all("someone else" not in c for c in before)
    # The two warned posts are spoiler segments inside their message, the reason visible.
    spoilers = re.findall(r"\|\|(.*?)\|\|", joined, re.S)
    assert len(spoilers) == 2
    assert "night I thought" in spoilers[0] and "hotline answered" in spoilers[1]
    assert "Part 9/60" not in "".join(spoilers) and "Part 9/60" in joined
    outside = re.sub(r"\|\|.*?\|\|", "", joined, flags=re.S)
    assert "night I thought" not in outside and "hotline answered" not in outside
    assert outside.count("suicide") >= 2  # each warned post's reason, in sight
    assert fake.rate_limited == []  # a few messages stay within the bucket
    assert all(
        c.json.get("allowed_mentions") == {"parse": []}
        for c in fake.calls_to("POST", "/channels/{channel_id}/messages")
    )
    assert rec.original is not None and "Unrolled 60 posts" in rec.original["content"]
    # After the warning: the same messages, edited; every post behind its own spoiler.
    after = [fake.messages[p["id"]]["content"] for p in posts]
    assert len(fake.channel_messages(header["id"])) >= len(posts)
    assert after != before
    # The moderator's warning covers the thread: named once, in the header, not per post.
    assert "abuse" in fake.messages[header["id"]]["content"]
    assert not any("abuse" in c for c in after)
    every = "\n".join(c["content"] for c in fake.channel_messages(header["id"]))
    shown = re.sub(r"\|\|.*?\|\|", "", every, flags=re.S)
    assert not re.search(r"Part \d+/60", shown)  # every post's text behind its spoiler
    assert fake.calls_to("PATCH", "/channels/{channel_id}/messages/{message_id}")
    assert fake.unknown == []
    print(
        f"\nack {acked * 1000:.0f} ms; 60-post unroll in {len(posts)} messages done in "
        f"{elapsed * 1000:.0f} ms; {len(fake.calls)} REST calls"
    )


async def test_channel_rate_limits_slow_the_posts_but_keep_their_order(tmp_path: Path) -> None:
    b = ThreadBuilder()
    keys = b.chain(b.author("alice", name="Alice"), 16, text="Part")
    async with FakeBluesky() as bsky, FakeDiscord() as fake:
        bsky.add_thread(b.build())
        fake.message_bucket = (5, 0.1)  # Discord's 5 per 5 s, scaled down
        http = HttpClient(HttpSettings(allow_private_addresses=True, retries=1))
        config = Config(
            storage=StorageConfig(str(tmp_path / "bot.sqlite3")),
            network=NetworkConfig(allow_private_addresses=True),
        )
        app = await App.create(config, sources=[BlueskySource(http, bsky.base_url)], extensions=[])
        # One message per post, so that the bucket runs dry several times.
        app.layouts.default = "per-post"
        try:
            async with connected(app, fake) as adapter:
                started = time.monotonic()
                rec = await fake.slash("unroll", url=bsky.url(keys[0]))
                await fake.wait_acknowledged(rec)
                await asyncio.sleep(0)
                await adapter.binder.drain(10)
                elapsed = time.monotonic() - started
        finally:
            await app.close()
            await http.close()
    header = fake.channel_messages(fake.channel_id)[-1]
    posts = fake.channel_messages(header["id"])
    assert [re.search(r"Part (\d+)/16", p["content"]).group(1) for p in posts] == [  # type: ignore[union-attr]
        str(i) for i in range(1, 17)
    ]
    # discord.py waits on the bucket headers instead of running into 429s.
    assert fake.rate_limited == []
    assert elapsed >= 0.25  # 16 posts in buckets of 5 per 0.1 s
