"""Where the Matrix adapter keeps its sync token and device when the bot runs it: in the
database, one row per account. The file an earlier version kept is imported once (an
upgrade loses nothing and replays nothing); a process whose row another has claimed is told
and cannot put its token back."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from bot.adapters.matrix.store import DatabaseStore, MatrixState
from storage.adapter_state_repo import AdapterStateRepo
from storage.db import Database
from tests.conftest import Engine

BOT = "@bot:example.test"


def store(db: Database, folder: Path, owner: str, taken: list[str] | None = None) -> DatabaseStore:
    def on_taken() -> None:
        if taken is not None:
            taken.append(owner)

    return DatabaseStore(folder, AdapterStateRepo(db), "matrix", BOT, owner, on_taken)


def write_file(folder: Path, **state: object) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "matrix-state.json"
    path.write_text(json.dumps(state), encoding="utf-8")
    return path


async def test_the_state_file_is_imported_once(
    engine: Engine, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = tmp_path / "matrix-store"
    path = write_file(
        folder,
        next_batch="s42_7",
        device_id="OLDDEVICE",
        user_id=BOT,
        told_encrypted=["!enc:h"],
        direct_rooms={"@ann:h": "!dm:h"},
    )
    db = await engine.open()
    try:
        caplog.set_level(logging.INFO, logger="bot.adapters.matrix.store")
        first = store(db, folder, "p1")
        state = await first.load()
        assert state == MatrixState("s42_7", "OLDDEVICE", BOT, ["!enc:h"], {"@ann:h": "!dm:h"})
        assert any("imported the Matrix state" in r.getMessage() for r in caplog.records)
        first.state.next_batch = "s43_1"
        await first.save()

        # The file is left alone (nothing lost) but never read again: the row wins.
        write_file(folder, next_batch="s1_stale", device_id="OTHER", user_id=BOT)
        caplog.clear()
        again = await store(db, folder, "p2").load()
        assert (again.next_batch, again.device_id) == ("s43_1", "OLDDEVICE")
        assert not any("imported" in r.getMessage() for r in caplog.records)
        assert path.exists()
    finally:
        await db.close()


async def test_a_file_of_another_account_is_not_imported(engine: Engine, tmp_path: Path) -> None:
    folder = tmp_path / "store"
    write_file(folder, next_batch="s9", device_id="THEIRS", user_id="@someone:else")
    db = await engine.open()
    try:
        state = await store(db, folder, "p1").load()
        assert state == MatrixState()  # a first start: the adapter syncs once, replays nothing
    finally:
        await db.close()


async def test_unreadable_state_is_reported_with_where_it_is(
    engine: Engine, tmp_path: Path
) -> None:
    folder = tmp_path / "store"
    folder.mkdir()
    (folder / "matrix-state.json").write_text("{not json", encoding="utf-8")
    db = await engine.open()
    try:
        with pytest.raises(ValueError, match="cannot read the Matrix state file"):
            await store(db, folder, "p1").load()
        assert await AdapterStateRepo(db).get("matrix", BOT) is None  # nothing half-stored

        await db.execute(
            "INSERT INTO adapter_state (adapter, key, value, owner, updated_at)"
            " VALUES (?, ?, ?, ?, ?)",
            ("matrix", BOT, "[]", None, 1.0),
        )
        with pytest.raises(ValueError, match=f"cannot read the Matrix state for {BOT} in"):
            await store(db, tmp_path / "empty", "p1").load()
    finally:
        await db.close()


async def test_a_process_whose_state_was_claimed_is_told_and_writes_nothing(
    engine: Engine, tmp_path: Path
) -> None:
    a_db, b_db = await engine.open(), await engine.open()
    taken: list[str] = []
    try:
        a = store(a_db, tmp_path / "a", "process-a", taken)
        await a.load()
        a.state.device_id = "DEV"
        a.state.next_batch = "s10"
        await a.save()

        b = store(b_db, tmp_path / "b", "process-b", taken)
        state = await b.load()  # the standby takes over: same device, same token
        assert (state.device_id, state.next_batch) == ("DEV", "s10")

        a.state.next_batch = "s9_late"
        await a.save()
        assert taken == ["process-a"]
        b.state.next_batch = "s11"
        await b.save()
        assert taken == ["process-a"]
        assert (await store(a_db, tmp_path / "c", "process-c").load()).next_batch == "s11"
    finally:
        await a_db.close()
        await b_db.close()
