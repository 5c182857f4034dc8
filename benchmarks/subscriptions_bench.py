"""Subscriptions benchmark: 5,000 followed authors across 500 rooms against the local fake
servers (half on the Bluesky fake, half on five Mastodon fakes), one simulated hour on the
manual clock, the real sources, storage and outbox.

    .venv/bin/python -m benchmarks.subscriptions_bench [--authors 5000] [--rooms 500]
        [--minutes 60] [--drain-minutes 20] [--rooms-per-author 2] [--active 0.1]
        [--latency-ms 2]

During the hour a share of the authors (``--active``) write a new thread of 1 to 6 posts;
every thread is expected in every room that follows its author, once. Prints requests per
minute per host against the host's limit (worst 5-minute window, simulated time), polls,
full-thread fetches, threads posted / expected / doubled, the delay from a thread settling
(its last post + settle_s) to its delivery, memory (peak RSS of the whole process, fakes
included, and the Python heap held by the bot) and wall time.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import random
import resource
import statistics
import tempfile
import time
import tracemalloc
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.adapters.memory import MemoryAdapter
from bot.app import App
from bot.config import (
    BlueskyConfig,
    Config,
    NetworkConfig,
    SourcesConfig,
    StorageConfig,
    SubscriptionsConfig,
)
from bot.http import HttpClient, HttpSettings
from bot.sources.bluesky import BlueskySource
from bot.sources.mastodon import MastodonSource
from cogs.subscriptions.clock import ManualClock
from cogs.subscriptions.cog import SubscriptionsCog
from cogs.subscriptions.model import Filters, Subscription
from cogs.subscriptions.ratelimit import WINDOW_S
from tests.fakes.base import FakeServer
from tests.fakes.bluesky_server import FakeBluesky
from tests.fakes.mastodon_server import FakeAccount, FakeMastodon
from tests.fakes.thread_builder import ThreadBuilder

START = datetime(2026, 6, 1, 12, 0, tzinfo=UTC).timestamp()
STEP_S = 5.0


@dataclass
class Planned:
    """A thread an author will write during the run."""

    author: int  # index into the author list
    at: float  # first post, simulated
    posts: int
    gap_s: float
    root_id: str = ""
    last_at: float = 0.0


@dataclass
class Host:
    name: str
    server: FakeServer
    limit: int  # requests per 5 minutes
    per_tick: list[tuple[float, int]] = field(default_factory=list)


async def run(args: argparse.Namespace) -> None:
    rng = random.Random(args.seed)
    clock = ManualClock(START)
    tmp = Path(tempfile.mkdtemp(prefix="subs-bench-"))
    latency = args.latency_ms / 1000
    bsky = FakeBluesky(latency_s=latency)
    mastos = [
        FakeMastodon(latency_s=latency, start_ms=int((START - 2 * 86400) * 1000))
        for _ in range(args.mastodon_hosts)
    ]
    for server in (bsky, *mastos):
        await server.start()
    hosts = [Host("bluesky appview", bsky, 3000)] + [
        Host(f"mastodon {i + 1}", m, 300) for i, m in enumerate(mastos)
    ]

    # ---- authors with a little history ------------------------------------------------
    n_bsky = args.authors // 2
    n_masto = args.authors - n_bsky
    # History: every post a day or so before the run (the builder ticks 1 s per post).
    b = ThreadBuilder(start=datetime.fromtimestamp(START - 86400, UTC), step=timedelta(seconds=1))
    for i in range(n_bsky):
        key = b.author(f"b{i}", handle=f"b{i}.example.com", name=f"B {i}")
        b.chain(key, 2, text=f"old b{i}")
    bsky.add_thread(b.build())
    accounts: list[tuple[FakeMastodon, FakeAccount]] = []
    for i in range(n_masto):
        m = mastos[i % args.mastodon_hosts]
        acc = m.account(f"m{i}")
        m.thread(acc, 2, label=f"old m{i}")
        accounts.append((m, acc))

    config = Config(
        storage=StorageConfig(str(tmp / "bench.sqlite3")),
        network=NetworkConfig(allow_private_addresses=True, retries=0),
        sources=SourcesConfig(bluesky=BlueskyConfig(appview_url=bsky.base_url)),
        subscriptions=SubscriptionsConfig(),
    )
    http = HttpClient(
        HttpSettings(allow_private_addresses=True, retries=0, per_host_concurrency=16)
    )
    masto_source = MastodonSource(http, handle_scheme="http")
    bsky_source = BlueskySource(http, bsky.base_url)
    app = await App.create(config, sources=[bsky_source, masto_source], extensions=[])
    cog = SubscriptionsCog.from_host(app, clock=clock)
    app.dispatcher.register(cog)
    chat = MemoryAdapter(app.dispatcher)
    app.adapters["memory"] = chat
    service, repo = cog.service, cog.repo

    # ---- subscribe: resolve every author once, 2 rooms each -----------------------------
    t_setup = time.perf_counter()
    specs = [f"b{i}.example.com" for i in range(n_bsky)] + [
        f"@{acc.username}@{m.host}" for m, acc in accounts
    ]
    gate = asyncio.Semaphore(32)

    async def resolve(spec: str) -> tuple[str, object]:
        async with gate:
            source, who = await cog.resolve(spec)
            return source.name, who

    resolved = await asyncio.gather(*(resolve(s) for s in specs))
    author_ids: list[int] = []
    subs_of: dict[int, list[Subscription]] = defaultdict(list)
    for name, who in resolved:
        w = await repo.ensure_author(
            source=name,
            author_id=who.id,  # type: ignore[attr-defined]
            handle=who.handle,  # type: ignore[attr-defined]
            name=who.name,  # type: ignore[attr-defined]
            url=who.url,  # type: ignore[attr-defined]
            host=service.host_for(name, who.url, who.id),  # type: ignore[attr-defined]
            interval_s=service.bounds.min_s,
            now=clock.now(),
        )
        service.poller.warmed(w.id)
        author_ids.append(w.id)
        for room in rng.sample(range(args.rooms), args.rooms_per_author):
            sub = await repo.add_subscription(
                author=w.id,
                adapter="memory",
                scope=f"scope-{room}",
                channel=f"room-{room}",
                filters=Filters(),
                backfill=0,
                created_by="bench",
                now=clock.now(),
            )
            assert sub is not None
            subs_of[w.id].append(sub)
    setup_s = time.perf_counter() - t_setup
    for h in hosts:
        h.server.requests.clear()

    # ---- the hour's new threads --------------------------------------------------------
    minutes = args.minutes
    plans = [
        Planned(
            i, START + rng.uniform(60, (minutes - 15) * 60), rng.randint(1, 6), rng.uniform(20, 90)
        )
        for i in rng.sample(range(args.authors), int(args.authors * args.active))
    ]
    events: list[tuple[float, int, int]] = []  # (time, plan index, post number)
    for pi, p in enumerate(plans):
        for k in range(p.posts):
            events.append((p.at + k * p.gap_s, pi, k))
        p.last_at = p.at + (p.posts - 1) * p.gap_s
    events.sort()
    last_post: dict[int, str] = {}  # plan -> builder key / status id of the latest post
    masto_status: dict[int, object] = {}

    def write(pi: int, k: int, at: float) -> None:
        p = plans[pi]
        if p.author < n_bsky:
            key = b.post(
                f"b{p.author}",
                f"new {pi} part {k + 1}/{p.posts}",
                parent=last_post.get(pi),
                at=datetime.fromtimestamp(at, UTC),
            )
            last_post[pi] = key
            if k == 0:
                p.root_id = f"@{key}"  # resolved to a uri after add_thread
        else:
            m, acc = accounts[p.author - n_bsky]
            m.clock_ms = int(at * 1000) - 1
            st = m.post(
                acc,
                f"new {pi} part {k + 1}/{p.posts}",
                reply_to=masto_status.get(pi),  # type: ignore[arg-type]
                visibility="public" if k == 0 else "unlisted",
                after_s=0.001,
            )
            masto_status[pi] = st
            if k == 0:
                p.root_id = m.status_uri(st)

    delivered_at: dict[tuple[int, str], list[float]] = defaultdict(list)

    def on_delivered(sub: Subscription, root: str, now: float) -> None:
        delivered_at[(sub.id, root)].append(now)

    service.delivery.on_delivered = on_delivered

    # ---- run the simulated hour --------------------------------------------------------
    gc.collect()
    tracemalloc.start()
    t_run = time.perf_counter()
    ei = 0
    end = START + minutes * 60
    counts = {h.name: 0 for h in hosts}
    bsky_dirty = False
    # After the hour, a quiet drain: threads still queued get their chance, none are new.
    stop = end + args.drain_minutes * 60
    in_hour: dict[tuple[int, str], int] = {}
    while clock.now() < stop:
        if clock.now() >= end and not in_hour:
            in_hour = {k: len(v) for k, v in delivered_at.items()}
        await clock.advance(STEP_S)
        now = clock.now()
        while ei < len(events) and events[ei][0] <= now:
            at, pi, k = events[ei]
            write(pi, k, at)
            bsky_dirty |= plans[pi].author < n_bsky
            ei += 1
        if bsky_dirty:
            bsky.add_thread(b.build())
            bsky_dirty = False
        await service.tick()
        for h in hosts:
            total = len(h.server.requests)
            h.per_tick.append((now, total - counts[h.name]))
            counts[h.name] = total
    run_s = time.perf_counter() - t_run
    _, heap_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    # ---- figures -----------------------------------------------------------------------
    for p in plans:
        if p.root_id.startswith("@"):
            p.root_id = bsky.uri(p.root_id[1:])
    print(
        f"authors {args.authors} ({n_bsky} Bluesky, {n_masto} Mastodon on "
        f"{args.mastodon_hosts} hosts), rooms {args.rooms}, subscriptions "
        f"{sum(len(v) for v in subs_of.values())}, simulated {minutes} min, "
        f"fake latency {args.latency_ms} ms"
    )
    print(
        f"setup (resolve + subscribe): {setup_s:.1f} s wall; run: {run_s:.1f} s wall "
        f"({minutes * 60 / run_s:.0f}x real time)"
    )
    print("\nrequests per host (simulated time):")
    print(
        f"  {'host':<16} {'limit/5min':>10} {'max in 5 min':>13} {'per min avg':>12} "
        f"{'per min max':>12}"
    )
    for h in hosts:
        window = int(WINDOW_S / STEP_S)
        series = [c for _, c in h.per_tick]
        worst5 = max(
            (sum(series[i : i + window]) for i in range(max(1, len(series) - window + 1))),
            default=0,
        )
        per_min = [sum(series[i : i + 12]) for i in range(0, len(series), 12)]
        print(
            f"  {h.name:<16} {h.limit:>10} {worst5:>13} "
            f"{statistics.mean(per_min):>12.1f} {max(per_min):>12}"
        )
    stats = service.limiter.stats()
    throttled = sum(int(s["throttled"]) for s in stats.values())
    print(
        f"  polls {service.poller.polls}, full-thread fetches {service.full_fetches}, "
        f"polls deferred by the budget {throttled}, 429s seen "
        f"{sum(int(s['rate_limited']) for s in stats.values())}"
    )
    intervals = Counter()
    for a in (await repo.authors(author_ids)).values():
        intervals[round(a.interval_s)] += 1
    print(
        "  poll intervals at the end (s: authors): "
        + ", ".join(f"{k}: {v}" for k, v in sorted(intervals.items()))
    )

    expected = 0
    delays: dict[str, list[float]] = {"Bluesky": [], "Mastodon": []}
    missing = late = doubled = 0
    for p in plans:
        settle = p.last_at + config.subscriptions.settle_s
        kind = "Bluesky" if p.author < n_bsky else "Mastodon"
        for sub in subs_of[author_ids[p.author]]:
            if settle > end - 60:
                continue  # settles too close to the end to count
            expected += 1
            got = delivered_at.get((sub.id, p.root_id), [])
            if not got:
                missing += 1
                if args.debug and missing <= 6:
                    aid = author_ids[p.author]
                    print("MISSING", p, await repo.author(aid))
                    print("   threads", await repo.threads(aid))
                    print("   sub", await repo.sub_threads([sub.id]), sub.primed)
                    print("   settle_due", service._settle_due.get(aid), clock.now())
            elif len(got) > 1:
                doubled += 1
            if got:
                delays[kind].append(got[0] - settle)
                late += (sub.id, p.root_id) not in in_hour
    headers = Counter((s.ref.channel, s.text.split("\n")[1]) for s in chat.sent if s.thread is None)
    print(
        f"\nthreads: {len(plans)} written; posted {sum(len(v) for v in delivered_at.values())}"
        f" times into rooms; {expected} expected (settled before the last minute): "
        f"{expected - missing - late} before the end, {late} during the "
        f"{args.drain_minutes} min drain, {missing} never, {doubled} doubled, "
        f"{sum(1 for c in headers.values() if c > 1)} duplicate headers in chat"
    )
    for kind, values in delays.items():
        if len(values) < 2:
            continue
        q = statistics.quantiles(values, n=100)
        print(
            f"delay from settling to delivery, {kind} authors (simulated s, {len(values)} "
            f"deliveries): median {statistics.median(values):.1f}, p90 {q[89]:.1f}, "
            f"p95 {q[94]:.1f}, max {max(values):.1f}"
        )
    db_mb = sum(f.stat().st_size for f in tmp.glob("bench.sqlite3*")) / 1e6  # noqa: ASYNC240
    table_counts = await repo.counts()
    print(
        f"\nmemory: peak RSS {rss_mb:.0f} MB (whole process: bot, six fake servers and the "
        f"chat log), Python heap allocated during the run peak {heap_peak / 1e6:.1f} MB; "
        f"database {db_mb:.1f} MB ({table_counts})"
    )

    await app.close()
    await http.close()
    for server in (bsky, *mastos):
        await server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--authors", type=int, default=5000)
    parser.add_argument("--rooms", type=int, default=500)
    parser.add_argument("--rooms-per-author", type=int, default=2)
    parser.add_argument("--minutes", type=int, default=60)
    parser.add_argument("--active", type=float, default=0.1, help="share of authors posting")
    parser.add_argument("--latency-ms", type=float, default=2.0)
    parser.add_argument("--drain-minutes", type=int, default=20)
    parser.add_argument("--mastodon-hosts", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--debug", action="store_true")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
