"""Named locks hold across every process on one database: a second holder waits or is told
no, and a holder whose connection ends (a killed process) frees the lock for the next."""

from __future__ import annotations

import asyncio
from pathlib import Path

from storage.db import Database
from storage.sqlite import _NAMED as sqlite_locks_table
from tests.conftest import Engine
from tests.postgres import PASSWORD, PostgresServer


async def test_second_holder_waits_until_the_first_lets_go(engine: Engine) -> None:
    a, b = await engine.open(), await engine.open()
    order: list[str] = []
    try:
        async with a.hold("thread:https://example.test/1") as first:
            assert first.acquired
            waiter = asyncio.create_task(_hold_and_note(b, "thread:https://example.test/1", order))
            await asyncio.sleep(0.3)
            assert order == []  # still waiting
            async with b.hold("thread:https://example.test/2") as other:
                assert other.acquired  # another name is free
            order.append("first done")
        await asyncio.wait_for(waiter, 10)
        assert order == ["first done", "second held"]
    finally:
        await a.close()
        await b.close()


async def _hold_and_note(db: Database, name: str, order: list[str]) -> None:
    async with db.hold(name) as held:
        assert held.acquired
        order.append("second held")


async def test_without_waiting_a_held_lock_is_refused(engine: Engine) -> None:
    a, b = await engine.open(), await engine.open()
    try:
        async with a.hold("matrix-session") as first:
            assert first.acquired
            async with b.hold("matrix-session", wait=False) as second:
                assert not second.acquired
        async with b.hold("matrix-session", wait=False) as again:
            assert again.acquired
    finally:
        await a.close()
        await b.close()


async def test_a_dropped_connection_frees_the_lock_and_tells_the_holder(
    postgres_server: PostgresServer,
) -> None:
    # PostgreSQL only: it is the engine several processes share.
    engine = Engine("postgresql", await postgres_server.create_database(), PASSWORD)
    a, b = await engine.open(), await engine.open()
    try:
        async with a.hold("matrix-session") as first:
            assert first.acquired
            # The server ends the holder's session, as when its process is killed.
            await b.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_locks"
                " WHERE locktype = 'advisory' AND pid <> pg_backend_pid()"
            )
            await asyncio.wait_for(first.lost.wait(), 10)
            async with b.hold("matrix-session", wait=False) as second:
                assert second.acquired
    finally:
        await a.close()
        await b.close()


def sqlite_locks() -> dict[tuple[str, str], object]:
    return dict(sqlite_locks_table)


async def test_sqlite_keeps_no_lock_nobody_holds(tmp_path: Path) -> None:
    """Lock names include every thread link ever fetched: a long-running process must not
    keep one per link."""
    db = await Engine("sqlite", str(tmp_path / "locks.sqlite3")).open()
    try:
        for i in range(50):
            async with db.hold(f"fetch:https://example.test/{i}"):
                pass
        async with db.hold("busy") as held:
            waiter = asyncio.create_task(_hold_and_note(db, "busy", []))
            await asyncio.sleep(0.05)
            assert held.acquired and len(sqlite_locks()) == 1
        await asyncio.wait_for(waiter, 5)
        assert sqlite_locks() == {}
    finally:
        await db.close()
