"""SQLite through aiosqlite: the embedded default. One connection, WAL, foreign keys."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any, cast

import aiosqlite
from tenacity import AsyncRetrying, retry_if_exception, stop_after_delay, wait_random

from storage.db import Connection, Database, DatabaseError, Held, Migration, Row

_BUSY_S = 5  # how long a statement waits for another process's lock


def _locked(exc: BaseException) -> bool:
    cause = exc.__cause__ if isinstance(exc, DatabaseError) else exc
    return isinstance(cause, sqlite3.OperationalError) and "locked" in str(cause)


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


# Named locks by (database file, name): shared by every handle this process opens on a file,
# with how many holders and waiters each has (a lock nobody wants is dropped: names include
# every thread link ever fetched).
_NAMED: dict[tuple[str, str], tuple[asyncio.Lock, int]] = {}


class SqliteConnection(Connection):
    def __init__(self, conn: aiosqlite.Connection) -> None:
        self.conn = conn

    async def execute(self, sql: str, params: Iterable[Any] = ()) -> int:
        async with self.conn.execute(sql, tuple(params)) as cur:
            return max(cur.rowcount, 0)

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        await self.conn.executemany(sql, [tuple(r) for r in rows])

    async def fetchall(self, sql: str, params: Iterable[Any] = ()) -> list[Row]:
        async with self.conn.execute(sql, tuple(params)) as cur:
            return cast(list[Row], list(await cur.fetchall()))


class SqliteDatabase(Database):
    """Wraps one aiosqlite connection."""

    dialect = "sqlite"

    def __init__(self, conn: aiosqlite.Connection, path: str) -> None:
        super().__init__()
        self.conn = conn
        self.path = path
        self._conn = SqliteConnection(conn)

    @classmethod
    async def open(cls, path: str, migrations: Sequence[Migration]) -> SqliteDatabase:
        """Open (or create) the database and bring it up to ``migrations``."""
        _check_path(path)
        # Processes opening a new file at the same moment: while one switches it to WAL,
        # SQLite answers the other "database is locked" at once (its busy timeout does not
        # cover that switch). Starting over a moment later finds the file ready.
        async for attempt in AsyncRetrying(
            retry=retry_if_exception(_locked),
            stop=stop_after_delay(_BUSY_S),
            wait=wait_random(0.01, 0.1),
            reraise=True,
        ):
            with attempt:
                return await cls._open_once(path, migrations)
        raise AssertionError("unreachable: the last attempt re-raises")

    @classmethod
    async def _open_once(cls, path: str, migrations: Sequence[Migration]) -> SqliteDatabase:
        try:
            conn = await aiosqlite.connect(path, isolation_level=None)
        except Exception as exc:  # sqlite3.OperationalError and friends
            raise DatabaseError(f"cannot open database {path}: {exc}") from exc
        conn.row_factory = aiosqlite.Row
        db = cls(conn, path)
        try:
            await conn.execute(f"PRAGMA busy_timeout = {_BUSY_S * 1000}")
            await conn.execute("PRAGMA foreign_keys = ON")
            if path != ":memory:":
                await conn.execute("PRAGMA journal_mode = WAL")
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

    def _reader(self) -> Connection:
        return self._conn

    @asynccontextmanager
    async def hold(self, name: str, *, wait: bool = True) -> AsyncIterator[Held]:
        # SQLite serves one bot process: its named locks are this process's.
        key = (self.path, name)
        lock, users = _NAMED.get(key, (asyncio.Lock(), 0))
        if not wait and lock.locked():
            yield Held(name, acquired=False)
            return
        _NAMED[key] = (lock, users + 1)
        try:
            async with lock:
                yield Held(name, acquired=True)
        finally:
            lock, users = _NAMED[key]
            if users == 1:
                del _NAMED[key]
            else:
                _NAMED[key] = (lock, users - 1)

    def _begin(self) -> AbstractAsyncContextManager[Connection]:
        return self._transaction()

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[Connection]:
        await self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self._conn
        except BaseException:
            await self.conn.execute("ROLLBACK")
            raise
        else:
            await self.conn.execute("COMMIT")

    async def _ensure_version_table(self, conn: Connection) -> None:
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_version ("
            " version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
            " applied_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP)"
        )

    async def _apply(self, conn: Connection, sql: str) -> None:
        for statement in split_sql(sql):
            await conn.execute(statement)


def split_sql(sql: str) -> list[str]:
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
