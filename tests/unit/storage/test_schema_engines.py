"""The SQLite and PostgreSQL migrations build the same schema: same version numbers, tables,
columns (types in a normalised form, nullability), primary keys and indexes. A migration
added for one engine only, or a column typed differently, fails here."""

from __future__ import annotations

from pathlib import Path

from bot.extensions import all_migrations, open_database
from storage.db import Database
from tests.postgres import PASSWORD, PostgresServer

# SQLite has no boolean and no 8-byte/4-byte split: flags are INTEGER 0/1 there.
_PG_TYPES = {
    "bigint": "integer",
    "integer": "integer",
    "smallint": "integer",
    "boolean": "integer",
    "double precision": "float",
    "text": "text",
}
_SQLITE_TYPES = {"INTEGER": "integer", "INT": "integer", "REAL": "float", "TEXT": "text"}
# The runner's own bookkeeping is created in code per engine, not by the migrations.
_SKIP = {"schema_version"}

Columns = dict[str, tuple[str, bool]]  # name -> (normalised type, nullable)
Index = tuple[str, tuple[str, ...], bool, str]  # table, columns, unique, name ('' if implicit)
Schema = tuple[dict[str, Columns], dict[str, tuple[str, ...]], set[Index]]


async def _sqlite_schema(
    db: Database,
) -> tuple[dict[str, Columns], dict[str, tuple[str, ...]], set[Index]]:
    tables: dict[str, Columns] = {}
    keys: dict[str, tuple[str, ...]] = {}
    indexes: set[Index] = set()
    rows = await db.fetchall(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    )
    for (table,) in (tuple(r) for r in rows):
        if table in _SKIP:
            continue
        info = await db.fetchall(f"PRAGMA table_info({table})")
        tables[table] = {
            str(c["name"]): (
                _SQLITE_TYPES[str(c["type"]).upper()],
                not c["notnull"] and not c["pk"],
            )
            for c in info
        }
        keys[table] = tuple(str(c["name"]) for c in sorted(info, key=lambda c: c["pk"]) if c["pk"])
        for ix in await db.fetchall(f"PRAGMA index_list({table})"):
            if ix["origin"] == "pk":
                continue
            cols = tuple(
                str(c["name"])
                for c in sorted(
                    await db.fetchall(f"PRAGMA index_info({ix['name']})"), key=lambda c: c["seqno"]
                )
            )
            name = str(ix["name"]) if ix["origin"] == "c" else ""
            indexes.add((table, cols, bool(ix["unique"]), name))
    return tables, keys, indexes


async def _pg_schema(
    db: Database,
) -> tuple[dict[str, Columns], dict[str, tuple[str, ...]], set[Index]]:
    tables: dict[str, Columns] = {}
    for c in await db.fetchall(
        "SELECT table_name, column_name, data_type, is_nullable FROM information_schema.columns"
        " WHERE table_schema = 'public' ORDER BY table_name, ordinal_position"
    ):
        if c["table_name"] in _SKIP:
            continue
        assert c["data_type"] != "real", f"{c['table_name']}.{c['column_name']} is 4-byte REAL"
        tables.setdefault(str(c["table_name"]), {})[str(c["column_name"])] = (
            _PG_TYPES[str(c["data_type"])],
            c["is_nullable"] == "YES",
        )
    keys: dict[str, tuple[str, ...]] = {}
    indexes: set[Index] = set()
    for ix in await db.fetchall(
        "SELECT t.relname AS tbl, i.relname AS name, x.indisunique AS uniq,"
        " x.indisprimary AS pk,"
        " EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = x.indexrelid) AS implicit,"
        " ARRAY(SELECT a.attname FROM unnest(x.indkey) WITH ORDINALITY AS k(attnum, n)"
        " JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.attnum"
        " ORDER BY k.n) AS cols"
        " FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid"
        " JOIN pg_class t ON t.oid = x.indrelid JOIN pg_namespace s ON s.oid = t.relnamespace"
        " WHERE s.nspname = 'public'"
    ):
        table = str(ix["tbl"])
        if table in _SKIP:
            continue
        cols = tuple(str(c) for c in ix["cols"])
        if ix["pk"]:
            keys[table] = cols
        else:
            indexes.add((table, cols, bool(ix["uniq"]), "" if ix["implicit"] else str(ix["name"])))
    return tables, keys, indexes


def test_every_migration_has_a_twin_with_the_same_number() -> None:
    sqlite = [(v, n.removesuffix(".sql")) for v, n, _ in all_migrations("sqlite")]
    pg = [(v, n.removesuffix(".pg.sql")) for v, n, _ in all_migrations("postgresql")]
    assert sqlite == pg
    assert [v for v, _ in pg] == list(range(1, len(pg) + 1))


async def test_both_engines_build_the_same_schema(
    tmp_path: Path, postgres_server: PostgresServer
) -> None:
    lite = await open_database(str(tmp_path / "schema.sqlite3"))
    pg = await open_database(await postgres_server.create_database(), password=PASSWORD)
    try:
        assert await lite.schema_version() == await pg.schema_version()
        lite_tables, lite_keys, lite_indexes = await _sqlite_schema(lite)
        pg_tables, pg_keys, pg_indexes = await _pg_schema(pg)
    finally:
        await lite.close()
        await pg.close()
    assert len(lite_tables) >= 15
    assert sorted(pg_tables) == sorted(lite_tables)
    for table, columns in lite_tables.items():
        assert pg_tables[table] == columns, table
        assert pg_keys.get(table) == lite_keys[table], table
    assert pg_indexes == lite_indexes


async def test_postgres_ids_are_bigint_and_times_double_precision(
    postgres_server: PostgresServer,
) -> None:
    pg = await open_database(await postgres_server.create_database(), password=PASSWORD)
    try:
        rows = await pg.fetchall(
            "SELECT table_name, column_name, data_type, is_identity FROM"
            " information_schema.columns WHERE table_schema = 'public'"
        )
    finally:
        await pg.close()
    ids = {r["table_name"]: r["data_type"] for r in rows if r["is_identity"] == "YES"}
    assert {"deliveries", "thread_links", "sub_authors", "subscriptions"} <= set(ids)
    assert set(ids.values()) == {"bigint"}
    # Times are Unix seconds (8-byte floats); the posts' own ISO dates and the runner's
    # applied_at are the exceptions.
    iso = {("posts", "created_at"), ("sub_threads", "root_created_at")}
    times = {
        (r["table_name"], r["column_name"]): r["data_type"]
        for r in rows
        if (str(r["column_name"]).endswith("_at") or r["column_name"] == "at")
        and (r["table_name"], r["column_name"]) not in iso
        and r["table_name"] != "schema_version"
    }
    assert len(times) > 20 and set(times.values()) == {"double precision"}
