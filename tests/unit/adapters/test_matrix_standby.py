"""A standby Matrix adapter (another process holds the account's session) sends nothing and
waits; when the session frees but the homeserver cannot be reached, it lets the session go,
retries and keeps running instead of taking the process down. No homeserver is needed: the
session lock is held by the test, and the homeserver address is a closed port."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.adapters.matrix.adapter import Backoff, MatrixAdapter, MatrixSendError
from bot.config import MatrixConfig
from bot.context import Room
from bot.dispatcher import Dispatcher
from bot.render.document import reply
from storage.adapter_state_repo import AdapterStateRepo
from tests.conftest import Engine
from tests.e2e.synapse import free_port

BOT = "@bot:localhost"


async def until(check: Callable[[], bool], timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.02)


async def test_a_standby_takes_over_and_survives_an_unreachable_homeserver(
    engine: Engine, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.adapters.matrix")
    holder_db, db = await engine.open(), await engine.open()
    try:
        cfg = MatrixConfig(homeserver=f"http://127.0.0.1:{free_port()}", user_id=BOT)
        adapter = MatrixAdapter(
            cfg,
            Dispatcher(),
            store_dir=str(tmp_path),
            password="pw",
            backoff=Backoff(initial_s=0.05, max_s=0.2),
            state=AdapterStateRepo(db),
        )
        holder = AdapterStateRepo(holder_db)
        async with holder.session("matrix", BOT) as held:
            assert held.acquired
            task = asyncio.create_task(adapter.run())
            await until(lambda: adapter.standing_by)
            assert not adapter.live and adapter.client is None
            with pytest.raises(MatrixSendError, match="standing by"):
                await adapter.send(Room("matrix", "!r:h", "!r:h"), reply("hello"))
        # The holder is gone; the homeserver cannot be reached: retried, not fatal.
        await until(
            lambda: sum("taking over failed" in r.getMessage() for r in caplog.records) >= 2
        )
        assert not task.done()
        assert any("cannot reach the Matrix homeserver" in r.getMessage() for r in caplog.records)
        await adapter.stop()
        await asyncio.wait_for(task, 10)
        # Stopped for good: the session is free for another process.
        async with holder.session("matrix", BOT, wait=False) as again:
            assert again.acquired
    finally:
        await holder_db.close()
        await db.close()
