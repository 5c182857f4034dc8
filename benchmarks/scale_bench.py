"""Scale-out benchmark: 20,000 followed Bluesky authors polled by 3 bot processes on one
PostgreSQL database, against 1 process on the same data in the same run (the baseline).

    .venv/bin/python -m benchmarks.scale_bench [--authors 20000] [--processes 3]
        [--active 0.01] [--rooms 200] [--interval-s 3000] [--speed 10]

Everything runs on 127.0.0.1: a PostgreSQL server started for the run (initdb + pg_ctl,
as the tests do), the fake Bluesky AppView, and a fake chat platform that logs every message
and deduplicates idempotency keys. Time is compressed: the bot processes run their
subscriptions on one shared clock going ``--speed`` times faster than the wall clock, so the
Bluesky host budget (3,000 requests per 5 minutes, polls taking their share) and a poll
interval of ``--interval-s`` (min = max, so "once per interval" is exact; 20,000 authors
need at least 2,500 s under that budget) play out in minutes. All times printed are wall
seconds unless they say otherwise.

Each phase starts from a copy of the same database, every author due once within the next
interval (spread over it), and runs until every author was polled once, plus a drain for
the last threads to settle and be posted. A share of the authors (``--active``) writes one
thread a little before it is due; each author is followed by one room. Printed per phase,
from the fake servers' logs: polls per author in the interval from its first poll (must be
1) and later polls that came before an interval was over (must be 0), requests per 5-minute
window against the budget, threads lost and doubled in chat (must be 0), claims (first
polls) per wall second, the time per round against the schedule and how late polls ran.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import random
import re
import signal
import statistics
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.app import App
from bot.config import (
    BlueskyConfig,
    Config,
    NetworkConfig,
    SourcesConfig,
    StorageConfig,
    SubscriptionsConfig,
)
from bot.extensions import open_database
from bot.http import HttpClient, HttpSettings
from bot.sources import polling
from bot.sources.bluesky import BlueskySource
from bot.sources.bluesky.mapping import map_author
from cogs.subscriptions.cog import SubscriptionsCog
from cogs.subscriptions.ratelimit import POLL_SHARE, WINDOW_S
from storage.db import Database
from tests.fakes.bluesky_server import FakeBluesky
from tests.fakes.chat_server import FakeChat, HttpChat
from tests.fakes.thread_builder import ThreadBuilder
from tests.postgres import PASSWORD, PostgresServer

PASSWORD_ENV = "UNROLLBOT_BENCH_DB_PASSWORD"
POSTS_PER_THREAD = 3
SETTLE_S = 300
POST_RE = re.compile(r"(U\d+P\d+) (\d+)/(\d+)")


class SpeedClock:
    """Wall time sped up ``speed`` times from ``epoch``: every process given the same epoch
    and speed reads the same time."""

    def __init__(self, epoch: float, speed: float) -> None:
        self.epoch = epoch
        self.speed = speed

    def now(self) -> float:
        return self.epoch + (time.time() - self.epoch) * self.speed

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds) / self.speed)


def bench_config(db: str, bsky_url: str, interval_s: int, speed: float) -> Config:
    return Config(
        # A lease runs out on the shared clock but is renewed every third of lease_s in
        # wall seconds: the longest lease (an hour of the shared clock, 6 wall minutes at
        # 10x) outlasts the polling of a whole claimed batch, so no lease runs out while
        # its poll is under way.
        storage=StorageConfig(url=db, password_env=PASSWORD_ENV, lease_s=3600.0),
        network=NetworkConfig(allow_private_addresses=True, retries=0),
        sources=SourcesConfig(bluesky=BlueskyConfig(appview_url=bsky_url)),
        subscriptions=SubscriptionsConfig(
            min_poll_interval_s=interval_s,
            max_poll_interval_s=interval_s,
            settle_s=SETTLE_S,
            max_backfill=0,
        ),
    )


# ---- one bot process ----------------------------------------------------------------------


async def child(
    db: str, bsky_url: str, chat_url: str, name: str, interval: str, speed: str
) -> None:
    """Connects, says READY, waits for ``GO <epoch>`` on stdin, polls until SIGTERM, then
    prints what it did."""
    http = HttpClient(HttpSettings(allow_private_addresses=True, retries=0))
    config = bench_config(db, bsky_url, int(interval), float(speed))
    app = await App.create(config, sources=[BlueskySource(http, bsky_url)], extensions=[])
    app.layouts.default = "per-post"
    chat = HttpChat(app.dispatcher, chat_url, sender=name)
    app.adapters["memory"] = chat
    print("READY", flush=True)
    line = await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    clock = SpeedClock(float(line.split()[1]), float(speed))
    cog = SubscriptionsCog.from_host(app, clock=clock)
    app.dispatcher.register(cog)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await app.start_cogs()
    await stop.wait()
    polls = cog.service.poller.polls
    await app.close()
    await http.close()
    print(f"STATS polls={polls}", flush=True)


# ---- the benchmark's side -----------------------------------------------------------------


@dataclass
class Phase:
    processes: int
    started_mono: float = 0.0
    polls_by_process: list[int] = field(default_factory=list)
    figures: dict[str, Any] = field(default_factory=dict)


async def populate(db: Database, bsky: FakeBluesky, args: argparse.Namespace) -> list[int]:
    """Every author followed by one room; returns the authors' row ids in order. (Each
    phase sets the host and times for its own fake server and clock.)"""
    now = time.time()
    rows = []
    for i in range(args.authors):
        who = map_author(bsky._author(bsky.did(f"u{i}")))
        rows.append(
            ("bluesky", who.id, who.handle, who.name, who.url, "unset", args.interval_s, now)
        )
    async with db.transaction() as conn:
        await conn.executemany(
            "INSERT INTO sub_authors (source, author_id, handle, name, url, host, interval_s,"
            " next_poll_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
    by_did = {
        r["author_id"]: int(r["id"])
        for r in await db.fetchall("SELECT id, author_id FROM sub_authors")
    }
    ids = [by_did[row[1]] for row in rows]
    subs = [
        (aid, "memory", "scope-1", f"room-{i % args.rooms}", 0, "[]", "[]", 0, "bench", now)
        for i, aid in enumerate(ids)
    ]
    async with db.transaction() as conn:
        await conn.executemany(
            "INSERT INTO subscriptions (author, adapter, scope, channel, min_posts,"
            " include_words, exclude_words, backfill, created_by, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            subs,
        )
    return ids


def due_offset(author_row: int, n: int, interval: float) -> float:
    """When an author is first due in a phase, from the phase's start (shared clock): the
    authors spread over one interval (the same formula as the UPDATE in ``run_phase``)."""
    return interval * ((author_row * 7919) % n) / n


async def spawn(
    args: argparse.Namespace, db: str, bsky: str, chat: str, name: str
) -> asyncio.subprocess.Process:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "benchmarks.scale_bench",
        "--child",
        db,
        bsky,
        chat,
        name,
        str(args.interval_s),
        str(args.speed),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    assert proc.stdout is not None
    line = await asyncio.wait_for(proc.stdout.readline(), timeout=120)
    if b"READY" not in line:
        raise RuntimeError(f"bot process {name} did not start: {line!r}")
    return proc


def is_poll(query: list[tuple[str, str]]) -> bool:
    """A subscription's poll: the first page of the author's threads (an unroll reads the
    feed with replies, and later pages carry a cursor)."""
    q = dict(query)
    return q.get("filter") == "posts_and_author_threads" and "cursor" not in q


async def run_phase(
    args: argparse.Namespace, server: PostgresServer, template: str, ids: list[int], processes: int
) -> Phase:
    rng = random.Random(args.seed + processes)
    phase = Phase(processes)
    n = len(ids)
    interval = float(args.interval_s)
    db_url = await copy_database(server, template)
    # A fresh upstream per phase: only what is written during the phase is new.
    builder = ThreadBuilder(start=datetime.now(UTC) - timedelta(days=1))
    for i in range(n):
        builder.author(f"u{i}", handle=f"u{i}.example.com", name=f"U {i}")
    async with FakeBluesky() as bsky, FakeChat() as chat:
        bsky.add_thread(builder.build())
        procs = await asyncio.gather(
            *(
                spawn(args, db_url, bsky.base_url, chat.base_url, f"bot{i}")
                for i in range(processes)
            )
        )
        # Every author due once in the coming interval, spread over it; only threads
        # written from now on are new to the subscriptions.
        epoch = time.time() + 0.5
        db = await open_database(db_url, password=PASSWORD)
        try:
            await db.execute(
                "UPDATE sub_authors SET next_poll_at = ? + ? * ((id * 7919) % ?) / ?, host = ?",
                (epoch, interval, n, float(n), bsky.base_url.split("://", 1)[1]),
            )
            await db.execute("UPDATE subscriptions SET created_at = ?", (epoch,))
        finally:
            await db.close()
        bsky.requests.clear()
        phase.started_mono = time.monotonic() + (epoch - time.time())
        for proc in procs:
            assert proc.stdin is not None
            proc.stdin.write(f"GO {epoch}\n".encode())
            await proc.stdin.drain()

        def sim_now() -> float:
            return (time.time() - epoch) * args.speed

        # Active authors write one thread each a little before they are due.
        active = rng.sample(range(n), int(n * args.active))
        plan = sorted(
            (max(0.0, due_offset(ids[i], n, interval) - rng.uniform(0.02, 0.1) * interval), i)
            for i in active
        )
        written: dict[str, str] = {}  # label -> room
        for at_sim, author in plan:
            await asyncio.sleep(max(0.0, (at_sim - sim_now()) / args.speed))
            label = f"U{author}P{processes}"
            when = datetime.fromtimestamp(epoch + sim_now(), UTC)
            parent = None
            for k in range(1, POSTS_PER_THREAD + 1):
                parent = builder.post(
                    f"u{author}",
                    f"{label} {k}/{POSTS_PER_THREAD}",
                    parent=parent,
                    at=when + timedelta(milliseconds=k),
                )
            bsky.add_thread(builder.build())
            written[label] = f"room-{author % args.rooms}"

        # Until every author was polled once (at least one interval), then until the last
        # threads had time to settle and be posted; at most five intervals in all.
        cap = 5 * interval
        while sim_now() < cap:
            polled = {dict(r.query)["actor"] for r in bsky.requests if is_poll(r.query)}
            if sim_now() >= interval and len(polled) >= n:
                break
            await asyncio.sleep(1.0)
        drain_until = sim_now() + 1.5 * SETTLE_S
        want = len(written) * (POSTS_PER_THREAD + 1)
        while sim_now() < cap:
            if sim_now() >= drain_until and len(chat.messages) >= want:
                break
            await asyncio.sleep(1.0)
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            assert proc.stdout is not None
            out = (await asyncio.wait_for(proc.stdout.read(), timeout=120)).decode()
            await proc.wait()
            polls = [int(w.split("=")[1]) for w in out.split() if w.startswith("polls=")]
            phase.polls_by_process.append(polls[0] if polls else -1)
        phase.figures = measure(args, phase, bsky, chat, ids, written)
    return phase


async def copy_database(server: PostgresServer, template: str) -> str:
    """A new database holding what ``template`` holds (PostgreSQL copies it whole)."""
    import asyncpg

    name = f"p_{random.getrandbits(48):012x}"
    conn = await asyncpg.connect(server.url(), password=PASSWORD)
    try:
        await conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template.rsplit("/", 1)[1]}"')
    finally:
        await conn.close()
    return server.url(name)


def measure(
    args: argparse.Namespace,
    phase: Phase,
    bsky: FakeBluesky,
    chat: FakeChat,
    ids: list[int],
    written: dict[str, str],
) -> dict[str, Any]:
    speed, interval, n = args.speed, float(args.interval_s), len(ids)

    def sim(mono: float) -> float:
        return (mono - phase.started_mono) * speed

    polls: dict[str, list[float]] = defaultdict(list)
    requests = sorted(sim(r.started) for r in bsky.requests)
    for rec in bsky.requests:
        if is_poll(rec.query):
            polls[dict(rec.query)["actor"]].append(sim(rec.started))
    # Polls in the interval that starts at each author's first poll (must be 1), and how
    # late that first poll came after the author was due.
    in_first_interval: Counter[int] = Counter()
    lateness = []
    firsts = []
    for i, aid in enumerate(ids):
        times = sorted(polls.get(bsky.did(f"u{i}"), []))
        if not times:
            in_first_interval[0] += 1
            continue
        in_first_interval[sum(1 for t in times if t < times[0] + interval)] += 1
        lateness.append((times[0] - due_offset(aid, n, interval)) / speed)
        firsts.append(times[0])
    gaps = [b - a for ts in polls.values() for a, b in itertools.pairwise(sorted(ts))]
    # Requests in the worst 5-minute window of the shared clock.
    worst_window = 0
    j = 0
    for i, start in enumerate(requests):
        while j < len(requests) and requests[j] < start + WINDOW_S:
            j += 1
        worst_window = max(worst_window, j - i)
    # Threads in chat: each in its room once, posts in order.
    headers: Counter[tuple[str, str]] = Counter()
    out_of_order = 0
    for msg in chat.messages:
        if msg.thread is not None:
            continue
        found = [m for p in chat.thread_of(msg) if (m := POST_RE.search(p.text))]
        labels = {m.group(1) for m in found}
        if len(labels) == 1:
            label = labels.pop()
            headers[(msg.channel, label)] += 1
            out_of_order += [int(m.group(2)) for m in found] != list(range(1, POSTS_PER_THREAD + 1))
    lost = sum(1 for label, room in written.items() if headers[(room, label)] == 0)
    doubled = sum(1 for c in headers.values() if c > 1)
    total_polls = sum(len(v) for v in polls.values())
    round_wall = max(firsts) / speed if firsts else float("nan")
    busy = (max(firsts) - min(firsts)) / speed if len(firsts) > 1 else float("nan")
    per_window = polling("bluesky").per_window
    return {
        "in_first_interval": dict(sorted(in_first_interval.items())),
        "early": sum(1 for g in gaps if g < interval * 0.999),
        "second_polls": len(gaps),
        "late_p50": statistics.median(lateness) if lateness else float("nan"),
        "late_p99": statistics.quantiles(lateness, n=100)[98] if len(lateness) > 1 else 0.0,
        "late_max": max(lateness) if lateness else float("nan"),
        "worst_window": worst_window,
        "budget": per_window,
        "poll_share": int(per_window * POLL_SHARE),
        "threads": len(written),
        "lost": lost,
        "doubled": doubled,
        "out_of_order": out_of_order,
        "deduped": chat.deduped,
        "polls": total_polls,
        "claims_per_s": len(firsts) / busy if busy == busy and busy > 0 else float("nan"),
        "round_wall": round_wall,
        "schedule_wall": interval / speed,
    }


def report(phase: Phase) -> None:
    f = phase.figures
    name = "baseline, 1 process" if phase.processes == 1 else f"{phase.processes} processes"
    print(f"\n== {name}")
    print(
        "  polls per author in the interval from its first poll (polls: authors):"
        f" {f['in_first_interval']}; polled again before an interval was over: {f['early']}"
        f" of {f['second_polls']} later polls"
    )
    print(
        f"  requests to the Bluesky host in the worst 5-minute window: {f['worst_window']}"
        f" (budget {f['budget']}, polls' share {f['poll_share']})"
    )
    print(
        f"  threads written {f['threads']}: lost {f['lost']}, doubled {f['doubled']}, out of"
        f" order {f['out_of_order']}; resends answered from their key {f['deduped']}"
    )
    print(
        f"  claims (first polls) per wall second: {f['claims_per_s']:.0f}; polls in all"
        f" {f['polls']} (per process: {phase.polls_by_process})"
    )
    print(
        f"  time per round: {f['round_wall']:.0f} s wall (the schedule:"
        f" {f['schedule_wall']:.0f} s);"
        f" first polls late by median {f['late_p50']:.1f} s, p99 {f['late_p99']:.1f} s,"
        f" max {f['late_max']:.1f} s wall"
    )


async def run(args: argparse.Namespace) -> None:
    os.environ[PASSWORD_ENV] = PASSWORD
    server = PostgresServer()
    server.start()
    try:
        # The authors' profiles, as the fake serves them (not started: nothing is asked).
        bsky = FakeBluesky()
        builder = ThreadBuilder()
        for i in range(args.authors):
            builder.author(f"u{i}", handle=f"u{i}.example.com", name=f"U {i}")
        bsky.add_thread(builder.build())
        template = await server.create_database()
        db = await open_database(template, password=PASSWORD)
        t = time.perf_counter()
        try:
            ids = await populate(db, bsky, args)
        finally:
            await db.close()
        print(
            f"{args.authors} authors in {args.rooms} rooms, {args.active:.0%} posting one"
            f" thread of {POSTS_PER_THREAD} posts; interval {args.interval_s} s and a 5-minute"
            f" budget window on a clock {args.speed:g}x the wall clock (set up in"
            f" {time.perf_counter() - t:.1f} s)"
        )
        for n in (1, args.processes):
            report(await run_phase(args, server, template, ids, n))
    finally:
        server.stop()


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        asyncio.run(child(*sys.argv[2:8]))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--authors", type=int, default=20000)
    parser.add_argument("--processes", type=int, default=3)
    parser.add_argument("--active", type=float, default=0.01, help="share of authors posting")
    parser.add_argument("--rooms", type=int, default=200)
    parser.add_argument("--interval-s", type=int, default=3000)
    parser.add_argument("--speed", type=float, default=10.0)
    parser.add_argument("--seed", type=int, default=1)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
