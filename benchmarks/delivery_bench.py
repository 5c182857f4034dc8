"""Delivery under the platforms' message rate limits: the packed layout against today's
per-post layout, in the same run.

    .venv/bin/python -m benchmarks.delivery_bench [--sizes 30,150,300]
        [--platforms discord,matrix] [--layouts per-post,packed] [--json PATH]

For each thread size and layout: how many chat messages the thread takes (header
included) and how long from the start of delivery until the last post is in the room.

- Discord: the real discord.py against the fake Discord, which enforces Discord's
  per-channel bucket of 5 messages per 5 s (discord.py waits on the rate-limit headers and
  retries the 429s itself).
- Matrix: the Matrix adapter (matrix-nio) against a real Synapse started with its default
  message rate limit (``rc_message``: 0.2 per second, bursts of 10); nio waits out the 429s.

The thread is a Bluesky thread of posts of about 100 characters, fetched through the real
source from the local fake AppView. Every case runs at the same time as the others, each
with its own room (Discord: its own channel; Matrix: its own bot account, since Synapse
limits each user on its own), so a slow per-post case does not hold up the rest. The
per-post Matrix cases take minutes: 150 posts about 12 minutes, 300 about 24.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bot.adapters.matrix.adapter import MatrixAdapter
from bot.app import App
from bot.config import Config, MatrixConfig, NetworkConfig, StorageConfig, UnrollConfig
from bot.context import ChatAdapter, Room
from bot.http import HttpClient, HttpSettings
from bot.render.thread_view import thread_messages
from bot.sources.bluesky import BlueskySource
from tests.e2e.synapse import Synapse
from tests.fakes.bluesky_server import FakeBluesky
from tests.fakes.discord_bot import connected
from tests.fakes.discord_server import FakeDiscord
from tests.fakes.thread_builder import ThreadBuilder

TEXT = (
    "the tide came in slowly over the mudflats while the herons waited by the old pier "
    "and nobody on the beach noticed how quiet the gulls had become that evening"
)
WORDS = TEXT.split(" ")


@dataclass
class Result:
    platform: str
    posts: int
    layout: str
    messages: int
    seconds: float
    rate_limited: int = 0


def build_thread(bsky: FakeBluesky, n: int, author: str) -> str:
    """A thread of ``n`` posts of about 100 characters; returns its first post's link."""
    b = ThreadBuilder()
    who = b.author(author, name=author.capitalize())
    parent = None
    first = ""
    for i in range(n):
        words = [WORDS[(i * 7 + j) % len(WORDS)] for j in range(19)]
        text = " ".join(words).capitalize() + "."
        # Keys unique across threads: the fake AppView holds every case's thread at once.
        parent = b.post(who, text, parent=parent, key=f"{author}-{i}")
        first = first or parent
    bsky.add_thread(b.build())
    return bsky.url(first)


async def make_app(tmp: Path, bsky: FakeBluesky, http: HttpClient, **extra: Any) -> App:
    config = Config(
        storage=StorageConfig(str(tmp / f"bot-{uuid.uuid4().hex[:6]}.sqlite3")),
        network=NetworkConfig(allow_private_addresses=True, retries=1),
        unroll=UnrollConfig(max_posts=1000),
        **extra,
    )
    return await App.create(
        config, sources=[BlueskySource(http, bsky.base_url)], extensions=["cogs.content_notes"]
    )


async def deliver(
    app: App, adapter: ChatAdapter, room: Room, url: str, layout: str
) -> tuple[int, float]:
    """Unroll (from the cache after the first time) and deliver; returns (chat messages,
    seconds from the first send until the last post is in the room)."""
    thread = await app.unroller.unroll(url, scope=room.scope)
    messages = thread_messages(thread, await app.decide_for(room.scope))
    started = time.monotonic()
    record = await app.deliverer.deliver(adapter, room, thread, messages, layout=layout)
    elapsed = time.monotonic() - started
    return sum(len(m.message_ids) for m in record.messages), elapsed


async def discord_cases(
    tmp: Path, bsky: FakeBluesky, http: HttpClient, cases: list[tuple[int, str]]
) -> list[Result]:
    async with FakeDiscord() as fake:
        assert fake.message_bucket == (5, 5.0)
        channels = []
        for n, layout in cases:
            channel = fake.snowflake()
            fake.channels[channel] = fake.channel_payload(channel, f"bench-{n}-{layout}")
            channels.append(channel)
        app = await make_app(tmp, bsky, http)
        try:
            async with connected(app, fake, ready_s=10) as adapter:

                async def one(n: int, layout: str, channel: str) -> Result:
                    url = build_thread(bsky, n, f"d{n}{layout.replace('-', '')}")
                    room = Room("discord", fake.guild_id, channel)
                    count, seconds = await deliver(app, adapter, room, url, layout)
                    return Result("discord", n, layout, count, seconds)

                results = await asyncio.gather(
                    *(one(n, layout, ch) for (n, layout), ch in zip(cases, channels, strict=True))
                )
            limited = len(fake.rate_limited)
            for r in results:
                r.rate_limited = limited  # 429s over the whole run (discord.py retried them)
            return list(results)
        finally:
            await app.close()


