"""Several bot processes on one PostgreSQL database, Matrix enabled for the same account:
one holds the Matrix session and answers; the others stand by, syncing and sending nothing,
and take over when the holder goes (its lock connection ends, or it stops) on the same
device and from the saved sync token: old commands are not answered again, new ones are.

Two App instances in this test process stand for two processes (each its own database
handle, lock connection and store folder); the last test kills a real ``unrollbot run``
process with SIGKILL."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import sys
import time
import urllib.request
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import pytest

from bot.adapters.matrix.adapter import MatrixAdapter, MatrixSendError
from bot.app import App
from bot.config import Config, MatrixConfig, NetworkConfig, StorageConfig
from bot.context import MessageRef, Room
from bot.http import HttpClient, HttpSettings
from bot.render.document import reply
from bot.sources.bluesky import BlueskySource
from storage.adapter_state_repo import AdapterStateRepo
from tests.conftest import PASSWORD_ENV
from tests.e2e.conftest_matrix import (
    FAST_BACKOFF,
    Person,
    PersonFactory,
    body,
    joined,
    notice_from,
)
from tests.e2e.synapse import Account, Synapse
from tests.fakes.bluesky_server import FakeBluesky
from tests.fakes.thread_builder import ThreadBuilder
from tests.postgres import PASSWORD, PostgresServer

pytestmark = pytest.mark.synapse

PASSWORD_VAR = "TEST_MATRIX_STANDBY_PASSWORD"
ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Bot:
    """One bot process: its app, its Matrix adapter and the task running them."""

    name: str
    app: App
    adapter: MatrixAdapter
    http: HttpClient
    task: asyncio.Task[None]

    async def stop(self) -> None:
        if not self.task.done():
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task
        await self.app.close()
        await self.http.close()


BotStarter = Callable[[str], Awaitable[Bot]]


@dataclass
class Shared:
    account: Account
    db_url: str
    start: BotStarter


@pytest.fixture
async def shared(
    synapse: Synapse,
    register: Callable[[str], Account],
    postgres_server: PostgresServer,
    bsky: FakeBluesky,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[Shared]:
    """Start bot processes for one Matrix account on one PostgreSQL database."""
    account = register("unrollbot")
    monkeypatch.setenv(PASSWORD_VAR, account.password)
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    db_url = await postgres_server.create_database()
    bots: list[Bot] = []

    async def start(name: str) -> Bot:
        config = Config(
            # A short lease: a dead process's deliveries are taken over soon.
            storage=StorageConfig(url=db_url, password_env=PASSWORD_ENV, lease_s=2.0),
            network=NetworkConfig(allow_private_addresses=True, retries=1),
            matrix=MatrixConfig(
                enabled=True,
                homeserver=synapse.url,
                user_id=account.user_id,
                password_env=PASSWORD_VAR,
                # Each process its own folder, as on separate machines.
                store_path=str(tmp_path / f"matrix-{name}"),
            ),
        )
        http = HttpClient(
            HttpSettings(allow_private_addresses=True, retries=1, backoff_base_s=0.01)
        )
        app = await App.create(
            config,
            sources=[BlueskySource(http, bsky.base_url)],
            extensions=["cogs.content_notes", "cogs.links"],
        )
        app.layouts.default = "per-post"
        adapter = MatrixAdapter.from_host(app, sync_timeout_ms=1000, backoff=FAST_BACKOFF)
        task = asyncio.create_task(app.run([adapter]))
        bot = Bot(name, app, adapter, http, task)
        bots.append(bot)
        return bot

    yield Shared(account, db_url, start)
    for bot in reversed(bots):
        await bot.stop()


async def until(check: Callable[[], bool], what: str, timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting until {what}")
        await asyncio.sleep(0.05)


def devices(synapse: Synapse, account: Account) -> set[str]:
    """The account's devices as Synapse lists them, without the one registration made."""
    req = urllib.request.Request(
        f"{synapse.url}/_matrix/client/v3/devices",
        headers={"Authorization": f"Bearer {account.access_token}"},
    )
    with urllib.request.urlopen(req, timeout=10) as resp:
        found = {d["device_id"] for d in json.loads(resp.read())["devices"]}
    return found - {account.device_id}


