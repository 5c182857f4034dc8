"""The database interface the repositories use, on SQLite or PostgreSQL; numbered migrations.

Repositories write one SQL text with ``?`` placeholders (adapted to ``$n`` on PostgreSQL) in
SQL both engines speak (``ON CONFLICT``, ``RETURNING``, ``TRUE``/``FALSE``); rows are read by
column name or position on both. Every write runs in ``transaction()``; writes of one
process are serialised, so a multi-statement repository method is one transaction.

Migrations are ``NNNN_name.sql`` (SQLite) with a ``NNNN_name.pg.sql`` twin (PostgreSQL)
beside it: the core tables' in ``storage/migrations/``, each feature's beside it
(``cogs/<feature>/migrations/``). The twins share the number, so a database's version means
the same tables on both engines, and a reviewer sees both dialects of a change side by
side. The host collects them from every package into one global order by number; each is
applied in its own transaction and recorded in ``schema_version``. A database newer than
the code is refused.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractAsyncContextManager
from functools import lru_cache
from importlib import resources
from typing import Any, Literal, Protocol

log = logging.getLogger(__name__)

Dialect = Literal["sqlite", "postgresql"]
DIALECTS: tuple[Dialect, ...] = ("sqlite", "postgresql")
_MIGRATION_NAME = {
    "sqlite": re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$"),
    "postgresql": re.compile(r"^(\d{4})_[a-z0-9_]+\.pg\.sql$"),
}


class DatabaseError(Exception):
    """The database cannot be used (newer than the code, unreadable, broken migration)."""


CORE_MIGRATIONS = "storage.migrations"

# (version, file name, sql)
Migration = tuple[int, str, str]


class Row(Protocol):
    """A result row: by column name or position (sqlite3.Row, asyncpg.Record)."""

    def __getitem__(self, key: int | str, /) -> Any: ...
    def __iter__(self) -> Iterator[Any]: ...
    def __len__(self) -> int: ...


def available_migrations(
    packages: Iterable[str] = (CORE_MIGRATIONS,), dialect: Dialect = "sqlite"
) -> list[Migration]:
    """(version, name, sql) for every migration in ``packages`` in ``dialect``, in one order
    by number; numbers are global, so two packages never share one."""
    found: list[Migration] = []
    pattern = _MIGRATION_NAME[dialect]
    for package in packages:
        for entry in resources.files(package).iterdir():
            m = pattern.match(entry.name)
            if m:
                found.append((int(m.group(1)), entry.name, entry.read_text(encoding="utf-8")))
    found.sort()
    versions = [v for v, _, _ in found]
    if len(versions) != len(set(versions)):
        raise DatabaseError(f"two migrations share a number: {versions}")
    return found


@lru_cache(maxsize=512)
def to_dollar_params(sql: str) -> str:
    """``?`` placeholders as PostgreSQL's ``$1, $2, …`` (quoted text and comments kept)."""
    out: list[str] = []
    n = 0
    quote = ""
    i = 0
    while i < len(sql):
        ch = sql[i]
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif sql.startswith("--", i):
            # A comment: its question marks are not parameters (PostgreSQL ignores them).
            end = sql.find("\n", i)
            end = len(sql) if end < 0 else end
            out.append(sql[i:end])
            i = end
            continue
        elif ch == "?":
            n += 1
            out.append(f"${n}")
            i += 1
            continue
        out.append(ch)
        i += 1
    return "".join(out)


class Connection(ABC):
    """One connection inside a transaction."""

    @abstractmethod
    async def execute(self, sql: str, params: Iterable[Any] = ()) -> int:
        """Run one statement; the number of rows it changed."""

    @abstractmethod
    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None: ...

    @abstractmethod
    async def fetchall(self, sql: str, params: Iterable[Any] = ()) -> list[Row]: ...

    async def fetchone(self, sql: str, params: Iterable[Any] = ()) -> Row | None:
        rows = await self.fetchall(sql, params)
        return rows[0] if rows else None

    async def fetchval(self, sql: str, params: Iterable[Any] = ()) -> Any:
        """The first column of the first row (None without one): ``RETURNING id``, counts."""
        row = await self.fetchone(sql, params)
        return row[0] if row is not None else None