async def matrix_cases(
    tmp: Path, bsky: FakeBluesky, http: HttpClient, cases: list[tuple[int, str]]
) -> list[Result]:
    synapse = Synapse(message_rate_limit=True)
    await asyncio.to_thread(synapse.start)
    try:

        async def one(n: int, layout: str) -> Result:
            account = await asyncio.to_thread(
                synapse.register, f"bench-{n}-{layout}-{uuid.uuid4().hex[:6]}"
            )
            matrix = MatrixConfig(
                enabled=True,
                homeserver=synapse.url,
                user_id=account.user_id,
                store_path=str(tmp / f"matrix-{account.localpart}"),
            )
            app = await make_app(tmp, bsky, http, matrix=matrix)
            adapter = MatrixAdapter(
                matrix,
                app.dispatcher,
                store_dir=str(tmp / f"matrix-{account.localpart}"),
                access_token=account.access_token,
                send_deadline_s=3600,
            )
            try:
                await adapter.start()
                assert adapter.client is not None
                created = await adapter.client.room_create(name=f"bench {n} {layout}")
                room_id = str(getattr(created, "room_id", ""))
                assert room_id, created
                url = build_thread(bsky, n, f"m{n}{layout.replace('-', '')}")
                room = Room("matrix", room_id, room_id)
                count, seconds = await deliver(app, adapter, room, url, layout)
                return Result("matrix", n, layout, count, seconds)
            finally:
                await adapter.stop()
                await app.close()

        return list(await asyncio.gather(*(one(n, layout) for n, layout in cases)))
    finally:
        await asyncio.to_thread(synapse.close)


def report(results: list[Result]) -> str:
    lines = [
        f"{'platform':<8} {'posts':>5} {'layout':<8} {'messages':>8} {'seconds':>8}"
        f" {'msgs vs per-post':>16} {'time vs per-post':>16} {'429s (run)':>10}"
    ]
    base = {(r.platform, r.posts): r for r in results if r.layout == "per-post"}
    for r in sorted(results, key=lambda r: (r.platform, r.posts, r.layout != "per-post")):
        b = base.get((r.platform, r.posts))
        ratio_m = f"{r.messages / b.messages:.3f}" if b and b.messages else "-"
        ratio_t = f"{r.seconds / b.seconds:.3f}" if b and b.seconds else "-"
        lines.append(
            f"{r.platform:<8} {r.posts:>5} {r.layout:<8} {r.messages:>8} {r.seconds:>8.1f}"
            f" {ratio_m:>16} {ratio_t:>16}"
            f" {r.rate_limited if r.platform == 'discord' else '-':>10}"
        )
    return "\n".join(lines)


async def main(args: argparse.Namespace) -> list[Result]:
    sizes = [int(s) for s in args.sizes.split(",") if s]
    layouts = [s for s in args.layouts.split(",") if s]
    platforms = [s for s in args.platforms.split(",") if s]
    cases = [(n, layout) for n in sizes for layout in layouts]
    runners: dict[
        str,
        Callable[[Path, FakeBluesky, HttpClient, list[tuple[int, str]]], Awaitable[list[Result]]],
    ] = {"discord": discord_cases, "matrix": matrix_cases}
    with tempfile.TemporaryDirectory(prefix="delivery-bench-") as folder:
        async with FakeBluesky() as bsky:
            http = HttpClient(HttpSettings(allow_private_addresses=True, retries=1))
            try:
                groups = await asyncio.gather(
                    *(runners[p](Path(folder), bsky, http, cases) for p in platforms)
                )
            finally:
                await http.close()
    return [r for g in groups for r in g]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="30,150,300")
    parser.add_argument("--layouts", default="per-post,packed")
    parser.add_argument("--platforms", default="discord,matrix")
    parser.add_argument("--json", default="", help="also write the results to this file")
    logging.basicConfig(level=logging.ERROR)
    results = asyncio.run(main(parser.parse_args()))
    print(report(results))
    if parser.parse_args().json:
        Path(parser.parse_args().json).write_text(json.dumps([asdict(r) for r in results]))
    sys.exit(0)