class CutOff:
    """The holder's adapter as its process dies: the plan is written, nothing is sent."""

    name = "matrix"

    def __init__(self, adapter: MatrixAdapter) -> None:
        self.capabilities = adapter.capabilities

    async def send(self, *args: object, **kwargs: object) -> list[MessageRef]:
        raise ConnectionError("the process died before sending")


class Threads:
    """Threads by Mira on the fake Bluesky, each new one its own (one builder for all)."""

    def __init__(self, bsky: FakeBluesky) -> None:
        self.bsky = bsky
        self.builder = ThreadBuilder()
        self.mira = self.builder.author("mira", handle="mira.example.com", name="Mira")

    def new(self, n: int) -> str:
        keys = self.builder.chain(self.mira, n)
        self.bsky.add_thread(self.builder.build())
        return self.bsky.url(keys[0])


def unrolled(human: Person, bot_id: str, room: str) -> list[str]:
    return [body(e) for e in human.from_user(bot_id, room) if body(e).startswith("Unrolled")]


async def end_lock_connections(db_url: str) -> int:
    """End every connection holding an advisory lock, as when its process dies: the
    session lock is the only one held here."""
    conn = await asyncpg.connect(db_url, password=PASSWORD)
    try:
        rows = await conn.fetch(
            "SELECT pg_terminate_backend(pid) FROM pg_locks"
            " WHERE locktype = 'advisory' AND granted AND pid <> pg_backend_pid()"
        )
    finally:
        await conn.close()
    return len(rows)


async def test_one_process_answers_and_a_standby_takes_over_on_the_same_device(
    shared: Shared,
    person: PersonFactory,
    synapse: Synapse,
    bsky: FakeBluesky,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="bot.adapters.matrix")
    bot_id = shared.account.user_id
    first = await shared.start("first")
    await asyncio.wait_for(first.adapter.connected.wait(), 20)
    second = await shared.start("second")
    await until(lambda: second.adapter.standing_by, "the second process stands by")
    assert first.adapter.live and not second.adapter.live
    assert "matrix" in first.app.adapters and "matrix" not in second.app.adapters
    assert any(
        "another unrollbot process" in r.getMessage() and "standing by" in r.getMessage()
        for r in caplog.records
    )

    human = await person()
    room = await human.create_room(invite=(bot_id,))
    await human.wait_for(joined(bot_id, room))
    threads = Threads(bsky)
    await human.say(room, f"!unroll {threads.new(3)}")
    await human.wait_for(notice_from(bot_id, "Unrolled 3 posts"))
    device = first.adapter.client.device_id if first.adapter.client else None
    assert device and devices(synapse, shared.account) == {device}

    # The holder planned a delivery and went before sending any of it.
    cut_url = threads.new(6)
    cut = await first.app.unroller.unroll(cut_url, scope=room)
    with pytest.raises(ConnectionError):
        await first.app.deliverer.deliver(
            CutOff(first.adapter),
            Room("matrix", room, room),
            cut,
            await first.app.thread_as_shown(cut, room),
        )

    # The first process's lock connection ends (as when its process dies): it stops at
    # once and stands by; the second takes over.
    assert await end_lock_connections(shared.db_url) == 1
    await asyncio.wait_for(second.adapter.connected.wait(), 20)
    await until(lambda: first.adapter.standing_by, "the first process stands by again")
    assert second.adapter.live and not first.adapter.live
    assert "matrix" in second.app.adapters and "matrix" not in first.app.adapters
    # Whatever still holds the first process's adapter cannot send through it.
    with pytest.raises(MatrixSendError, match="does not hold the Matrix session"):
        await first.adapter.send(Room("matrix", room, room), reply("from a standby"))
    assert second.adapter.client is not None
    assert second.adapter.client.device_id == device
    assert devices(synapse, shared.account) == {device}

    # The new holder finishes what the old one left: the planned thread, once.
    await human.wait_for(notice_from(bot_id, "Part 6/6"), timeout_s=20)
    await human.say(room, f"!unroll {threads.new(4)}")
    await human.wait_for(notice_from(bot_id, "Unrolled 4 posts"))
    await asyncio.sleep(1.5)  # a late second answer to the old command would show by now
    await human.sync()
    answers = unrolled(human, bot_id, room)
    assert len(answers) == 2, answers
    assert "Unrolled 3 posts" in answers[0] and "Unrolled 4 posts" in answers[1]
    resumed = [body(e) for e in human.from_user(bot_id, room) if "/6" in body(e)]
    assert resumed == [f"Part {i}/6" for i in range(1, 7)]
    assert len([e for e in human.from_user(bot_id, room) if "· 6 posts" in body(e)]) == 1

    # The holder stops cleanly: the first process takes the session back, same device.
    await second.stop()
    await asyncio.wait_for(first.adapter.connected.wait(), 20)
    assert first.adapter.client is not None and first.adapter.client.device_id == device
    await human.say(room, f"!unroll {threads.new(2)}")
    await human.wait_for(notice_from(bot_id, "Unrolled 2 posts"))
    answers = unrolled(human, bot_id, room)
    assert len(answers) == 3, answers
    assert devices(synapse, shared.account) == {device}
    state = await AdapterStateRepo(first.app.db).get("matrix", bot_id)
    assert state is not None and state.owner == first.adapter.owner
    assert state.value()["device_id"] == device


