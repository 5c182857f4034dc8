"""PostgreSQL through asyncpg: the engine for several processes on one database.

The repositories' SQL is shared with SQLite: ``?`` placeholders become ``$n`` here. The
password never sits in the URL of the config: it comes from the environment variable
``[storage] password_env`` names and is passed to asyncpg apart from the URL."""

from __future__ import annotations

import asyncio
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

# Connections for named locks, and how often a waiter tries again (doubling up to the most).
LOCK_CONNECTIONS = 10
LOCK_POLL_S = 0.02
MAX_LOCK_POLL_S = 0.5

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
        self._lock_pool: asyncpg.Pool | None = None

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
        if self._lock_pool is not None:
            await self._lock_pool.close()
        await self.pool.close()

    def _reader(self) -> Connection:
        return self._reads

    async def _locks(self) -> asyncpg.Pool:
        """The pool named locks are held on: apart from the repositories' pool, so holders
        never take a connection the work under the lock needs."""
        if self._lock_pool is None:
            try:
                self._lock_pool = await asyncpg.create_pool(
                    self._url, password=self._password, min_size=0, max_size=LOCK_CONNECTIONS
                )
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                raise DatabaseError(f"cannot take locks on {self.path}: {exc}") from exc
        return self._lock_pool

    @asynccontextmanager
    async def hold(self, name: str, *, wait: bool = True) -> AsyncIterator[Held]:
        key = lock_key(name)
        pool = await self._locks()
        delay = LOCK_POLL_S
        while True:
            conn = await pool.acquire()
            try:
                got = bool(await conn.fetchval("SELECT pg_try_advisory_lock($1)", key))
            except BaseException:
                await pool.release(conn)
                raise
            if got:
                break
            # Waiters give their connection back between tries, so many waiting never
            # starve the holders of connections.
            await pool.release(conn)
            if not wait:
                yield Held(name, acquired=False)
                return
            await asyncio.sleep(delay)
            delay = min(delay * 2, MAX_LOCK_POLL_S)
        held = Held(name, acquired=True)

        def lost(_conn: object) -> None:
            # The server frees the lock when the connection ends, whoever ends it.
            held.lost.set()

        conn.add_termination_listener(lost)
        try:
            yield held
        finally:
            # A connection that ended is no longer ours to unlock or give back.
            if not held.lost.is_set():
                with contextlib.suppress(Exception):
                    conn.remove_termination_listener(lost)
                    await conn.execute("SELECT pg_advisory_unlock($1)", key)
            # Released connections are reset, which also frees any lock left behind.
            with contextlib.suppress(Exception):
                await pool.release(conn)

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