def lock_key(name: str) -> int:
    """A stable signed 64-bit key for a lock name (PostgreSQL advisory lock keys)."""
    digest = hashlib.blake2b(name.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


class Held:
    """A named lock as held by ``Database.hold``."""

    def __init__(self, name: str, acquired: bool) -> None:
        self.name = name
        self.acquired = acquired
        self.lost = asyncio.Event()


class Database(ABC):
    """The database a repository gets; ``SqliteDatabase`` or ``PostgresDatabase``."""

    dialect: Dialect
    # Where it is, for messages (a file name, or a URL without its password).
    path: str

    def __init__(self) -> None:
        self._write_lock = asyncio.Lock()

    @abstractmethod
    def _begin(self) -> AbstractAsyncContextManager[Connection]:
        """A connection in an open write transaction, committed when the block ends."""

    @abstractmethod
    def _reader(self) -> Connection:
        """A connection for reads outside a transaction."""

    @abstractmethod
    async def close(self) -> None: ...

    @abstractmethod
    def hold(self, name: str, *, wait: bool = True) -> AbstractAsyncContextManager[Held]:
        """Hold the named lock for the block, across every process on this database (a
        PostgreSQL advisory lock on a connection of its own; SQLite, one process by design,
        locks within the process). ``wait=False`` yields a ``Held`` whose ``acquired`` is
        False at once instead of waiting while another holder has it. ``Held.lost`` is set
        if the lock is lost while held (the database connection dropped): a holder doing
        exclusive work must stop then."""

    @abstractmethod
    async def _ensure_version_table(self, conn: Connection) -> None: ...

    @abstractmethod
    async def _apply(self, conn: Connection, sql: str) -> None:
        """Run one migration's statements inside the open transaction."""

    def transaction(self) -> AbstractAsyncContextManager[Connection]:
        """One write transaction; rolled back on any error."""
        return _Serialised(self._write_lock, self._begin())

    async def fetchone(self, sql: str, params: Iterable[Any] = ()) -> Row | None:
        return await self._reader().fetchone(sql, params)

    async def fetchall(self, sql: str, params: Iterable[Any] = ()) -> list[Row]:
        return await self._reader().fetchall(sql, params)

    async def fetchval(self, sql: str, params: Iterable[Any] = ()) -> Any:
        return await self._reader().fetchval(sql, params)

    async def execute(self, sql: str, params: Iterable[Any] = ()) -> int:
        """A single-statement write in its own transaction; the number of rows changed."""
        async with self.transaction() as conn:
            return await conn.execute(sql, params)

    async def schema_version(self) -> int:
        async with self.transaction() as conn:
            await self._ensure_version_table(conn)
        value = await self.fetchval("SELECT MAX(version) FROM schema_version")
        return int(value) if value is not None else 0

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
                async with self.transaction() as conn:
                    # Another process may have applied it since we looked (the write lock
                    # is held now): skip it then.
                    done = await conn.fetchval("SELECT MAX(version) FROM schema_version")
                    if done is not None and int(done) >= version:
                        continue
                    await self._apply(conn, sql)
                    await conn.execute(
                        "INSERT INTO schema_version (version, name) VALUES (?, ?)",
                        (version, name),
                    )
            except DatabaseError:
                raise
            except Exception as exc:
                raise DatabaseError(f"migration {name} failed: {exc}") from exc
        return await self.schema_version()


class _Serialised(AbstractAsyncContextManager[Connection]):
    """Holds the write lock around a transaction (no two writes of one process interleave,
    as on SQLite, whichever engine)."""

    def __init__(self, lock: asyncio.Lock, inner: AbstractAsyncContextManager[Connection]):
        self._lock = lock
        self._inner = inner

    async def __aenter__(self) -> Connection:
        await self._lock.acquire()
        try:
            return await self._inner.__aenter__()
        except BaseException:
            self._lock.release()
            raise

    async def __aexit__(self, *exc: Any) -> bool | None:
        try:
            return await self._inner.__aexit__(*exc)
        finally:
            self._lock.release()
