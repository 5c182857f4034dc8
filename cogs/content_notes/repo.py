"""Content-note settings and moderator actions: policies and support lines per scope,
warnings on threads, and the action log (who, when, what, where)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from storage.db import Connection, Database

_CHUNK = 400  # ids per IN (...) query, well under SQLite's variable limit


@dataclass(frozen=True)
class ThreadWarning:
    thread_key: str
    category: str
    reason: str
    thread_url: str
    added_by: str
    added_at: float


@dataclass(frozen=True)
class NoteAction:
    """One moderator action: who, when, what, where."""

    at: float
    user_id: str
    user_name: str
    adapter: str
    scope: str
    channel: str
    action: str  # warning-added, warning-removed, policy, support
    detail: str


@dataclass(frozen=True)
class ScopeSettings:
    actions: dict[str, str]  # category -> show|note|warn|hide, only those set
    support_line: str | None


async def _log(conn: Connection, a: NoteAction) -> None:
    await conn.execute(
        "INSERT INTO note_actions (at, user_id, user_name, adapter, scope, channel, action,"
        " detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (a.at, a.user_id, a.user_name, a.adapter, a.scope, a.channel, a.action, a.detail),
    )


class NotesRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    # Policies and support lines
    async def settings(self, scope: str) -> ScopeSettings:
        rows = await self.db.fetchall(
            "SELECT category, action FROM note_policies WHERE scope = ?", (scope,)
        )
        support = await self.db.fetchone(
            "SELECT text FROM note_support_lines WHERE scope = ?", (scope,)
        )
        return ScopeSettings(
            {r["category"]: r["action"] for r in rows}, support["text"] if support else None
        )

    async def all_settings(self) -> dict[str, ScopeSettings]:
        out: dict[str, ScopeSettings] = {}
        for r in await self.db.fetchall("SELECT scope, category, action FROM note_policies"):
            out.setdefault(r["scope"], ScopeSettings({}, None)).actions[r["category"]] = r["action"]
        for r in await self.db.fetchall("SELECT scope, text FROM note_support_lines"):
            prev = out.get(r["scope"], ScopeSettings({}, None))
            out[r["scope"]] = ScopeSettings(prev.actions, r["text"])
        return out

    async def set_action(self, scope: str, category: str, action: str, log: NoteAction) -> None:
        async with self.db.transaction() as conn:
            await conn.execute(
                "INSERT INTO note_policies (scope, category, action, updated_at)"
                " VALUES (?, ?, ?, ?) ON CONFLICT (scope, category)"
                " DO UPDATE SET action = excluded.action, updated_at = excluded.updated_at",
                (scope, category, action, log.at),
            )
            await _log(conn, log)

    async def set_support_line(self, scope: str, text: str | None, log: NoteAction) -> None:
        async with self.db.transaction() as conn:
            if text is None:
                await conn.execute("DELETE FROM note_support_lines WHERE scope = ?", (scope,))
            else:
                await conn.execute(
                    "INSERT INTO note_support_lines (scope, text, updated_at) VALUES (?, ?, ?)"
                    " ON CONFLICT (scope) DO UPDATE SET text = excluded.text,"
                    " updated_at = excluded.updated_at",
                    (scope, text, log.at),
                )
            await _log(conn, log)

    # Thread warnings
    async def add_warnings(
        self,
        thread_key: str,
        thread_url: str,
        categories: Iterable[str],
        reason: str,
        log: NoteAction,
    ) -> None:
        """Add (or re-word) warnings on a thread and log it, in one transaction."""
        async with self.db.transaction() as conn:
            for category in categories:
                await conn.execute(
                    "INSERT INTO thread_warnings (thread_key, category, reason, thread_url,"
                    " added_by, added_at) VALUES (?, ?, ?, ?, ?, ?)"
                    " ON CONFLICT (thread_key, category) DO UPDATE SET reason = excluded.reason,"
                    " added_by = excluded.added_by, added_at = excluded.added_at",
                    (thread_key, category, reason, thread_url, log.user_id, log.at),
                )
            await _log(conn, log)

    async def remove_warnings(self, thread_key: str, category: str | None, log: NoteAction) -> int:
        """Remove one category (or all) from a thread; logs only when something went."""
        async with self.db.transaction() as conn:
            if category is None:
                removed = await conn.execute(
                    "DELETE FROM thread_warnings WHERE thread_key = ?", (thread_key,)
                )
            else:
                removed = await conn.execute(
                    "DELETE FROM thread_warnings WHERE thread_key = ? AND category = ?",
                    (thread_key, category),
                )
            if removed:
                await _log(conn, log)
        return removed

    async def warnings_for(self, keys: Iterable[str]) -> list[ThreadWarning]:
        """Warnings stored under any of ``keys`` (a thread's root id, its links, post ids)."""
        unique = list(dict.fromkeys(k for k in keys if k))
        out: list[ThreadWarning] = []
        for i in range(0, len(unique), _CHUNK):
            chunk = unique[i : i + _CHUNK]
            marks = ", ".join("?" * len(chunk))
            rows = await self.db.fetchall(
                "SELECT thread_key, category, reason, thread_url, added_by, added_at"
                f" FROM thread_warnings WHERE thread_key IN ({marks})"
                " ORDER BY added_at, category",
                chunk,
            )
            out.extend(ThreadWarning(*tuple(r)) for r in rows)
        return out

    async def recent_warnings(self, limit: int = 20) -> list[ThreadWarning]:
        rows = await self.db.fetchall(
            "SELECT thread_key, category, reason, thread_url, added_by, added_at"
            " FROM thread_warnings ORDER BY added_at DESC, category LIMIT ?",
            (limit,),
        )
        return [ThreadWarning(*tuple(r)) for r in rows]

    # Action log
    async def recent_actions(self, scope: str | None = None, limit: int = 10) -> list[NoteAction]:
        where, params = ("WHERE scope = ?", (scope, limit)) if scope else ("", (limit,))
        rows = await self.db.fetchall(
            "SELECT at, user_id, user_name, adapter, scope, channel, action, detail"
            f" FROM note_actions {where} ORDER BY at DESC, id DESC LIMIT ?",
            params,
        )
        return [NoteAction(*tuple(r)) for r in rows]
