"""Opens the database the config names: a SQLite file, or a PostgreSQL URL."""

from __future__ import annotations

from collections.abc import Sequence

from storage.db import Database, Migration
from storage.postgres import PostgresDatabase
from storage.sqlite import SqliteDatabase


def is_postgres_url(target: str) -> bool:
    return target.startswith(("postgresql://", "postgres://"))


async def open_database(
    target: str, migrations: Sequence[Migration], *, password: str | None = None
) -> Database:
    """Open ``target`` (a SQLite file name, or a ``postgresql://`` URL) and bring it up to
    ``migrations`` (in its dialect: every migration the program knows, core and features)."""
    if is_postgres_url(target):
        return await PostgresDatabase.open(target, migrations, password=password)
    return await SqliteDatabase.open(target, migrations)
