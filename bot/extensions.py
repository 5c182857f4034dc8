"""The features the bot loads, in order: one list. Each entry names a package with
``async def setup(host: Host) -> None``; a package's ``migrations`` folder, if any, holds
its tables. Names are strings so the core never imports a feature."""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Iterable, Iterator, Sequence
from functools import cache

from bot.commands import Cog, CommandSpec
from storage.db import (
    CORE_MIGRATIONS,
    Database,
    Dialect,
    Migration,
    available_migrations,
)
from storage.engines import is_postgres_url
from storage.engines import open_database as _open

EXTENSIONS: tuple[str, ...] = (
    "cogs.help",
    "cogs.unroll",
    "cogs.layout",
    "cogs.links",
    "cogs.content_notes",
    "cogs.subscriptions",
)
# Loaded whatever subset a caller picks: without them the bot cannot answer at all.
CORE: tuple[str, ...] = EXTENSIONS[:3]


def selected(names: Iterable[str] | None) -> list[str]:
    """The extensions to load: all of them, or the core plus the named ones."""
    if names is None:
        return list(EXTENSIONS)
    return [*CORE, *(n for n in names if n not in CORE)]


def declared_commands() -> Iterator[tuple[type[Cog], CommandSpec]]:
    """Every feature's command declarations, unbound (each package lists its cogs in
    ``COGS``): the command line builds its subcommands from them."""
    for name in EXTENSIONS:
        for cog in getattr(importlib.import_module(name), "COGS", ()):
            for _, spec in cog.declared():
                yield cog, spec


@cache
def all_migrations(dialect: Dialect = "sqlite") -> list[Migration]:
    """Every migration the program ships, core and features, in one order. A database gets
    all of them whichever features load, so its version always means the same tables."""
    packages = [CORE_MIGRATIONS]
    for name in EXTENSIONS:
        package = f"{name}.migrations"
        if importlib.util.find_spec(package) is not None:
            packages.append(package)
    return available_migrations(packages, dialect)


async def open_database(
    target: str, migrations: Sequence[Migration] | None = None, *, password: str | None = None
) -> Database:
    """A SQLite file name or a ``postgresql://`` URL, brought up to every migration."""
    if migrations is None:
        migrations = all_migrations("postgresql" if is_postgres_url(target) else "sqlite")
    return await _open(target, migrations, password=password)
