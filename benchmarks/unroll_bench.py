"""Unroll benchmark: threads of 30, 150 and 300 posts from each source, against the local
fake servers with 50 ms of latency per request, next to a naive baseline (one request per
post, walking the chain) measured in the same run.

    .venv/bin/python -m benchmarks.unroll_bench [--latency-ms 50] [--sizes 30,150,300]

Prints, per source and size: requests, sequential round trips and wall time for unrollbot
and the baseline, the ratio, and the requests a cached re-unroll makes (should be 0).
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.extensions import open_database
from bot.http import HttpClient, HttpSettings
from bot.sources import SourceRegistry
from bot.sources.base import Source
from bot.unroller import Unroller
from storage.threads_repo import ThreadRepo
from tests.fakes.base import FakeServer
from tests.fakes.thread_builder import SynthThread, ThreadBuilder


@dataclass
class Run:
    posts: int
    requests: int
    rounds: int
    seconds: float


async def measure(server: FakeServer, job: Callable[[], Awaitable[int]]) -> Run:
    server.requests.clear()
    start = time.perf_counter()
    posts = await job()
    elapsed = time.perf_counter() - start
    return Run(posts, len(server.requests), server.sequential_round_trips(), elapsed)


def busy_thread(n: int) -> tuple[SynthThread, list[str]]:
    """An n-post self-thread with others' replies scattered through it."""
    b = ThreadBuilder()
    alice, bob = b.author("alice"), b.author("bob")
    keys = b.chain(alice, n)
    for i in range(0, n, 7):
        b.reply(bob, keys[i], "a reply from someone else")
    return b.build(), keys


async def compare(
    server: FakeServer,
    source: Source,
    link: str,
    naive: Callable[[], Awaitable[int]],
    db_path: Path,
) -> tuple[Run, Run, int]:
    """unrollbot (fresh, then cached) and the baseline, on the same server."""
    db = await open_database(str(db_path))
    try:
        unroller = Unroller(SourceRegistry([source]), ThreadRepo(db), max_posts=500)

        async def ours() -> int:
            return len((await unroller.unroll(link)).posts)

        fast = await measure(server, ours)
        cached = await measure(server, ours)
        slow = await measure(server, naive)
        return fast, slow, cached.requests
    finally:
        await db.close()


# --- Bluesky ---------------------------------------------------------------------------


async def bluesky_case(n: int, latency: float, http: HttpClient, tmp: Path) -> tuple[Run, Run, int]:
    from bot.sources.bluesky import BlueskySource
    from tests.fakes.bluesky_server import FakeBluesky

    thread, keys = busy_thread(n)
    async with FakeBluesky(latency_s=latency) as server:
        server.add_thread(thread)

        async def naive() -> int:
            # One getPostThread per post with depth 1, following the author's earliest reply.
            uri = server.uri(keys[0])
            count = 0
            while uri:
                data = await http.get_json(
                    f"{server.base_url}/xrpc/app.bsky.feed.getPostThread",
                    {"uri": uri, "depth": "1", "parentHeight": "0"},
                )
                count += 1
                node = data["thread"]
                did = node["post"]["author"]["did"]
                mine = sorted(
                    (
                        r
                        for r in node.get("replies", [])
                        if r.get("post", {}).get("author", {}).get("did") == did
                    ),
                    key=lambda r: r["post"]["record"]["createdAt"],
                )
                uri = mine[0]["post"]["uri"] if mine else ""
            return count

        source = BlueskySource(http, server.base_url)
        link = server.url(keys[n // 2])  # a link into the middle, the usual case
        return await compare(server, source, link, naive, tmp / f"bsky-{n}.sqlite3")


# --- Mastodon --------------------------------------------------------------------------


async def mastodon_case(
    n: int, latency: float, http: HttpClient, tmp: Path
) -> tuple[Run, Run, int]:
    from bot.sources.mastodon import MastodonSource
    from tests.fakes.mastodon_server import FakeMastodon

    thread, keys = busy_thread(n)
    async with FakeMastodon(latency_s=latency) as server:
        server.add_thread(thread)

        async def naive() -> int:
            # One context call per post, following the author's earliest direct reply.
            status_id = server.status_id(keys[0])
            count = 0
            while status_id:
                ctx: dict[str, Any] = await http.get_json(
                    f"{server.base_url}/api/v1/statuses/{status_id}/context"
                )
                count += 1
                me = server.account_id("alice")
                kids = [
                    s
                    for s in ctx["descendants"]
                    if s["in_reply_to_id"] == status_id and s["account"]["id"] == me
                ]
                status_id = min(kids, key=lambda s: s["created_at"])["id"] if kids else ""
            return count

        link = server.url(keys[n // 2])
        return await compare(server, MastodonSource(http), link, naive, tmp / f"masto-{n}.sqlite3")


CASES = {"bluesky": bluesky_case, "mastodon": mastodon_case}


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--sizes", default="30,150,300")
    parser.add_argument("--sources", default=",".join(CASES))
    args = parser.parse_args()
    latency = args.latency_ms / 1000
    sizes = [int(s) for s in args.sizes.split(",")]
    http = HttpClient(HttpSettings(allow_private_addresses=True, retries=0, per_host_concurrency=8))
    print(f"latency {args.latency_ms:.0f} ms per request")
    print("baseline: one request per post, walking the chain")
    header = (
        f"{'source':9} {'posts':>5} | {'req':>4} {'rounds':>6} {'wall s':>7} | "
        f"{'base req':>8} {'rounds':>6} {'wall s':>7} | {'speed-up':>8} | cached req"
    )
    print(header)
    print("-" * len(header))
    with tempfile.TemporaryDirectory() as tmpdir:
        for name in args.sources.split(","):
            for n in sizes:
                fast, slow, cached = await CASES[name](n, latency, http, Path(tmpdir))
                assert fast.posts == n, f"{name} {n}: unrolled {fast.posts} posts"
                print(
                    f"{name:9} {n:>5} | {fast.requests:>4} {fast.rounds:>6} {fast.seconds:>7.3f} | "
                    f"{slow.requests:>8} {slow.rounds:>6} {slow.seconds:>7.3f} | "
                    f"{slow.seconds / fast.seconds:>7.1f}x | {cached}"
                )
    await http.close()


if __name__ == "__main__":
    asyncio.run(main())
