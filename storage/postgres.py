"""PostgreSQL through asyncpg: the engine for several processes on one database.

The repositories' SQL is shared with SQLite: ``?`` placeholders become ``$n`` here. The
password never sits in the URL of the config: it comes from the environment variable
``[storage] password_env`` names and is passed to asyncpg apart from the URL."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, cast
from urllib.parse import urlsplit, urlunsplit

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from storage.db import (
    Connection,
    Database,
    DatabaseError,
    Held,
    Migration,
    Row,
    lock_key,
    to_dollar_params,
)

# Held while migrating, so two processes starting at once do not apply the same step twice.
_MIGRATION_LOCK = 0x756E726F6C6C  # "unroll"


def redact(url: str) -> str:
    """The URL without a password, for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    user = f"{parts.username}@" if parts.username else ""
    return urlunsplit((parts.scheme, user + host, parts.path, parts.query, parts.fragment))


def _count(status: str) -> int:
    """Rows changed, from a command tag such as ``UPDATE 3`` or ``INSERT 0 1``."""
    last = status.rsplit(" ", 1)[-1]
    return int(last) if last.isdigit() else 0


class PostgresConnection(Connection):
    def __init__(
        self, conn: asyncpg.Connection | asyncpg.Pool | PoolConnectionProxy[asyncpg.Record]
    ) -> None:
        self.conn = conn

    async def execute(self, sql: str, params: Iterable[Any] = ()) -> int:
        return _count(await self.conn.execute(to_dollar_params(sql), *params))

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        batch = [tuple(r) for r in rows]
        if batch:
            await self.conn.executemany(to_dollar_params(sql), batch)

    async def fetchall(self, sql: str, params: Iterable[Any] = ()) -> list[Row]:
        return cast(list[Row], await self.conn.fetch(to_dollar_params(sql), *params))


class PostgresDatabase(Database):
    """A small asyncpg pool; writes go through one transaction at a time per process."""

    dialect = "postgresql"

    def __init__(
        self, pool: asyncpg.Pool, path: str, url: str = "", password: str | None = None
    ) -> None:
        super().__init__()
        self.pool = pool
        self.path = path
        self._reads = PostgresConnection(pool)
        # For the connections named locks hold on their own (kept out of the pool, so a
        # long-held lock never takes a pooled connection from the repositories).
        self._url = url
        self._password = password

    @classmethod
    async def open(
        cls, url: str, migrations: Sequence[Migration], *, password: str | None = None
    ) -> PostgresDatabase:
        shown = redact(url)
        try:
            pool = await asyncpg.create_pool(
                url, password=password, min_size=1, max_size=4, command_timeout=60
            )
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, ValueError) as exc:
            raise DatabaseError(f"cannot open database {shown}: {exc}") from exc
        db = cls(pool, shown, url, password)
        try:
            async with pool.acquire() as conn:
                await conn.execute("SELECT pg_advisory_lock($1)", _MIGRATION_LOCK)
                try:
                    await db.migrate(migrations)
                finally:
                    await conn.execute("SELECT pg_advisory_unlock($1)", _MIGRATION_LOCK)
        except asyncpg.PostgresError as exc:
            await pool.close()
            raise DatabaseError(f"cannot use database {shown}: {exc}") from exc
        except BaseException:
            await pool.close()
            raise
        return db

    async def close(self) -> None:
        await self.pool.close()

    def _reader(self) -> Connection:
        return self._reads

    @asynccontextmanager
    async def hold(self, name: str, *, wait: bool = True) -> AsyncIterator[Held]:
        key = lock_key(name)
        try:
            conn = await asyncpg.connect(self._url, password=self._password)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            raise DatabaseError(f"cannot lock {name!r} on {self.path}: {exc}") from exc
        try:
            if wait:
                await conn.execute("SELECT pg_advisory_lock($1)", key)
                acquired = True
            else:
                acquired = bool(await conn.fetchval("SELECT pg_try_advisory_lock($1)", key))
            held = Held(name, acquired)
            # The server frees the lock when this connection ends, whoever ends it.
            conn.add_termination_listener(lambda _conn: held.lost.set())
            yield held
        finally:
            # Closing the connection releases the lock (no unlock round trip needed).
            with contextlib.suppress(Exception):
                await conn.close(timeout=5)

    def _begin(self) -> AbstractAsyncContextManager[Connection]:
        return self._transaction()

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[Connection]:
        async with self.pool.acquire() as conn, conn.transaction():
            yield PostgresConnection(conn)

    async def _ensure_version_table(self, conn: Connection) -> None:
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_version ("
            " version integer PRIMARY KEY, name text NOT NULL,"
            " applied_at timestamptz NOT NULL DEFAULT now())"
        )

    async def _apply(self, conn: Connection, sql: str) -> None:
        # No parameters: asyncpg sends the whole script at once (several statements).
        assert isinstance(conn, PostgresConnection)
        await conn.conn.execute(sql)