async def session_row(db_url: str, account: Account) -> dict[str, object] | None:
    conn = await asyncpg.connect(db_url, password=PASSWORD)
    try:
        row = await conn.fetchrow(
            "SELECT value, owner FROM adapter_state WHERE adapter = 'matrix' AND key = $1",
            account.user_id,
        )
    except asyncpg.UndefinedTableError:
        return None  # not migrated yet
    finally:
        await conn.close()
    if row is None or row["owner"] is None:
        return None
    value: dict[str, object] = json.loads(row["value"])
    return {**value, "owner": row["owner"]}


async def test_kill_9_of_the_holding_process_hands_the_session_to_the_standby(
    shared: Shared,
    person: PersonFactory,
    synapse: Synapse,
    bsky: FakeBluesky,
    tmp_path: Path,
) -> None:
    """``unrollbot run`` as a real process holds the session; it is killed with SIGKILL
    (no clean-up at all): the lock dies with its database connection and the standby
    continues on the same device, from the token the killed process saved."""
    bot_id = shared.account.user_id
    config = tmp_path / "process.toml"
    config.write_text(
        f"""
[storage]
url = "{shared.db_url}"
password_env = "{PASSWORD_ENV}"

[network]
allow_private_addresses = true
retries = 1

[sources.bluesky]
appview_url = "{bsky.base_url}"

[matrix]
enabled = true
homeserver = "{synapse.url}"
user_id = "{bot_id}"
password_env = "{PASSWORD_VAR}"
store_path = "{tmp_path / "matrix-process"}"
""",
        encoding="utf-8",
    )
    log_path = tmp_path / "process.log"
    log_file = await asyncio.to_thread(log_path.open, "wb")
    with log_file:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot.cli",
            "-v",
            "run",
            "--config",
            str(config),
            cwd=ROOT,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=log_file,
            stderr=log_file,
        )
    try:
        deadline = time.monotonic() + 40
        while (held := await session_row(shared.db_url, shared.account)) is None or not held.get(
            "next_batch"
        ):
            assert proc.returncode is None, log_path.read_text()[-3000:]
            assert time.monotonic() < deadline, log_path.read_text()[-3000:]
            await asyncio.sleep(0.2)
        device = held["device_id"]
        standby = await shared.start("standby")
        await until(lambda: standby.adapter.standing_by, "the in-test process stands by")

        human = await person()
        room = await human.create_room(invite=(bot_id,))
        await human.wait_for(joined(bot_id, room), timeout_s=40)
        threads = Threads(bsky)
        await human.say(room, f"!unroll {threads.new(3)}")
        await human.wait_for(notice_from(bot_id, "Unrolled 3 posts"), timeout_s=40)
        assert not standby.adapter.live

        os.kill(proc.pid, signal.SIGKILL)
        await proc.wait()
        await asyncio.wait_for(standby.adapter.connected.wait(), 30)
        assert standby.adapter.client is not None
        assert standby.adapter.client.device_id == device
        assert devices(synapse, shared.account) == {device}

        await human.say(room, f"!unroll {threads.new(5)}")
        await human.wait_for(notice_from(bot_id, "Unrolled 5 posts"))
        await asyncio.sleep(1.5)  # a late second answer to the old command would show by now
        await human.sync()
        answers = unrolled(human, bot_id, room)
        assert len(answers) == 2, answers
        row = await session_row(shared.db_url, shared.account)
        assert row is not None and row["owner"] == standby.adapter.owner
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
