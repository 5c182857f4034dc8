"""How each server or room lays out unrolled threads: packed (the default) or per-post."""

from __future__ import annotations

import time

from storage.db import Database

LAYOUTS = ("packed", "per-post")
DEFAULT_LAYOUT = "packed"


class LayoutRepo:
    def __init__(self, db: Database, default: str = DEFAULT_LAYOUT) -> None:
        self.db = db
        # The layout of rooms that chose none.
        self.default = default
        self._chosen: dict[str, str | None] = {}

    async def get(self, scope: str) -> str:
        """The scope's layout; the default when none was chosen."""
        return await self.chosen(scope) or self.default

    async def chosen(self, scope: str) -> str | None:
        """The layout a moderator chose for the scope, if any."""
        if scope not in self._chosen:
            row = await self.db.fetchone(
                "SELECT layout FROM room_layouts WHERE scope = ?", (scope,)
            )
            self._chosen[scope] = str(row["layout"]) if row else None
        return self._chosen[scope]

    async def is_set(self, scope: str) -> bool:
        return await self.chosen(scope) is not None

    async def set(self, scope: str, layout: str, by: str, now: float | None = None) -> None:
        if layout not in LAYOUTS:
            raise ValueError(f"unknown layout {layout!r}")
        await self.db.execute(
            "INSERT INTO room_layouts (scope, layout, updated_by, updated_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (scope) DO UPDATE SET layout = excluded.layout,"
            " updated_by = excluded.updated_by, updated_at = excluded.updated_at",
            (scope, layout, by, time.time() if now is None else now),
        )
        self._chosen[scope] = layout
