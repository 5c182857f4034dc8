"""What a chat adapter keeps across restarts and hands to a standby process (table
``adapter_state``): one JSON object per adapter and key (the Matrix account), and the
process that holds the session it belongs to.

Only the owner writes the value (``put`` is fenced by owner), so a process that lost the
session without noticing yet cannot put an older sync token back over its successor's.
The session itself is a named lock (``session``): the process holding it is the owner;
a standby waits on it and ``claim``s the row when it gets it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any

from storage.db import Database, Held, Row


class AdapterStateError(ValueError):
    """A stored value is not a JSON object (damaged by hand or by another program)."""


@dataclass(frozen=True)
class AdapterState:
    adapter: str
    key: str
    raw: str
    owner: str | None
    updated_at: float

    def value(self) -> dict[str, Any]:
        """The stored object; AdapterStateError names the row when it is not readable."""
        try:
            value: Any = json.loads(self.raw)
        except ValueError as exc:
            raise AdapterStateError(
                f"the stored {self.adapter} state for {self.key} is not JSON: {exc}"
            ) from None
        if not isinstance(value, dict):
            raise AdapterStateError(
                f"the stored {self.adapter} state for {self.key} is not a JSON object"
            )
        return value


def _state(row: Row) -> AdapterState:
    return AdapterState(
        str(row["adapter"]),
        str(row["key"]),
        str(row["value"]),
        None if row["owner"] is None else str(row["owner"]),
        float(row["updated_at"]),
    )


_COLUMNS = "adapter, key, value, owner, updated_at"


class AdapterStateRepo:
    def __init__(self, db: Database, clock: Callable[[], float] = time.time) -> None:
        self.db = db
        self.clock = clock

    def session(
        self, adapter: str, key: str, *, wait: bool = True
    ) -> AbstractAsyncContextManager[Held]:
        """The lock whose holder runs ``adapter``'s session for ``key``, across every
        process on the database (``Database.hold``)."""
        return self.db.hold(f"{adapter}-session:{key}", wait=wait)

    async def get(self, adapter: str, key: str) -> AdapterState | None:
        row = await self.db.fetchone(
            f"SELECT {_COLUMNS} FROM adapter_state WHERE adapter = ? AND key = ?", (adapter, key)
        )
        return _state(row) if row is not None else None

    async def list(self, adapter: str | None = None) -> list[AdapterState]:
        if adapter is None:
            rows = await self.db.fetchall(
                f"SELECT {_COLUMNS} FROM adapter_state ORDER BY adapter, key"
            )
        else:
            rows = await self.db.fetchall(
                f"SELECT {_COLUMNS} FROM adapter_state WHERE adapter = ? ORDER BY key",
                (adapter,),
            )
        return [_state(r) for r in rows]

    async def claim(self, adapter: str, key: str, owner: str) -> AdapterState | None:
        """Make ``owner`` the only writer of the row (call while holding ``session``) and
        return it as stored; None when there is no row yet (``create`` it)."""
        async with self.db.transaction() as conn:
            row = await conn.fetchone(
                "UPDATE adapter_state SET owner = ?, updated_at = ?"
                f" WHERE adapter = ? AND key = ? RETURNING {_COLUMNS}",
                (owner, self.clock(), adapter, key),
            )
        return _state(row) if row is not None else None

    async def create(
        self, adapter: str, key: str, value: Mapping[str, Any], owner: str | None
    ) -> None:
        """Store the first value for the key, owned by ``owner`` (replacing any row)."""
        await self.db.execute(
            f"INSERT INTO adapter_state ({_COLUMNS}) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (adapter, key) DO UPDATE SET value = excluded.value,"
            " owner = excluded.owner, updated_at = excluded.updated_at",
            (adapter, key, json.dumps(dict(value)), owner, self.clock()),
        )

    async def put(self, adapter: str, key: str, value: Mapping[str, Any], owner: str) -> bool:
        """Replace the value if ``owner`` still owns the row; False (nothing written) when
        another process has claimed it since."""
        changed = await self.db.execute(
            "UPDATE adapter_state SET value = ?, updated_at = ?"
            " WHERE adapter = ? AND key = ? AND owner = ?",
            (json.dumps(dict(value)), self.clock(), adapter, key, owner),
        )
        return changed > 0
