"""Migrations and the thread cache, on a SQLite file and on a real PostgreSQL server."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.extensions import all_migrations, open_database
from bot.models import Aside, Author, Post, Thread
from storage.db import Database, DatabaseError
from storage.sqlite import SqliteDatabase
from storage.threads_repo import ThreadRepo
from tests.conftest import Engine

ALICE = Author("did:alice", "alice.test", "Alice", "https://bsky.app/profile/alice.test")


def _post(pid: str, parent: str | None) -> Post:
    return Post(pid, f"https://x.test/{pid}", ALICE, "2026-01-01T00:00:00Z", f"t {pid}", parent)


async def test_fresh_database_gets_every_migration(engine: Engine) -> None:
    db = await engine.open()
    try:
        assert db.dialect == engine.dialect
        assert await db.schema_version() == all_migrations(engine.dialect)[-1][0]
        if engine.dialect == "sqlite":
            row = await db.fetchone("PRAGMA journal_mode")
            assert row is not None and row[0] == "wal"
            row = await db.fetchone("PRAGMA foreign_keys")
            assert row is not None and row[0] == 1
    finally:
        await db.close()


async def test_newer_database_is_refused(engine: Engine) -> None:
    db = await engine.open()
    await db.execute("INSERT INTO schema_version (version, name) VALUES (9999, 'future')")
    await db.close()
    with pytest.raises(DatabaseError, match="newer"):
        await engine.open()


async def _has_table(db: Database, name: str) -> bool:
    if db.dialect == "sqlite":
        sql = "SELECT 1 FROM sqlite_master WHERE name = ?"
    else:
        sql = "SELECT 1 FROM information_schema.tables WHERE table_name = ?"
    return await db.fetchone(sql, (name,)) is not None


async def test_failed_migration_rolls_back_and_keeps_version(engine: Engine) -> None:
    db = await engine.open()
    try:
        before = await db.schema_version()
        bad = [(before + 1, "9999_bad.sql", "CREATE TABLE ok_table (x INT); CREATE TABLE broken (")]
        with pytest.raises(DatabaseError, match="9999_bad"):
            await db.migrate(all_migrations(engine.dialect) + bad)
        assert await db.schema_version() == before
        assert not await _has_table(db, "ok_table")
    finally:
        await db.close()


async def test_a_failed_write_changes_nothing_on_either_engine(db: Database) -> None:
    # A repository method is one transaction: an error halfway leaves no trace.
    with pytest.raises(RuntimeError):
        async with db.transaction() as conn:
            await conn.execute(
                "INSERT INTO url_aliases (url, post_id) VALUES (?, ?)", ("https://a.test/1", "p")
            )
            raise RuntimeError("halfway")
    assert await db.fetchone("SELECT 1 FROM url_aliases") is None
    changed = await db.execute(
        "INSERT INTO url_aliases (url, post_id) VALUES (?, ?) ON CONFLICT DO NOTHING",
        ("https://a.test/1", "p"),
    )
    again = await db.execute(
        "INSERT INTO url_aliases (url, post_id) VALUES (?, ?) ON CONFLICT DO NOTHING",
        ("https://a.test/1", "q"),
    )
    assert (changed, again) == (1, 0)
    row = await db.fetchone(
        "SELECT post_id, url FROM url_aliases WHERE url = ?", ("https://a.test/1",)
    )
    assert row is not None and (row["post_id"], row[1]) == ("p", "https://a.test/1")


async def test_thread_round_trip_with_asides_and_aliases(db: Database) -> None:
    repo = ThreadRepo(db)
    posts = (_post("p1", None), _post("p2", "p1"), _post("p3", "p2"))
    aside = Aside("p2", (_post("b1", "p2"), _post("b2", "b1")))
    thread = Thread("bluesky", "https://x.test/p1", "p1", ALICE, posts, (aside,), fetched_at=100.0)
    await repo.save(thread, {"https://bsky.app/profile/alice.test/post/p3": "p3"})
    loaded = await repo.find_by_url("https://bsky.app/profile/alice.test/post/p3")
    assert loaded is not None
    assert [p.id for p in loaded.posts] == ["p1", "p2", "p3"]
    assert [(a.after, [p.id for p in a.posts]) for a in loaded.asides] == [("p2", ["b1", "b2"])]
    assert loaded.fetched_at == 100.0
    # Any post's own link finds the whole thread too.
    again = await repo.find_by_url("https://x.test/b2")
    assert again is not None and again.root_id == "p1"


async def test_thread_that_grew_replaces_membership(db: Database) -> None:
    repo = ThreadRepo(db)
    t1 = Thread("bluesky", "u", "p1", ALICE, (_post("p1", None), _post("p2", "p1")))
    await repo.save(t1)
    t2 = Thread(
        "bluesky", "u", "p1", ALICE, (_post("p1", None), _post("p2", "p1"), _post("p3", "p2"))
    )
    await repo.save(t2)
    loaded = await repo.load("p1")
    assert loaded is not None and [p.id for p in loaded.posts] == ["p1", "p2", "p3"]


async def test_threads_past_their_days_are_dropped_with_the_posts_no_kept_thread_holds(
    db: Database,
) -> None:
    repo = ThreadRepo(db)
    kept_posts = (_post("n1", None), _post("shared", "n1"))
    kept = Thread("bluesky", "https://x.test/n1", "n1", ALICE, kept_posts, fetched_at=900.0)
    old = Thread(
        "bluesky",
        "https://x.test/o1",
        "o1",
        ALICE,
        (_post("o1", None), _post("o2", "o1"), _post("shared", "o2")),
        fetched_at=100.0,
    )
    await repo.save(kept)
    await repo.save(old)  # the shared post was last fetched with the old thread

    assert await repo.forget_before(500.0) == 1
    assert await repo.load("o1") is None and await repo.find_by_url("https://x.test/o2") is None
    assert await repo.get_post("o1") is None and await repo.get_post("o2") is None
    # A post a kept thread holds stays, however old its copy.
    loaded = await repo.load("n1")
    assert loaded is not None and [p.id for p in loaded.posts] == ["n1", "shared"]
    # Link spellings (ids only) stay, so links recorded by either spelling still match.
    assert await repo.post_id_for_url("https://x.test/o2") == "o2"
    assert await repo.forget_before(500.0) == 0


def test_migrations_from_every_package_form_one_numbered_sequence() -> None:
    # The core's and each feature's migrations share one global numbering with no gaps, so
    # a database's version means the same tables whichever release or layout wrote it.
    steps = all_migrations()
    assert [v for v, _, _ in steps] == list(range(1, len(steps) + 1))
    assert steps[0][1] == "0001_core.sql"


async def test_question_marks_in_quoted_text_or_comments_are_not_placeholders(
    db: Database,
) -> None:
    row = await db.fetchone(
        "SELECT CAST(? AS TEXT) AS given, -- which one?\n"
        "'why?' AS quoted, CAST(? AS INTEGER) AS other",
        ("a", 2),
    )
    assert row is not None and (row["given"], row["quoted"], row["other"]) == ("a", "why?", 2)


async def test_processes_starting_together_apply_each_migration_once(engine: Engine) -> None:
    import asyncio

    first, second = await asyncio.gather(engine.open(), engine.open())
    try:
        rows = await first.fetchall("SELECT version FROM schema_version ORDER BY version")
        assert [r[0] for r in rows] == [v for v, _, _ in all_migrations(engine.dialect)]
        assert await second.schema_version() == await first.schema_version()
    finally:
        await first.close()
        await second.close()


async def test_many_processes_opening_a_new_sqlite_file_at_once_all_start(tmp_path: Path) -> None:
    """Bots started together on a new file: one switches it to WAL while SQLite tells the
    others "database is locked" at once; each must start all the same."""
    import asyncio

    for round_ in range(30):
        path = str(tmp_path / f"new-{round_}.sqlite3")
        opened = await asyncio.gather(
            *(SqliteDatabase.open(path, all_migrations("sqlite")) for _ in range(3))
        )
        try:
            versions = {await db.schema_version() for db in opened}
            assert versions == {all_migrations("sqlite")[-1][0]}
        finally:
            for db in opened:
                await db.close()


async def test_a_database_from_before_the_model_was_withdrawn_loses_its_dismissals_table(
    engine: Engine,
) -> None:
    steps = all_migrations(engine.dialect)
    upto_10 = [m for m in steps if m[0] <= 10]
    db = await open_database(engine.target, upto_10, password=engine.password)
    await db.execute(
        "INSERT INTO suggestion_dismissals VALUES (?, ?, ?, ?, ?)",
        ("at://t", "suicide", "https://bsky.app/t", "mod", 1.0),
    )
    await db.close()
    db = await engine.open()  # every migration: the withdrawn feature's table goes
    try:
        assert await db.schema_version() == steps[-1][0]
        assert not await _has_table(db, "suggestion_dismissals")
        assert await _has_table(db, "thread_warnings")  # content notes' own tables stay
    finally:
        await db.close()
