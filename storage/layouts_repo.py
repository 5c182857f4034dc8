"""How each server or room lays out unrolled threads: packed (the default) or per-post."""

from __future__ import annotations

import time

from storage.db import Database

LAYOUTS = ("packed", "per-post")
DEFAULT_LAYOUT = "packed"


class LayoutRepo:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._cache: dict[str, str] = {}

    async def get(self, scope: str) -> str:
        """The scope's layout; the default when none was chosen."""
        if scope not in self._cache:
            row = await self.db.fetchone(
                "SELECT layout FROM room_layouts WHERE scope = ?", (scope,)
            )
            self._cache[scope] = str(row["layout"]) if row else DEFAULT_LAYOUT
        return self._cache[scope]

    async def is_set(self, scope: str) -> bool:
        row = await self.db.fetchone("SELECT 1 FROM room_layouts WHERE scope = ?", (scope,))
        return row is not None

    async def set(self, scope: str, layout: str, by: str, now: float | None = None) -> None:
        if layout not in LAYOUTS:
            raise ValueError(f"unknown layout {layout!r}")
        await self.db.execute(
            "INSERT INTO room_layouts (scope, layout, updated_by, updated_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (scope) DO UPDATE SET layout = excluded.layout,"
            " updated_by = excluded.updated_by, updated_at = excluded.updated_at",
            (scope, layout, by, time.time() if now is None else now),
        )
        self._cache[scope] = layout
