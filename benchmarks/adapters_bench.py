"""The bot as users run it: `unrollbot run` with every adapter (Discord against the fake
Discord, Matrix against a real Synapse, the console), measured from outside.

    .venv/bin/python -m benchmarks.adapters_bench [--idle-s 10] [--unrolls 20]

Reports:
- idle memory (RSS) of the bot process with every adapter connected, next to the RSS of a
  bare interpreter that imports the same libraries (the baseline, measured in the same run);
- `/unroll` acknowledgement time (INTERACTION_CREATE sent -> interaction callback received)
  with the upstream answering after 50 ms, next to `/help` (no upstream work) as the baseline;
- that SIGTERM shuts the bot down cleanly.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import psutil

from tests.e2e.synapse import Account, Synapse
from tests.fakes.bluesky_server import FakeBluesky
from tests.fakes.discord_server import FakeDiscord
from tests.fakes.thread_builder import ThreadBuilder

ROOT = Path(__file__).resolve().parent.parent


def baseline_rss_mb() -> float:
    code = "import aiohttp, aiosqlite, discord, nio, nh3, selectolax, tenacity, time; time.sleep(3)"
    proc = subprocess.Popen([sys.executable, "-c", code])
    time.sleep(2.5)
    rss = psutil.Process(proc.pid).memory_info().rss / 2**20
    proc.wait()
    return rss


def _read(req: urllib.request.Request) -> bytes:
    with urllib.request.urlopen(req, timeout=5) as resp:
        return bytes(resp.read())


async def bot_devices(synapse: Synapse, account: Account) -> int:
    """Wait until the bot has logged in to Matrix (a device of its own beside ours)."""
    while True:
        req = urllib.request.Request(
            f"{synapse.url}/_matrix/client/v3/devices",
            headers={"Authorization": f"Bearer {account.access_token}"},
        )
        body = await asyncio.to_thread(_read, req)
        devices = json.loads(body)["devices"]
        if len(devices) > 1:
            return len(devices)
        await asyncio.sleep(0.2)


async def ack_times(fake: FakeDiscord, name: str, runs: int, **options: str) -> list[float]:
    out = []
    for _ in range(runs):
        rec = await fake.slash(name, **options)
        await fake.wait_acknowledged(rec, within=5.0)
        assert rec.callback_at is not None
        out.append((rec.callback_at - rec.created) * 1000)
        await asyncio.sleep(0.05)
    return out


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--idle-s", type=float, default=10.0)
    parser.add_argument("--unrolls", type=int, default=20)
    args = parser.parse_args()

    synapse = Synapse()
    synapse.start()
    bot_account = synapse.register("unrollbot", "bot-password")
    tmp = Path(tempfile.mkdtemp(prefix="unrollbot-bench-"))
    try:
        async with FakeDiscord() as discord_fake, FakeBluesky(latency_s=0.05) as bsky:
            b = ThreadBuilder()
            keys = b.chain(b.author("alice"), 30)
            bsky.add_thread(b.build())
            config = tmp / "config.toml"
            config.write_text(
                f"""
[storage]
path = "bot.sqlite3"
[network]
allow_private_addresses = true
[sources.bluesky]
appview_url = "{bsky.base_url}"
[console]
enabled = true
[discord]
enabled = true
token_env = "BENCH_DISCORD_TOKEN"
test_guild_ids = [{discord_fake.guild_id}]
api_base_url = "{discord_fake.rest_base}"
gateway_url = "{discord_fake.gateway_url}"
[matrix]
enabled = true
homeserver = "{synapse.url}"
user_id = "{bot_account.user_id}"
password_env = "BENCH_MATRIX_PASSWORD"
store_path = "matrix-store"
"""
            )
            env = {
                **os.environ,
                "BENCH_DISCORD_TOKEN": discord_fake.token,
                "BENCH_MATRIX_PASSWORD": bot_account.password,
            }
            bot = await asyncio.create_subprocess_exec(
                str(ROOT / ".venv" / "bin" / "unrollbot"),
                "run",
                "--config",
                str(config),
                stdin=asyncio.subprocess.PIPE,  # the console waits on it, like a terminal
                env=env,
                cwd=tmp,
            )
            await asyncio.wait_for(discord_fake.identified.wait(), 60)
            matrix_devices = await asyncio.wait_for(bot_devices(synapse, bot_account), 60)
            await asyncio.sleep(args.idle_s)
            proc = psutil.Process(bot.pid)
            idle_rss = proc.memory_info().rss / 2**20
            base_rss = baseline_rss_mb()

            helps = await ack_times(discord_fake, "help", args.unrolls)
            unrolls = await ack_times(discord_fake, "unroll", args.unrolls, url=bsky.url(keys[0]))

            bot.send_signal(signal.SIGTERM)
            start = time.monotonic()
            code = await asyncio.wait_for(bot.wait(), 30)
            stop_s = time.monotonic() - start

        print(f"matrix: the bot logged in ({matrix_devices} devices on its account)")
        print(f"idle RSS, discord + matrix + console running: {idle_rss:.0f} MB (target < 150)")
        print(f"baseline: bare interpreter importing the same libraries: {base_rss:.0f} MB")
        print(f"ratio: {idle_rss / base_rss:.2f}x the baseline")

        def summary(xs: list[float]) -> str:
            p95 = sorted(xs)[max(0, round(len(xs) * 0.95) - 1)]
            return f"median {statistics.median(xs):.1f} ms, p95 {p95:.1f} ms, max {max(xs):.1f} ms"

        print(f"/help acknowledgement (baseline): {summary(helps)}")
        print(f"/unroll acknowledgement (upstream at 50 ms): {summary(unrolls)} (target < 100 ms)")
        print(f"ratio of medians: {statistics.median(unrolls) / statistics.median(helps):.2f}x")
        print(f"SIGTERM: exit code {code} after {stop_s:.2f} s")
    finally:
        synapse.close()


if __name__ == "__main__":
    asyncio.run(main())
