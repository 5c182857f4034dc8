"""Two real bot processes (``unrollbot run``) share one Discord bot as shards 0 and 1 of 2,
against the fake Discord and the fake Bluesky AppView: each answers /unroll only in the
servers of its own shard, every command is answered exactly once, the commands are synced
once (by shard 0's process), and a refused shard setting stops the bot with what to set."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

from tests.fakes.bluesky_server import FakeBluesky
from tests.fakes.discord_server import FakeDiscord
from tests.fakes.thread_builder import ThreadBuilder

ROOT = Path(__file__).resolve().parents[2]


def write_config(tmp: Path, name: str, fake: FakeDiscord, bsky: FakeBluesky, discord: str) -> Path:
    path = tmp / f"{name}.toml"
    path.write_text(
        f'[storage]\npath = "{tmp / name}.sqlite3"\n'
        "[network]\nallow_private_addresses = true\nretries = 0\n"
        f'[sources.bluesky]\nappview_url = "{bsky.base_url}"\n'
        f'[discord]\nenabled = true\napi_base_url = "{fake.base_url}"\n'
        f'gateway_url = "{fake.gateway_url}"\n{discord}\n'
    )
    return path


async def bot_process(config: Path, token: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        "-v",
        "run",
        "--config",
        str(config),
        cwd=ROOT,
        env={**os.environ, "DISCORD_TOKEN": token},
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )


@asynccontextmanager
async def running(proc: asyncio.subprocess.Process) -> AsyncIterator[list[str]]:
    """The bot process, ready on Discord inside the block; its log lines so far are yielded
    (and grow); stopped with SIGTERM on the way out."""
    lines: list[str] = []
    ready = asyncio.Event()

    async def read() -> None:
        assert proc.stderr is not None
        async for raw in proc.stderr:
            lines.append(raw.decode().rstrip())
            if "discord: ready as" in lines[-1]:
                ready.set()

    reader = asyncio.create_task(read())
    try:
        await asyncio.wait_for(ready.wait(), 30)
        yield lines
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(proc.wait(), 30)
        await asyncio.wait_for(reader, 5)
        assert code == 0, "\n".join(lines)
        assert not [line for line in lines if "Traceback" in line or " ERROR " in line], lines


def has_thread(fake: FakeDiscord, channel: str) -> bool:
    """A header in the channel with the thread's posts below it."""
    return any(
        fake.channel_messages(m["id"])
        for m in fake.channel_messages(channel)
        if "Thread by" in m["content"]
    )


def delivered_channels(db: Path) -> list[str]:
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT channel, state FROM deliveries ORDER BY id").fetchall()
    assert all(state == "sent" for _, state in rows), rows
    return [str(channel) for channel, _ in rows]


async def both_serve(
    fake: FakeDiscord,
    bsky: FakeBluesky,
    servers: dict[int, list[tuple[str, str]]],
    firsts: list[str],
    procs: list[asyncio.subprocess.Process],
) -> None:
    async with running(procs[0]) as log0, running(procs[1]) as log1:
        assert len(fake.command_syncs) == 1
        assert any("synced" in x and "global commands" in x for x in log0)
        assert not any("synced" in x for x in log1)
        assert any("the process running shard 0 syncs the commands" in x for x in log1)
        assert sorted(fake.identified_shards) == [(0, 2), (1, 2)]
        recs = []
        for n, (_, channel) in enumerate(servers[0] + servers[1]):
            rec = await fake.slash("unroll", channel_id=channel, url=bsky.url(firsts[n]))
            recs.append((channel, rec))
        for channel, rec in recs:
            # Answered, and the thread is in its channel exactly once.
            await fake.wait_for(partial(has_thread, fake, channel), within=20)
            assert rec.callback is not None and not rec.late_callback
            headers = [m for m in fake.channel_messages(channel) if "Thread by" in m["content"]]
            assert len(headers) == 1


async def test_two_processes_split_the_servers_by_shard(tmp_path: Path) -> None:
    async with FakeDiscord() as fake, FakeBluesky() as bsky:
        fake.message_bucket = None
        b = ThreadBuilder(start=datetime(2026, 5, 1, 9, 0, tzinfo=UTC))
        alice = b.author("alice", handle="alice.example.com", name="Alice")
        firsts = [b.chain(alice, 3, text=f"Thread {t}")[0] for t in range(4)]
        bsky.add_thread(b.build())
        servers = {
            shard: [fake.add_guild(f"server {i} on {shard}", shard=(shard, 2)) for i in range(2)]
            for shard in (0, 1)
        }
        fake.guilds.pop(fake.guild_id)  # the fake's own first server is not used here
        configs = {
            shard: write_config(
                tmp_path, f"shard{shard}", fake, bsky, f"shard_count = 2\nshard_ids = [{shard}]"
            )
            for shard in (0, 1)
        }
        # Both start at once; only shard 0's process registers the commands.
        procs = [await bot_process(configs[shard], fake.token) for shard in (0, 1)]
        try:
            await both_serve(fake, bsky, servers, firsts, procs)
        finally:
            for proc in procs:
                if proc.returncode is None:  # a failure above left it running
                    proc.kill()
                    await proc.wait()
        refused = [c for c in fake.calls if c.route.endswith("/callback") and c.status >= 400]
        assert refused == [] and fake.unknown == []
        # Each process delivered into its own shard's servers only.
        for shard in (0, 1):
            assert sorted(delivered_channels(tmp_path / f"shard{shard}.sqlite3")) == sorted(
                c for _, c in servers[shard]
            )


async def test_a_refused_shard_setting_stops_the_bot_with_what_to_set(tmp_path: Path) -> None:
    async with FakeDiscord() as fake, FakeBluesky() as bsky:
        fake.max_guilds_per_shard = 1
        fake.add_guild("a second server")
        config = write_config(tmp_path, "crowded", fake, bsky, "")
        proc = await bot_process(config, fake.token)
        _, err = await asyncio.wait_for(proc.communicate(), 60)
        assert proc.returncode == 2
        (line,) = err.decode().strip().splitlines()[-1:]
        assert line.startswith("unrollbot: Discord requires sharding") and "4011" in line
        assert "Set [discord] shard_count" in line and "Discord recommends 2" in line

        bad = write_config(tmp_path, "bad", fake, bsky, "shard_count = 2\nshard_ids = [2]")
        proc = await bot_process(bad, fake.token)
        _, err = await asyncio.wait_for(proc.communicate(), 60)
        assert proc.returncode == 2 and fake.identified_shards == [(0, 1)]
        assert "discord.shard_ids[0]: must be between 0 and 1" in err.decode()
