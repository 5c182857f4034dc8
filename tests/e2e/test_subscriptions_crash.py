"""Exactly-once across kill -9: a real bot process follows an author into three rooms and
is killed at random moments while it posts five backfilled threads; each restart runs on
the same database. The chat platform is a file the process appends to, deduplicating
idempotency keys like Matrix transaction ids do. At the end every thread is in every room
exactly once, with every post once, in order.

Run as a script, this file is the bot process: ``python -m tests.e2e.test_subscriptions_crash
<db> <sent-file> <bluesky-url>``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import signal
import sys
from collections import Counter
from pathlib import Path
from typing import Any

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
from bot.context import MessageRef, Room
from bot.dispatcher import Dispatcher
from bot.http import HttpClient, HttpSettings
from bot.render import plain
from bot.render.document import Message
from bot.sources.bluesky import BlueskySource
from cogs.subscriptions.cog import SubscriptionsCog
from tests.fakes.bluesky_server import FakeBluesky
from tests.fakes.thread_builder import ThreadBuilder

ROOT = Path(__file__).resolve().parents[2]
ROOMS = [Room("memory", "scope-1", f"room-{i}") for i in range(3)]
THREADS = 6
POSTS = 15


class FileChat(MemoryAdapter):
    """A chat platform that survives the bot: every message is one appended line; a key
    sent before returns the message ids it got then instead of posting again."""

    def __init__(self, dispatcher: Dispatcher, path: Path) -> None:
        super().__init__(dispatcher)
        self.path = path
        self.dedupe_hits = 0
        if path.exists():
            for line in path.read_text().splitlines():
                try:
                    rec = json.loads(line)
                except json.JSONDecodeError:
                    continue  # a line cut by the kill: the platform never received it
                if "key" in rec:
                    ref = MessageRef(self.name, rec["channel"], rec["id"], rec["thread"])
                    self._by_key.setdefault(rec["key"], []).append(ref)
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        self._n = 0

    async def send(
        self,
        room: Room,
        message: Message,
        *,
        thread: MessageRef | None = None,
        key: str | None = None,
    ) -> list[MessageRef]:
        await asyncio.sleep(0.008)  # a network round trip: kills land in between
        if key is not None and key in self._by_key:
            self.dedupe_hits += 1
            os.write(self._fd, (json.dumps({"deduped": key}) + "\n").encode())
            return self._by_key[key]
        refs = []
        for chunk in plain.chunks(message, self.capabilities.max_length):
            self._n += 1
            mid = f"m{os.getpid()}-{self._n}"
            tid = thread.thread_id if thread else None
            line = {"key": key, "channel": room.channel, "id": mid, "thread": tid, "text": chunk}
            os.write(self._fd, (json.dumps(line) + "\n").encode())
            refs.append(MessageRef(self.name, room.channel, mid, tid))
        if key is not None:
            self._by_key[key] = refs
        return refs

    async def edit(self, refs: list[MessageRef], message: Message) -> list[MessageRef]:
        text = plain.chunks(message, self.capabilities.max_length)[0]
        line = {"edit": refs[0].message_id, "channel": refs[0].channel, "text": text}
        os.write(self._fd, (json.dumps(line) + "\n").encode())
        return refs


async def child(db: str, sent: str, bsky_url: str) -> None:
    config = Config(
        storage=StorageConfig(db),
        network=NetworkConfig(allow_private_addresses=True, retries=0),
        sources=SourcesConfig(bluesky=BlueskyConfig(appview_url=bsky_url)),
        subscriptions=SubscriptionsConfig(settle_s=600, max_backfill=THREADS),
    )
    http = HttpClient(HttpSettings(allow_private_addresses=True, retries=0))
    app = await App.create(config, sources=[BlueskySource(http, bsky_url)], extensions=[])
    # These tests pin one chat message per post: the per-post layout, chosen explicitly.
    app.layouts.default = "per-post"
    cog = SubscriptionsCog.from_host(app)
    app.dispatcher.register(cog)
    chat = FileChat(app.dispatcher, Path(sent))
    app.adapters["memory"] = chat
    repo = cog.repo
    for room in ROOMS:
        if not await repo.subscriptions_in(room.adapter, room.scope, room.channel):
            await chat.command(
                f"subscribe alice.example.com backfill:{THREADS}", room=room, moderator=True
            )
    for _ in range(200):
        await cog.service.tick()
        subs = await repo.all_subscriptions()
        states = await repo.sub_threads([s.id for s in subs])
        delivered = sum(1 for st in states.values() if st.state == "delivered")
        pending = await app.deliveries.pending("memory")
        if delivered == THREADS * len(ROOMS) and not pending:
            print(f"DONE dedupe_hits={chat.dedupe_hits}", flush=True)
            break
        await asyncio.sleep(0.01)
    await app.close()
    await http.close()


def _threads(bsky: FakeBluesky) -> None:
    from datetime import UTC, datetime

    b = ThreadBuilder(start=datetime(2026, 5, 1, 9, 0, tzinfo=UTC))
    alice = b.author("alice", handle="alice.example.com", name="Alice")
    for t in range(THREADS):
        b.chain(alice, POSTS, text=f"T{t}")
    bsky.add_thread(b.build())


async def test_kill_9_at_random_moments_neither_loses_nor_doubles(tmp_path: Path) -> None:
    db, sent = tmp_path / "bot.sqlite3", tmp_path / "sent.jsonl"
    rng = random.Random(7)
    kills = runs = 0
    done_line = ""
    root = ROOT
    async with FakeBluesky() as bsky:
        _threads(bsky)
        for _ in range(40):
            runs += 1
            proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "tests.e2e.test_subscriptions_crash",
                str(db),
                str(sent),
                bsky.base_url,
                cwd=root,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
            # Later runs live longer so the whole job eventually finishes.
            life = rng.uniform(0.3, 1.0) + 0.05 * runs
            try:
                out, err = await asyncio.wait_for(proc.communicate(), timeout=life)
            except TimeoutError:
                os.kill(proc.pid, signal.SIGKILL)
                await proc.wait()
                kills += 1
                continue
            assert proc.returncode == 0, err.decode()[-2000:]
            done_line = out.decode()
            if "DONE" in done_line:
                break
    assert "DONE" in done_line, f"not finished after {runs} runs"
    assert kills >= 3, "the process was never killed mid-way; make the job longer"

    lines: list[dict[str, Any]] = []
    for raw in sent.read_text().splitlines():
        with contextlib.suppress(json.JSONDecodeError):  # a line cut by a kill
            lines.append(json.loads(raw))
    deduped = sum(1 for rec in lines if "deduped" in rec)
    lines = [rec for rec in lines if "key" in rec]
    keys = Counter(rec["key"] for rec in lines)
    assert max(keys.values()) == 1, "a message was posted twice"
    for room in ROOMS:
        headers = [r for r in lines if r["channel"] == room.channel and r["thread"] is None]
        assert len(headers) == THREADS, f"{room.channel}: {len(headers)} headers"
        firsts = set()
        for h in headers:
            posts = [r["text"] for r in lines if r["thread"] == f"t{h['id']}"]
            label = posts[0].split("\n")[-1].split()[0]
            firsts.add(label)
            assert [p.split("\n")[-1] for p in posts] == [
                f"{label} {i}/{POSTS}" for i in range(1, POSTS + 1)
            ]
        assert firsts == {f"T{t}" for t in range(THREADS)}
    print(f"runs={runs} kills={kills} resent-and-deduplicated={deduped}")


if __name__ == "__main__":
    asyncio.run(child(*sys.argv[1:4]))
