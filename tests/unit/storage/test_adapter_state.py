"""Adapter state on both engines: one JSON object per adapter and key, written only by the
process that owns it; a claim hands the row to another process, after which the former
owner's writes change nothing (an old sync token never overwrites a newer one)."""

from __future__ import annotations

import pytest

from storage.adapter_state_repo import AdapterStateError, AdapterStateRepo
from tests.conftest import Engine

BOT = "@bot:example.test"


async def test_a_claim_hands_the_state_over_and_fences_the_former_owner(engine: Engine) -> None:
    a_db, b_db = await engine.open(), await engine.open()
    try:
        a, b = AdapterStateRepo(a_db), AdapterStateRepo(b_db)
        assert await b.claim("matrix", BOT, "process-b") is None  # nothing stored yet
        await a.create("matrix", BOT, {"next_batch": "s1", "device_id": "DEV"}, "process-a")
        assert await a.put("matrix", BOT, {"next_batch": "s2", "device_id": "DEV"}, "process-a")

        taken = await b.claim("matrix", BOT, "process-b")
        assert taken is not None
        assert taken.owner == "process-b"
        assert taken.value() == {"next_batch": "s2", "device_id": "DEV"}

        # The former owner, not yet aware, tries to save its (older) token: refused.
        assert not await a.put("matrix", BOT, {"next_batch": "s1-late"}, "process-a")
        assert await b.put("matrix", BOT, {"next_batch": "s3", "device_id": "DEV"}, "process-b")
        row = await a.get("matrix", BOT)
        assert row is not None
        assert (row.owner, row.value()["next_batch"]) == ("process-b", "s3")
    finally:
        await a_db.close()
        await b_db.close()


async def test_state_is_kept_per_adapter_and_key(engine: Engine) -> None:
    db = await engine.open()
    try:
        repo = AdapterStateRepo(db, clock=lambda: 1000.0)
        await repo.create("matrix", "@b:h", {"next_batch": "x"}, "p")
        await repo.create("matrix", "@a:h", {"next_batch": "y"}, None)
        await repo.create("other", "@a:h", {"k": 1}, "p")
        assert [(s.key, s.value()) for s in await repo.list("matrix")] == [
            ("@a:h", {"next_batch": "y"}),
            ("@b:h", {"next_batch": "x"}),
        ]
        assert [(s.adapter, s.key) for s in await repo.list()] == [
            ("matrix", "@a:h"),
            ("matrix", "@b:h"),
            ("other", "@a:h"),
        ]
        row = await repo.get("matrix", "@b:h")
        assert row is not None and row.updated_at == 1000.0
        # An owner-less row is written by nobody until someone claims it.
        assert not await repo.put("matrix", "@a:h", {"next_batch": "z"}, "p")
        assert await repo.get("matrix", "@nobody:h") is None
    finally:
        await db.close()


async def test_a_damaged_value_is_named_not_guessed(engine: Engine) -> None:
    db = await engine.open()
    try:
        await db.execute(
            "INSERT INTO adapter_state (adapter, key, value, owner, updated_at)"
            " VALUES (?, ?, ?, ?, ?)",
            ("matrix", BOT, "{not json", None, 1.0),
        )
        row = await AdapterStateRepo(db).get("matrix", BOT)
        assert row is not None
        with pytest.raises(AdapterStateError, match=f"matrix state for {BOT} is not JSON"):
            row.value()
        await db.execute("UPDATE adapter_state SET value = ? WHERE key = ?", ("[1, 2]", BOT))
        row = await AdapterStateRepo(db).get("matrix", BOT)
        assert row is not None
        with pytest.raises(AdapterStateError, match="not a JSON object"):
            row.value()
    finally:
        await db.close()
