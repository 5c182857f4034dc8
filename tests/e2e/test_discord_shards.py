"""Discord sharding through the real discord.py (AutoShardedClient) against the fake Discord:
servers on two shards, bots running one shard each or both, the commands synced once by
the process running shard 0, and Discord's refusals of a shard setting explained."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import discord
import pytest

from bot.adapters.discord.adapter import DiscordAdapter
from bot.adapters.discord.shards import ShardPlan
from bot.app import App
from bot.config import parse_config
from bot.context import Room
from bot.errors import ConfigError
from bot.render.document import reply
from tests.e2e.test_discord_e2e import FakeSource
from tests.fakes.discord_bot import connected
from tests.fakes.discord_server import FakeDiscord, InteractionRecord

THREADS = "/channels/{channel_id}/messages/{message_id}/threads"


@dataclass
class Process:
    """One bot 'process': its own app, database and upstream, one Discord adapter."""

    app: App
    adapter: DiscordAdapter
    source: FakeSource


@dataclass
class Cluster:
    fake: FakeDiscord
    tmp: Path
    stack: AsyncExitStack
    # Server id -> its channel, per shard of 2.
    servers: dict[int, list[tuple[str, str]]]

    async def start(self, name: str, plan: ShardPlan) -> Process:
        config = parse_config(f'[storage]\npath = "{self.tmp / name}.sqlite3"\n')
        source = FakeSource()
        source.add("100", ["first post", "second post"])
        app = await App.create(config, sources=[source])
        app.layouts.default = "per-post"
        self.stack.push_async_callback(app.close)
        adapter = await self.stack.enter_async_context(
            connected(app, self.fake, shards=plan, ack_after_s=0.15)
        )
        app.adapters[adapter.name] = adapter
        await app.start_cogs()
        await asyncio.wait_for(adapter.synced.wait(), 5)
        return Process(app, adapter, source)

    async def unroll(self, channel_id: str, *processes: Process) -> InteractionRecord:
        rec = await self.fake.slash("unroll", channel_id=channel_id, url=URL)
        await self.fake.wait_acknowledged(rec)
        await asyncio.sleep(0)
        for p in processes:
            await p.adapter.binder.drain(5.0)
        return rec


URL = "https://posts.example/alice/100000"


@pytest.fixture
async def cluster(tmp_path: Path) -> AsyncIterator[Cluster]:
    async with FakeDiscord() as fake, AsyncExitStack() as stack:
        fake.message_bucket = None
        fake.max_concurrency = 2  # both shards of one process may identify at once
        servers: dict[int, list[tuple[str, str]]] = {0: [], 1: []}
        for shard in (0, 0, 1, 1):
            servers[shard].append(fake.add_guild(f"server on {shard}", shard=(shard, 2)))
        # The fake's first server lands on one of the two shards as well.
        servers[fake.shard_of(fake.guild_id, 2)].append((fake.guild_id, fake.channel_id))
        yield Cluster(fake, tmp_path, stack, servers)
        await stack.aclose()
        assert fake.unknown == [], [(c.method, c.path) for c in fake.unknown]


def answered_once(fake: FakeDiscord, rec: InteractionRecord, channel_id: str) -> None:
    """The command got one answer and its thread is in the channel exactly once."""
    assert rec.callback is not None and not rec.late_callback
    refused = [c for c in fake.calls if c.route.endswith("/callback") and c.status >= 400]
    assert refused == []
    headers = [m for m in fake.channel_messages(channel_id) if "Thread by" in m["content"]]
    assert len(headers) == 1, headers
    posts = fake.channel_messages(headers[0]["id"])
    assert ["first post" in posts[0]["content"], "second post" in posts[1]["content"]] == [
        True,
        True,
    ]
    assert rec.original is not None and headers[0]["guild_id"] in rec.original["content"]


async def test_two_processes_each_answer_only_their_shards_servers(
    cluster: Cluster, caplog: pytest.LogCaptureFixture
) -> None:
    fake = cluster.fake
    caplog.set_level(logging.INFO, logger="bot.adapters.discord")
    # The process without shard 0 starts first: it registers nothing.
    second = await cluster.start("second", ShardPlan(2, (1,)))
    assert fake.command_syncs == []
    assert "the process running shard 0 syncs the commands" in caplog.text
    first = await cluster.start("first", ShardPlan(2, (0,)))
    (sync,) = fake.command_syncs
    assert sync.route == "/applications/{app_id}/commands" and sync.status == 200
    assert sorted(fake.identified_shards) == [(0, 2), (1, 2)]

    for shard, process in ((0, first), (1, second)):
        assert {str(g.id) for g in process.adapter.client.guilds} == {
            g for g, _ in cluster.servers[shard]
        }
        assert isinstance(process.adapter.client, discord.AutoShardedClient)
        assert list(process.adapter.client.shards) == [shard]

    for shard, mine, other in ((0, first, second), (1, second, first)):
        for _, channel in cluster.servers[shard]:
            before = (mine.source.fetches, other.source.fetches)
            rec = await cluster.unroll(channel, first, second)
            answered_once(fake, rec, channel)
            # Unrolled by the process running the server's shard (its first unroll asked
            # its upstream, later ones its cache), never by the other.
            assert (mine.source.fetches, other.source.fetches) == (1, before[1])


async def test_one_process_running_both_shards_gets_everything(cluster: Cluster) -> None:
    fake = cluster.fake
    only = await cluster.start("only", ShardPlan(2, (0, 1)))
    assert sorted(fake.identified_shards) == [(0, 2), (1, 2)]
    assert len(fake.command_syncs) == 1
    # Ready (and deliveries resumed) only once both shards had their servers.
    assert {str(g.id) for g in only.adapter.client.guilds} == set(fake.guilds)
    assert sorted(only.adapter.client.shards) == [0, 1]
    # Latency is measured per shard; the adapter reports their mean.
    latencies = dict(only.adapter.client.latencies)  # type: ignore[attr-defined]
    assert sorted(latencies) == [0, 1]
    assert only.adapter.latency == sum(latencies.values()) / 2
    for shard in (0, 1):
        for _, channel in cluster.servers[shard]:
            rec = await cluster.unroll(channel, only)
            answered_once(fake, rec, channel)
    # The first unroll fetched; the others came from the cache.
    assert only.source.fetches == 1


async def test_a_process_posts_in_a_channel_of_another_shards_server(cluster: Cluster) -> None:
    fake = cluster.fake
    second = await cluster.start("second", ShardPlan(2, (1,)))
    guild, channel = cluster.servers[0][0]
    assert second.adapter.client.get_channel(int(channel)) is None  # not in this shard's cache
    room = Room("discord", guild, channel)
    (header,) = await second.adapter.send(room, reply("a subscription's new thread"))
    thread = await second.adapter.start_thread(room, header, "New thread")
    await second.adapter.send(room, reply("its first post"), thread=thread)

    (msg,) = fake.channel_messages(channel)
    assert msg["content"] == "a subscription's new thread" and msg["guild_id"] == guild
    assert [m["content"] for m in fake.channel_messages(header.message_id)] == ["its first post"]
    assert second.adapter.link_to(thread) == (
        f"https://discord.com/channels/{guild}/{thread.thread_id}"
    )


async def test_events_follow_discords_shard_rule_and_dms_go_to_shard_0(
    cluster: Cluster,
) -> None:
    fake = cluster.fake
    await cluster.start("second", ShardPlan(2, (1,)))
    await cluster.start("first", ShardPlan(2, (0,)))
    by_shard = {s.shard: s for s in fake.sessions.values()}
    assert set(by_shard) == {(0, 2), (1, 2)}
    sent = {shard: len(s.sent) for shard, s in by_shard.items()}
    dm = {"channel_id": fake.snowflake(), "user_id": fake.owner["id"], "timestamp": 0}
    await fake.dispatch("TYPING_START", dm)
    guild, channel = cluster.servers[1][0]
    await fake.dispatch("TYPING_START", dict(dm, guild_id=guild, channel_id=channel))
    assert [e["d"] for _, e in by_shard[(0, 2)].sent[sent[(0, 2)] :]] == [dm]
    assert [e["d"].get("guild_id") for _, e in by_shard[(1, 2)].sent[sent[(1, 2)] :]] == [guild]


async def test_identifies_are_paced_within_discords_concurrency(
    cluster: Cluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = cluster.fake
    monkeypatch.setattr("bot.adapters.discord.shards.IDENTIFY_WINDOW_S", 0.4)
    fake.max_concurrency = 1  # one identify per window: shard 1 waits for shard 0's
    await cluster.start("only", ShardPlan(2, ()))
    first, second = fake.identify_times
    assert second - first >= 0.4


async def test_an_identify_refused_over_the_rate_is_retried_a_window_later(
    cluster: Cluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = cluster.fake
    monkeypatch.setattr("bot.adapters.discord.shards.IDENTIFY_WINDOW_S", 0.3)
    fake.max_concurrency = 1
    first = await cluster.start("first", ShardPlan(2, (0,)))
    # Processes know nothing of each other's identifies: this one's first comes too soon
    # after another's; Discord invalidates it and the process identifies again, paced.
    fake.identify_rate_limited = 1
    second = await cluster.start("second", ShardPlan(2, (1,)))
    (refused,) = fake.identify_refusals
    # A window after the refused attempt (less the moment it spent on the way).
    assert fake.identify_times[-1] - refused >= 0.25
    assert sorted(s.shard for s in fake.sessions.values()) == [(0, 2), (1, 2)]
    _, channel = cluster.servers[1][0]
    answered_once(fake, await cluster.unroll(channel, first, second), channel)


async def run_refused(fake: FakeDiscord, tmp: Path, plan: ShardPlan) -> str:
    config = parse_config(f'[storage]\npath = "{tmp / "refused.sqlite3"}"\n')
    app = await App.create(config, sources=[FakeSource()])
    try:
        adapter = DiscordAdapter(
            app,
            fake.token,
            api_base_url=fake.base_url,
            gateway_url=fake.gateway_url,
            guild_ready_timeout=0.05,
            shards=plan,
        )
        with pytest.raises(ConfigError) as err:
            await asyncio.wait_for(adapter.run(), 10)
        return str(err.value)
    finally:
        await app.close()


async def test_sharding_required_says_what_to_set(tmp_path: Path) -> None:
    async with FakeDiscord() as fake:
        fake.max_guilds_per_shard = 1
        fake.add_guild("another server")
        fake.add_guild("a third server")
        message = await run_refused(fake, tmp_path, ShardPlan())
        assert "Discord requires sharding" in message and "one connection" in message
        assert "Set [discord] shard_count" in message and "Discord recommends 3" in message
        assert "shard_ids" in message
        assert fake.identifies == 0 and fake.identified_shards == [(0, 1)]

        # Sharded, but still too few shards for the servers on shard 0.
        fake.add_guild("crowded", shard=(0, 2))
        fake.add_guild("crowded too", shard=(0, 2))
        message = await run_refused(fake, tmp_path, ShardPlan(2, (0,)))
        assert "too many servers for 2 shards" in message and "(Discord recommends 5)" in message


async def test_an_invalid_shard_is_explained(tmp_path: Path) -> None:
    async with FakeDiscord() as fake:
        # Past the config's checks only by hand: the adapter sends what it is given.
        message = await run_refused(fake, tmp_path, ShardPlan(2, (2,)))
        assert re.search(r"refused the shard setting \(shard 2 of 2\) as invalid", message)
        assert "4010" in message and "must be below shard_count" in message
        assert fake.identified_shards == [(2, 2)] and fake.sessions == {}


async def test_the_config_builds_a_sharded_client(tmp_path: Path) -> None:
    config = parse_config(
        f'[storage]\npath = "{tmp_path / "b.sqlite3"}"\n'
        "[discord]\nenabled = true\nshard_count = 4\nshard_ids = [2, 3]\n"
    )
    app = await App.create(config, sources=[FakeSource()])
    try:
        adapter = DiscordAdapter.from_host(app, {"DISCORD_TOKEN": "t"})
        client: Any = adapter.client
        assert isinstance(client, discord.AutoShardedClient)
        assert (client.shard_count, client.shard_ids) == (4, [2, 3])
        assert not adapter.plan.syncs_commands
        plain = DiscordAdapter.from_config(app, parse_config("").discord, {"DISCORD_TOKEN": "t"})
        assert not isinstance(plain.client, discord.AutoShardedClient)
        assert plain.plan.syncs_commands
    finally:
        await app.close()
