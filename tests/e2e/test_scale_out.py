"""Scale-out end to end: three real bot processes on one PostgreSQL database follow nine
authors (six on a fake Bluesky, three on a fake Mastodon server) into two rooms of a chat
platform they share, while the authors write new threads. During the run processes are
killed with kill -9 at random moments and when a message one sends has just reached the
platform (each started again at once), and one is paused with SIGSTOP past its lease and
then let go on.

At the end, from the fake servers' own logs:
- every thread is in every room exactly once, every post once and in order (nothing
  doubled, nothing lost);
- no author was polled twice within one poll interval;
- the Mastodon server's request budget (300 per 5 minutes, polls taking their share) held
  for all processes together.

Run as a script, this file is one bot process: ``python -m tests.e2e.test_scale_out
setup|run <database url> <bluesky url> <chat url> <name> [author spec ...]``.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
import random
import re
import signal
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO

import pytest

from bot.app import App
from bot.config import (
    BlueskyConfig,
    Config,
    NetworkConfig,
    SourcesConfig,
    StorageConfig,
    SubscriptionsConfig,
)
from bot.context import Room
from bot.http import HttpClient, HttpSettings
from bot.sources.bluesky import BlueskySource
from bot.sources.mastodon import MastodonSource
from cogs.subscriptions.cog import SubscriptionsCog
from cogs.subscriptions.ratelimit import DEFAULT_PER_WINDOW, POLL_SHARE, WINDOW_S
from tests.conftest import PASSWORD_ENV
from tests.fakes.bluesky_server import FakeBluesky
from tests.fakes.chat_server import ChatMessage, FakeChat, HttpChat
from tests.fakes.mastodon_server import FakeAccount, FakeMastodon
from tests.fakes.thread_builder import ThreadBuilder
from tests.postgres import PASSWORD, PostgresServer

ROOT = Path(__file__).resolve().parents[2]
ROOMS = [Room("memory", "scope-1", f"room-{i}") for i in range(2)]
PROCESSES = 3
# Every author is polled every INTERVAL_S (min = max: the check is exact); a claim lasts
# LEASE_S, longer than one interval, so a killed process's authors are taken over late
# rather than early.
INTERVAL_S = 2
LEASE_S = 4.0
SETTLE_S = 1
BSKY_AUTHORS = 6
MASTO_AUTHORS = 3
THREADS_PER_AUTHOR = 2
# Threads are written during this many seconds after every process is up.
WRITING_S = 16.0
# Polls of one author closer than this share of the interval count as twice in one.
EARLY = 0.75
POST_RE = re.compile(r"(A\d+T\d+) (\d+)/(\d+)")


def config(db: str, bsky_url: str) -> Config:
    return Config(
        storage=StorageConfig(url=db, password_env=PASSWORD_ENV, lease_s=LEASE_S),
        network=NetworkConfig(allow_private_addresses=True, retries=0),
        sources=SourcesConfig(bluesky=BlueskyConfig(appview_url=bsky_url)),
        subscriptions=SubscriptionsConfig(
            min_poll_interval_s=INTERVAL_S,
            max_poll_interval_s=INTERVAL_S,
            settle_s=SETTLE_S,
            max_backfill=0,
        ),
    )


async def child(mode: str, db: str, bsky_url: str, chat_url: str, name: str, *specs: str) -> None:
    """One bot process: ``setup`` subscribes the rooms and exits; ``run`` serves until
    killed."""
    if os.environ.get("SCALE_OUT_LOGS"):
        logging.basicConfig(level=logging.INFO, format=f"%(created).3f {name} %(name)s %(message)s")
    http = HttpClient(HttpSettings(allow_private_addresses=True, retries=0))
    sources = [BlueskySource(http, bsky_url), MastodonSource(http, handle_scheme="http")]
    app = await App.create(config(db, bsky_url), sources=sources, extensions=[])
    # One chat message per post, so every post can be found and counted.
    app.layouts.default = "per-post"
    cog = SubscriptionsCog.from_host(app)
    app.dispatcher.register(cog)
    chat = HttpChat(app.dispatcher, chat_url, sender=name)
    app.adapters["memory"] = chat
    try:
        if mode == "setup":
            for room in ROOMS:
                for spec in specs:
                    ctx = await chat.command(f"subscribe {spec}", room=room, moderator=True)
                    assert ctx.replies, f"no answer to subscribe {spec}"
            print("SUBSCRIBED", flush=True)
            return
        await app.start_cogs()
        print("READY", flush=True)
        await asyncio.Event().wait()
    finally:
        await app.close()
        await http.close()


# ---- the test's side ----------------------------------------------------------------------


@dataclass
class Bot:
    """One bot process slot: the process in it now, and how it has been treated."""

    name: str
    proc: asyncio.subprocess.Process | None = None
    starts: int = 0
    kills: int = 0
    paused_s: float = 0.0


@dataclass
class Upstream:
    """The authors, and what they have written so far."""

    bsky: FakeBluesky
    masto: FakeMastodon
    builder: ThreadBuilder
    accounts: list[FakeAccount]
    written: dict[str, int] = field(default_factory=dict)  # label -> posts

    @property
    def specs(self) -> list[str]:
        return [f"a{i}.example.com" for i in range(BSKY_AUTHORS)] + [
            f"@{acc.username}@{self.masto.host}" for acc in self.accounts
        ]

    def write(self, author: int, posts: int) -> None:
        label = f"A{author}T{sum(1 for k in self.written if k.startswith(f'A{author}T'))}"
        now = datetime.now(UTC)
        if author < BSKY_AUTHORS:
            parent = None
            for i in range(1, posts + 1):
                parent = self.builder.post(
                    f"a{author}",
                    f"{label} {i}/{posts}",
                    parent=parent,
                    at=now + timedelta(milliseconds=i),
                )
            self.bsky.add_thread(self.builder.build())
        else:
            self.masto.clock_ms = int(now.timestamp() * 1000)
            self.masto.thread(
                self.accounts[author - BSKY_AUTHORS], posts, interval_s=0.001, label=label
            )
        self.written[label] = posts


def _log_file(bot: Bot) -> int | IO[bytes]:
    """Where a bot process's log goes: a file per process under $SCALE_OUT_LOGS when that
    is set (to read what happened after a failure), else nowhere."""
    folder = os.environ.get("SCALE_OUT_LOGS")
    if not folder:
        return asyncio.subprocess.DEVNULL
    return open(Path(folder) / f"{bot.name}-{bot.starts + 1}.log", "ab")


async def spawn(bot: Bot, *args: str) -> asyncio.subprocess.Process:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.e2e.test_scale_out",
        *args,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=_log_file(bot),
    )
    bot.proc = proc
    bot.starts += 1
    return proc


async def wait_for_line(proc: asyncio.subprocess.Process, word: str) -> None:
    """Until the process says ``word`` (the caller bounds the wait)."""
    assert proc.stdout is not None
    while True:
        line = await proc.stdout.readline()
        if not line:
            raise AssertionError(f"a bot process ended before saying {word}")
        if word in line.decode():
            return


def kill(bot: Bot, *, counted: bool = True) -> None:
    if bot.proc is not None and bot.proc.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(bot.proc.pid, signal.SIGCONT)  # a paused one must die too
            os.kill(bot.proc.pid, signal.SIGKILL)
        bot.kills += counted


def poll_times(bsky: FakeBluesky, masto: FakeMastodon) -> dict[str, list[float]]:
    """Author -> the times its recent posts were asked for (polls, not thread fetches)."""
    out: dict[str, list[float]] = defaultdict(list)
    for rec in bsky.requests:
        q = dict(rec.query)
        # A poll reads the first page of the author's threads; an unroll reads the feed
        # with replies.
        if q.get("filter") == "posts_and_author_threads" and "cursor" not in q:
            out[bsky.handles.get(q["actor"], q["actor"])].append(rec.started)
    for rec in masto.requests:
        m = re.fullmatch(r"/api/v1/accounts/(\d+)/statuses", rec.path)
        if m:
            out[m.group(1)].append(rec.started)
    return out


def worst_budget_excess(times: list[float]) -> float:
    """How far the requests ever ran ahead of one shared budget of the host's size: a
    bucket that starts with a tenth of the polls' share and refills at that share's rate
    (plus the same again as slack for requests charged after the fact). Positive means
    the processes together took more than one budget allows."""
    allowed = DEFAULT_PER_WINDOW * POLL_SHARE
    rate = allowed / WINDOW_S
    burst = allowed / 5
    times = sorted(times)
    worst = float("-inf")
    for i, start in enumerate(times):
        for j in range(i, len(times)):
            worst = max(worst, (j - i + 1) - (burst + rate * (times[j] - start)))
    return worst


def check_rooms(chat: FakeChat, written: dict[str, int]) -> list[str]:
    """Every thread in every room once, every post once and in order; what is wrong."""
    problems: list[str] = []
    for room in ROOMS:
        seen: dict[str, list[ChatMessage]] = defaultdict(list)
        for header in chat.headers(room.channel):
            posts = chat.thread_of(header)
            labels = {m.group(1) for p in posts if (m := POST_RE.search(p.text))}
            if len(labels) != 1:
                problems.append(f"{room.channel}: header {header.id} holds {sorted(labels)}")
                continue
            seen[labels.pop()].append(header)
        for label, n in written.items():
            headers = seen.pop(label, [])
            if len(headers) != 1:
                problems.append(f"{room.channel}: {label} posted {len(headers)} times")
                continue
            got = [POST_RE.search(p.text) for p in chat.thread_of(headers[0])]
            numbers = [int(m.group(2)) for m in got if m]
            if numbers != list(range(1, n + 1)):
                problems.append(f"{room.channel}: {label} posts {numbers}, expected 1..{n}")
        problems += [f"{room.channel}: unknown thread {label}" for label in seen]
    return problems


def delivered(chat: FakeChat, written: dict[str, int]) -> bool:
    """Whether every thread is in every room with all its posts (doubles aside)."""
    for room in ROOMS:
        complete = set()
        for header in chat.headers(room.channel):
            found = [m for p in chat.thread_of(header) if (m := POST_RE.search(p.text))]
            if found and len(found) >= written.get(found[0].group(1), 0):
                complete.add(found[0].group(1))
        if not complete >= set(written):
            return False
    return True


@pytest.mark.timeout(240)
async def test_three_processes_kill_9_and_pause_neither_lose_nor_double_nor_overpoll(
    postgres_server: PostgresServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    db = await postgres_server.create_database()
    rng = random.Random(15)
    bots = [Bot(f"bot{i}") for i in range(PROCESSES)]
    # Kill the sender while the platform holds its message: it was posted, and the bot
    # never learns so. These message numbers are hit whatever the timing.
    kill_at_message = {6, 23, 41, 70}
    kills_on_send = 0

    async with FakeBluesky() as bsky, FakeMastodon() as masto, FakeChat() as chat:
        b = ThreadBuilder(start=datetime.now(UTC) - timedelta(days=1))
        for i in range(BSKY_AUTHORS):
            b.author(f"a{i}", handle=f"a{i}.example.com", name=f"A {i}")
            b.post(f"a{i}", f"older post of a{i}")
        bsky.add_thread(b.build())
        accounts = [masto.account(f"m{i}") for i in range(MASTO_AUTHORS)]
        for acc in accounts:
            masto.post(acc, "an older post")
        up = Upstream(bsky, masto, b, accounts)
        base = (db, bsky.base_url, chat.base_url)

        setup = Bot("setup")
        proc = await spawn(setup, "setup", *base, "setup", *up.specs)
        async with asyncio.timeout(60):
            await wait_for_line(proc, "SUBSCRIBED")
        await proc.wait()
        assert proc.returncode == 0

        async def start(bot: Bot) -> None:
            p = await spawn(bot, "run", *base, bot.name)
            async with asyncio.timeout(60):
                await wait_for_line(p, "READY")

        def on_message(msg: ChatMessage) -> None:
            nonlocal kills_on_send
            if len(chat.messages) in kill_at_message:
                victim = next(x for x in bots if x.name == msg.sender)
                kill(victim)
                kills_on_send += 1

        chat.on_message = on_message
        try:
            await asyncio.gather(*(start(bot) for bot in bots))
            for server in (bsky, masto):
                server.requests.clear()
            t0 = time.monotonic()

            # What happens when, in seconds from t0: threads written, kills, one pause.
            plan: list[tuple[float, str, int]] = []
            for author in range(BSKY_AUTHORS + MASTO_AUTHORS):
                for _ in range(THREADS_PER_AUTHOR):
                    plan.append((rng.uniform(0, WRITING_S), "write", author))
            for at in (rng.uniform(1, 5), rng.uniform(7, 11), rng.uniform(13, 18)):
                plan.append((at, "kill", rng.randrange(PROCESSES)))
            plan.append((rng.uniform(3, 8), "pause", rng.randrange(PROCESSES)))
            plan.sort()

            async def pause(bot: Bot) -> None:
                assert bot.proc is not None
                try:
                    os.kill(bot.proc.pid, signal.SIGSTOP)
                except ProcessLookupError:
                    return  # killed a moment ago (a kill as a message arrived)
                began = time.monotonic()
                await asyncio.sleep(LEASE_S + 2)
                with contextlib.suppress(ProcessLookupError):
                    os.kill(bot.proc.pid, signal.SIGCONT)
                bot.paused_s += time.monotonic() - began

            pauses = []
            for at, what, who in plan:
                await asyncio.sleep(max(0.0, t0 + at - time.monotonic()))
                if what == "write":
                    up.write(who, rng.randint(2, 4))
                elif what == "kill":
                    kill(bots[who])
                elif what == "pause":
                    pauses.append(asyncio.create_task(pause(bots[who])))
                # Every killed process is started again at once.
                for bot in bots:
                    if bot.proc is not None and bot.proc.returncode is not None:
                        await start(bot)
            await asyncio.gather(*pauses)

            # Until everything is there (or clearly never will be); then a while longer,
            # so a late double would show.
            deadline = time.monotonic() + 90
            while not delivered(chat, up.written) and time.monotonic() < deadline:
                await asyncio.sleep(0.25)
                for bot in bots:
                    if bot.proc is not None and bot.proc.returncode is not None:
                        await start(bot)
            await asyncio.sleep(LEASE_S + INTERVAL_S)
            elapsed = time.monotonic() - t0
        finally:
            for bot in bots:
                kill(bot, counted=False)
                if bot.proc is not None:
                    await bot.proc.wait()

        problems = check_rooms(chat, up.written)
        polls = poll_times(bsky, masto)
        # A claim moves the author's next poll on by one interval, and its request follows
        # the claim by a moment (longer on a loaded machine); two processes polling the
        # same author land within a fraction of a second of each other.
        gaps = {author: [b - a for a, b in itertools.pairwise(ts)] for author, ts in polls.items()}
        early = {
            author: [round(g, 2) for g in found if g < EARLY * INTERVAL_S]
            for author, found in gaps.items()
        }
        early = {a: found for a, found in early.items() if found}
        shortest = min((g for found in gaps.values() for g in found), default=float("nan"))
        excess = worst_budget_excess([r.started for r in masto.requests])
        total_kills = sum(x.kills for x in bots)
        print(
            f"\n{len(up.written)} threads x {len(ROOMS)} rooms in {elapsed:.0f} s; "
            f"starts {sum(x.starts for x in bots)}, kills {total_kills} "
            f"({kills_on_send} while a message was in flight), paused "
            f"{sum(x.paused_s for x in bots):.0f} s; messages {len(chat.messages)}, "
            f"resent and deduplicated {chat.deduped}; polls {sum(map(len, polls.values()))}, "
            f"shortest gap {shortest:.2f} s, authors polled early {len(early)}; "
            f"Mastodon requests {len(masto.requests)}, "
            f"worst excess over one budget {excess:+.0f}"
        )
        assert not problems, "\n".join(problems[:20])
        assert not early, f"polled again within {INTERVAL_S} s: {early}"
        assert excess <= 0, f"the Mastodon host got {excess:.0f} requests more than its budget"
        assert kills_on_send >= 2 and total_kills >= 4, "too few kills landed; lengthen the run"


if __name__ == "__main__":
    asyncio.run(child(*sys.argv[1:]))
