"""The database: one aiosqlite connection, WAL, foreign keys, numbered migrations.

Migrations are ``NNNN_name.sql`` files: the core tables' in ``storage/migrations/``, each
feature's beside it (``cogs/<feature>/migrations/``). The host collects them from every
package into one global order by number; each is applied in its own transaction and
recorded in ``schema_version``. A database newer than the code is refused.
"""

from __future__ import annotations

import asyncio
import logging
import re
import sqlite3
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path
from typing import Any

import aiosqlite

log = logging.getLogger(__name__)

_MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


class DatabaseError(Exception):
    """The database cannot be used (newer than the code, unreadable, broken migration)."""


CORE_MIGRATIONS = "storage.migrations"

# (version, file name, sql)
Migration = tuple[int, str, str]


def available_migrations(packages: Iterable[str] = (CORE_MIGRATIONS,)) -> list[Migration]:
    """(version, name, sql) for every migration in ``packages``, in one order by number;
    numbers are global, so two packages never share one."""
    found: list[Migration] = []
    for package in packages:
        for entry in resources.files(package).iterdir():
            m = _MIGRATION_NAME.match(entry.name)
            if m:
                found.append((int(m.group(1)), entry.name, entry.read_text(encoding="utf-8")))
    found.sort()
    versions = [v for v, _, _ in found]
    if len(versions) != len(set(versions)):
        raise DatabaseError(f"two migrations share a number: {versions}")
    return found


def _check_path(path: str) -> None:
    """Name the usual mistakes in [storage] path before SQLite's generic "unable to open"."""
    if path == ":memory:" or path.startswith("file:"):
        return
    target = Path(path)
    if target.is_dir():
        raise DatabaseError(
            f"cannot open database {path}: that is a folder; give a file name inside it"
        )
    parent = target.parent
    if not parent.is_dir():
        raise DatabaseError(f"cannot open database {path}: the folder {parent} does not exist")


class Database:
    """Wraps one connection. Writes are serialised by a lock so a multi-statement
    repository method is one transaction."""

    def __init__(self, conn: aiosqlite.Connection, path: str) -> None:
        self.conn = conn
        self.path = path
        self._write_lock = asyncio.Lock()

    @classmethod
    async def open(cls, path: str, migrations: Sequence[Migration]) -> Database:
        """Open (or create) the database and bring it up to ``migrations``, which must be
        every migration the program knows (core and features), so versions stay in step."""
        _check_path(path)
        try:
            conn = await aiosqlite.connect(path, isolation_level=None)
        except Exception as exc:  # sqlite3.OperationalError and friends
            raise DatabaseError(f"cannot open database {path}: {exc}") from exc
        conn.row_factory = aiosqlite.Row
        db = cls(conn, path)
        try:
            await conn.execute("PRAGMA foreign_keys = ON")
            if path != ":memory:":
                await conn.execute("PRAGMA journal_mode = WAL")
            await conn.execute("PRAGMA busy_timeout = 5000")
            await db.migrate(migrations)
        except sqlite3.Error as exc:
            # SQLite only reads the file at the first statement, so a file that is not a
            # database (or is read-only, or locked) shows up here rather than at connect.
            await conn.close()
            raise DatabaseError(f"cannot use database {path}: {exc}") from exc
        except BaseException:
            await conn.close()
            raise
        return db

    async def close(self) -> None:
        await self.conn.close()

    async def schema_version(self) -> int:
        await self.conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_version ("
            " version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
            " applied_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP)"
        )
        async with self.conn.execute("SELECT MAX(version) FROM schema_version") as cur:
            row = await cur.fetchone()
        return int(row[0]) if row and row[0] is not None else 0

    async def migrate(self, migrations: Iterable[Migration]) -> int:
        steps = sorted(migrations)
        current = await self.schema_version()
        newest = steps[-1][0] if steps else 0
        if current > newest:
            raise DatabaseError(
                f"the database {self.path} has schema version {current}, newer than this "
                f"unrollbot knows ({newest}); upgrade unrollbot or use another database"
            )
        for version, name, sql in steps:
            if version <= current:
                continue
            log.info("applying migration %s", name)
            try:
                await self.conn.execute("BEGIN IMMEDIATE")
                for statement in _split_sql(sql):
                    await self.conn.execute(statement)
                await self.conn.execute(
                    "INSERT INTO schema_version (version, name) VALUES (?, ?)", (version, name)
                )
                await self.conn.execute("COMMIT")
            except Exception as exc:
                await self.conn.execute("ROLLBACK")
                raise DatabaseError(f"migration {name} failed: {exc}") from exc
        return await self.schema_version()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """One write transaction; rolled back on any error."""
        async with self._write_lock:
            await self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield self.conn
            except BaseException:
                await self.conn.execute("ROLLBACK")
                raise
            else:
                await self.conn.execute("COMMIT")

    async def fetchone(self, sql: str, params: Iterable[Any] = ()) -> aiosqlite.Row | None:
        async with self.conn.execute(sql, tuple(params)) as cur:
            return await cur.fetchone()

    async def fetchall(self, sql: str, params: Iterable[Any] = ()) -> list[aiosqlite.Row]:
        async with self.conn.execute(sql, tuple(params)) as cur:
            return list(await cur.fetchall())

    async def execute(self, sql: str, params: Iterable[Any] = ()) -> None:
        """A single-statement write in its own transaction."""
        async with self.transaction() as conn:
            await conn.execute(sql, tuple(params))


def _split_sql(sql: str) -> list[str]:
    """Split a migration into statements: comments dropped, then lines gathered until
    SQLite says the statement is complete (so semicolons in strings and triggers work)."""
    statements: list[str] = []
    buf = ""
    for line in sql.splitlines():
        buf += _strip_comment(line) + "\n"
        if sqlite3.complete_statement(buf):
            stmt = buf.strip().rstrip(";").strip()
            if stmt:
                statements.append(stmt)
            buf = ""
    if buf.strip():
        statements.append(buf.strip())
    return statements


def _strip_comment(line: str) -> str:
    """The line without a trailing ``--`` comment (quotes respected)."""
    quote = ""
    for i, ch in enumerate(line):
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif line.startswith("--", i):
            return line[:i]
    return line
