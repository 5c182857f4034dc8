"""A Bluesky thread unrolled into Discord: the real Bluesky source against the local fake
AppView, the whole app, and the real discord.py against the fake Discord."""

from __future__ import annotations

import asyncio
import re
import time
from pathlib import Path

from bot.adapters.discord.adapter import DiscordAdapter
from bot.app import App
from bot.config import Config, NetworkConfig, StorageConfig
from bot.http import HttpClient, HttpSettings
from bot.sources.bluesky import BlueskySource
from tests.fakes.bluesky_server import FakeBluesky
from tests.fakes.discord_server import FakeDiscord
from tests.fakes.thread_builder import SynthImage, ThreadBuilder


async def test_a_long_bluesky_thread_lands_in_a_discord_thread(tmp_path: Path) -> None:
    b = ThreadBuilder()
    alice = b.author("alice", name="Alice")
    keys = b.chain(alice, 60, text="Part")
    b.update(keys[0], images=(SynthImage("two herons by a pond"),))
    b.reply(b.author("bob"), keys[3], "someone else's reply stays out")

    async with FakeBluesky() as bsky, FakeDiscord() as fake:
        bsky.add_thread(b.build())
        http = HttpClient(HttpSettings(allow_private_addresses=True, retries=1))
        config = Config(
            storage=StorageConfig(str(tmp_path / "bot.sqlite3")),
            network=NetworkConfig(allow_private_addresses=True),
        )
        app = await App.create(
            config, sources=[BlueskySource(http, bsky.base_url)], extensions=["cogs.content_notes"]
        )
        adapter = DiscordAdapter(
            app,
            fake.token,
            test_guild_ids=[int(fake.guild_id)],
            api_base_url=fake.base_url,
            gateway_url=fake.gateway_url,
            guild_ready_timeout=0.05,
        )
        app.adapters[adapter.name] = adapter
        task = asyncio.create_task(adapter.run())
        try:
            await asyncio.wait_for(adapter.ready.wait(), 5)
            started = time.monotonic()
            rec = await fake.slash("unroll", url=bsky.url(keys[20]))  # a post in the middle
            await fake.wait_acknowledged(rec)
            acked = time.monotonic() - started
            await asyncio.sleep(0)
            await adapter.binder.drain(10)
            elapsed = time.monotonic() - started
        finally:
            await adapter.close()
            await asyncio.wait_for(task, 5)
            await app.close()
            await http.close()

    assert rec.callback_type == 5 and acked < 1.0
    header = fake.channel_messages(fake.channel_id)[-1]
    assert "60 posts" in header["content"] and bsky.url(keys[0]) in header["content"]
    posts = fake.channel_messages(header["id"])
    assert len(posts) == 60
    numbers = [int(re.search(r"\*\*(\d+)/60\*\*", p["content"]).group(1)) for p in posts]  # type: ignore[union-attr]
    assert numbers == list(range(1, 61))
    assert "two herons by a pond" in posts[0]["content"]
    assert all("someone else" not in p["content"] for p in posts)
    assert all(len(p["content"]) <= 2000 for p in posts)
    assert all(
        c.json.get("allowed_mentions") == {"parse": []}
        for c in fake.calls_to("POST", "/channels/{channel_id}/messages")
    )
    # The caller watched progress in the private original response, ending with a link.
    progress = [e.get("content", "") for e in rec.original_edits]
    assert any("Posted 50 of 60" in p for p in progress)
    assert rec.original is not None and "Unrolled 60 posts" in rec.original["content"]
    assert fake.unknown == []
    print(
        f"\nack {acked * 1000:.0f} ms; 60-post unroll done in {elapsed * 1000:.0f} ms; "
        f"{len(fake.calls)} REST calls"
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
        adapter = DiscordAdapter(
            app,
            fake.token,
            api_base_url=fake.base_url,
            gateway_url=fake.gateway_url,
            guild_ready_timeout=0.05,
        )
        task = asyncio.create_task(adapter.run())
        try:
            await asyncio.wait_for(adapter.ready.wait(), 5)
            started = time.monotonic()
            rec = await fake.slash("unroll", url=bsky.url(keys[0]))
            await fake.wait_acknowledged(rec)
            await asyncio.sleep(0)
            await adapter.binder.drain(10)
            elapsed = time.monotonic() - started
        finally:
            await adapter.close()
            await asyncio.wait_for(task, 5)
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
