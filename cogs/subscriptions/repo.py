"""Subscriptions storage: followed authors and their poll state, the threads the polls
found, subscriptions per room and what each did with each thread. Explicit SQL, one
transaction per method."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from cogs.subscriptions.model import (
    AuthorThread,
    Filters,
    Subscription,
    SubThread,
    WatchedAuthor,
)
from storage.db import Connection, Database, Row


@dataclass(frozen=True)
class ObservedThread:
    """One thread's posts as a poll saw them, ready to record."""

    root_id: str
    url: str
    root_created_at: str
    activity_at: float  # newest post's activity time
    post_ids: tuple[str, ...]
    kind: str = "thread"


def _author(row: Row) -> WatchedAuthor:
    return WatchedAuthor(
        id=int(row["id"]),
        source=str(row["source"]),
        author_id=str(row["author_id"]),
        handle=str(row["handle"]),
        name=str(row["name"]),
        url=str(row["url"]),
        host=str(row["host"]),
        state=row["state"],
        reason=row["reason"],
        interval_s=float(row["interval_s"]),
        next_poll_at=float(row["next_poll_at"]),
        failures=int(row["failures"]),
        last_error=row["last_error"],
        last_error_at=row["last_error_at"],
        last_poll_at=row["last_poll_at"],
        last_activity_at=row["last_activity_at"],
    )


def _subscription(row: Row) -> Subscription:
    return Subscription(
        id=int(row["id"]),
        author=int(row["author"]),
        adapter=str(row["adapter"]),
        scope=str(row["scope"]),
        channel=str(row["channel"]),
        filters=Filters(
            int(row["min_posts"]),
            tuple(json.loads(row["include_words"])),
            tuple(json.loads(row["exclude_words"])),
        ),
        backfill=int(row["backfill"]),
        primed=bool(row["primed"]),
        created_by=str(row["created_by"]),
        created_at=float(row["created_at"]),
        last_thread_url=row["last_thread_url"],
        last_delivered_at=row["last_delivered_at"],
        last_error=row["last_error"],
    )


def _thread(row: Row) -> AuthorThread:
    return AuthorThread(
        author=int(row["author"]),
        root_id=str(row["root_id"]),
        url=str(row["url"]),
        root_created_at=str(row["root_created_at"]),
        first_seen_at=float(row["first_seen_at"]),
        activity_at=float(row["activity_at"]),
        post_count=int(row["post_count"]),
        version=int(row["version"]),
        kind=row["kind"],
    )


def _sub_thread(row: Row) -> SubThread:
    return SubThread(
        subscription=int(row["subscription"]),
        root_id=str(row["root_id"]),
        state=row["state"],
        reason=row["reason"],
        version=int(row["version"]),
        delivery_id=row["delivery_id"],
        planned_at=row["planned_at"],
        header_count=row["header_count"],
    )


class SubscriptionsRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    # ---- authors ------------------------------------------------------------------------

    async def ensure_author(
        self,
        *,
        source: str,
        author_id: str,
        handle: str,
        name: str,
        url: str,
        host: str,
        interval_s: float,
        now: float,
    ) -> WatchedAuthor:
        async with self.db.transaction() as conn:
            await conn.execute(
                "INSERT INTO sub_authors (source, author_id, handle, name, url, host,"
                " interval_s, next_poll_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (source, author_id) DO UPDATE SET handle = excluded.handle,"
                " name = excluded.name, url = excluded.url, host = excluded.host",
                (source, author_id, handle, name, url, host, interval_s, now),
            )
        found = await self.author_by_key(source, author_id)
        assert found is not None
        return found

    async def author(self, author: int) -> WatchedAuthor | None:
        row = await self.db.fetchone("SELECT * FROM sub_authors WHERE id = ?", (author,))
        return _author(row) if row else None

    async def author_by_key(self, source: str, author_id: str) -> WatchedAuthor | None:
        row = await self.db.fetchone(
            "SELECT * FROM sub_authors WHERE source = ? AND author_id = ?", (source, author_id)
        )
        return _author(row) if row else None

    async def authors(self, ids: Iterable[int]) -> dict[int, WatchedAuthor]:
        wanted = list(ids)
        out: dict[int, WatchedAuthor] = {}
        for i in range(0, len(wanted), 500):
            part = wanted[i : i + 500]
            marks = ",".join("?" * len(part))
            for row in await self.db.fetchall(
                f"SELECT * FROM sub_authors WHERE id IN ({marks})", part
            ):
                out[int(row["id"])] = _author(row)
        return out

    async def followed_author_ids(self) -> list[int]:
        rows = await self.db.fetchall(
            "SELECT DISTINCT author FROM subscriptions s JOIN sub_authors a ON a.id = s.author"
            " WHERE a.state = 'active'"
        )
        return [int(r[0]) for r in rows]

    async def due_authors(self, now: float, limit: int = 1000) -> list[WatchedAuthor]:
        """Authors to poll now: not paused, followed somewhere, due; earliest first."""
        rows = await self.db.fetchall(
            "SELECT a.* FROM sub_authors a WHERE a.state != 'paused' AND a.next_poll_at <= ?"
            " AND EXISTS (SELECT 1 FROM subscriptions s WHERE s.author = a.id)"
            " ORDER BY a.next_poll_at LIMIT ?",
            (now, limit),
        )
        return [_author(r) for r in rows]

    async def next_poll_at(self) -> float | None:
        row = await self.db.fetchone(
            "SELECT MIN(a.next_poll_at) FROM sub_authors a WHERE a.state != 'paused'"
            " AND EXISTS (SELECT 1 FROM subscriptions s WHERE s.author = a.id)"
        )
        return float(row[0]) if row and row[0] is not None else None

    async def save_poll_state(self, a: WatchedAuthor) -> None:
        await self.db.execute(
            "UPDATE sub_authors SET handle = ?, name = ?, url = ?, state = ?, reason = ?,"
            " interval_s = ?, next_poll_at = ?, failures = ?, last_error = ?, last_error_at = ?,"
            " last_poll_at = ?, last_activity_at = ? WHERE id = ?",
            (
                a.handle,
                a.name,
                a.url,
                a.state,
                a.reason,
                a.interval_s,
                a.next_poll_at,
                a.failures,
                a.last_error,
                a.last_error_at,
                a.last_poll_at,
                a.last_activity_at,
                a.id,
            ),
        )

    async def drop_author_if_unused(self, author: int) -> bool:
        async with self.db.transaction() as conn:
            removed = await conn.execute(
                "DELETE FROM sub_authors WHERE id = ?"
                " AND NOT EXISTS (SELECT 1 FROM subscriptions WHERE author = ?)",
                (author, author),
            )
            return bool(removed)

    # ---- threads the polls found --------------------------------------------------------

    async def known_posts(self, author: int) -> dict[str, str]:
        """post id -> thread root, for every post of the author seen so far."""
        rows = await self.db.fetchall(
            "SELECT post_id, root_id FROM sub_posts WHERE author = ?", (author,)
        )
        return {str(r[0]): str(r[1]) for r in rows}

    async def threads(self, author: int) -> dict[str, AuthorThread]:
        rows = await self.db.fetchall("SELECT * FROM sub_threads WHERE author = ?", (author,))
        return {str(r["root_id"]): _thread(r) for r in rows}

    async def thread(self, author: int, root_id: str) -> AuthorThread | None:
        row = await self.db.fetchone(
            "SELECT * FROM sub_threads WHERE author = ? AND root_id = ?", (author, root_id)
        )
        return _thread(row) if row else None

    async def record(
        self, author: int, observed: Sequence[ObservedThread], now: float
    ) -> list[str]:
        """Record what a poll saw. New threads are added, threads with posts not seen before
        get a new version and the later activity time. Returns the roots that changed."""
        changed: list[str] = []
        async with self.db.transaction() as conn:
            for ob in observed:
                row = await conn.fetchone(
                    "SELECT post_count, activity_at, version FROM sub_threads"
                    " WHERE author = ? AND root_id = ?",
                    (author, ob.root_id),
                )
                before = await _count_posts(conn, author, ob.root_id)
                await conn.executemany(
                    "INSERT INTO sub_posts (author, post_id, root_id) VALUES (?, ?, ?)"
                    " ON CONFLICT (author, post_id) DO UPDATE SET root_id = excluded.root_id",
                    [(author, pid, ob.root_id) for pid in ob.post_ids],
                )
                after = await _count_posts(conn, author, ob.root_id)
                if row is None:
                    await conn.execute(
                        "INSERT INTO sub_threads (author, root_id, url, root_created_at,"
                        " first_seen_at, activity_at, post_count, kind)"
                        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        (
                            author,
                            ob.root_id,
                            ob.url,
                            ob.root_created_at,
                            now,
                            ob.activity_at,
                            after,
                            ob.kind,
                        ),
                    )
                    changed.append(ob.root_id)
                elif after > before or ob.activity_at > float(row["activity_at"]):
                    await conn.execute(
                        "UPDATE sub_threads SET post_count = ?,"
                        " activity_at = CASE WHEN activity_at > ? THEN activity_at ELSE ? END,"
                        " version = version + 1,"
                        " url = ?, kind = ? WHERE author = ? AND root_id = ?",
                        (
                            after,
                            ob.activity_at,
                            ob.activity_at,
                            ob.url,
                            ob.kind,
                            author,
                            ob.root_id,
                        ),
                    )
                    changed.append(ob.root_id)
        return changed

    async def merge_thread(
        self, author: int, old_root: str, new: ObservedThread, now: float
    ) -> None:
        """A group keyed by its earliest seen post turned out to belong to ``new.root_id``
        (learned from a full fetch): move its posts there and drop the old key."""
        async with self.db.transaction() as conn:
            await conn.execute(
                "UPDATE sub_posts SET root_id = ? WHERE author = ? AND root_id = ?",
                (new.root_id, author, old_root),
            )
            row = await conn.fetchone(
                "SELECT first_seen_at FROM sub_threads WHERE author = ? AND root_id = ?",
                (author, old_root),
            )
            first_seen = float(row[0]) if row else now
            await conn.execute(
                "DELETE FROM sub_threads WHERE author = ? AND root_id = ?", (author, old_root)
            )
            # Subscriptions keep what they did, under the real root.
            await conn.execute(
                "UPDATE subscription_threads SET root_id = ? WHERE root_id = ?"
                " AND subscription IN (SELECT id FROM subscriptions WHERE author = ?)"
                " AND NOT EXISTS (SELECT 1 FROM subscription_threads t WHERE"
                " t.subscription = subscription_threads.subscription AND t.root_id = ?)",
                (new.root_id, old_root, author, new.root_id),
            )
            await conn.execute(
                "DELETE FROM subscription_threads WHERE root_id = ?"
                " AND subscription IN (SELECT id FROM subscriptions WHERE author = ?)",
                (old_root, author),
            )
            await conn.executemany(
                "INSERT INTO sub_posts (author, post_id, root_id) VALUES (?, ?, ?)"
                " ON CONFLICT (author, post_id) DO UPDATE SET root_id = excluded.root_id",
                [(author, pid, new.root_id) for pid in new.post_ids],
            )
            count = await _count_posts(conn, author, new.root_id)
            await conn.execute(
                "INSERT INTO sub_threads (author, root_id, url, root_created_at, first_seen_at,"
                " activity_at, post_count, kind) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (author, root_id) DO UPDATE SET url = excluded.url,"
                " root_created_at = excluded.root_created_at,"
                " first_seen_at = CASE WHEN sub_threads.first_seen_at < excluded.first_seen_at"
                " THEN sub_threads.first_seen_at ELSE excluded.first_seen_at END,"
                " activity_at = CASE WHEN sub_threads.activity_at > excluded.activity_at"
                " THEN sub_threads.activity_at ELSE excluded.activity_at END,"
                " post_count = excluded.post_count, version = sub_threads.version + 1,"
                " kind = excluded.kind",
                (
                    author,
                    new.root_id,
                    new.url,
                    new.root_created_at,
                    first_seen,
                    new.activity_at,
                    count,
                    new.kind,
                ),
            )

    async def set_thread_kind(self, author: int, root_id: str, kind: str) -> None:
        await self.db.execute(
            "UPDATE sub_threads SET kind = ? WHERE author = ? AND root_id = ?",
            (kind, author, root_id),
        )

    async def prune_threads(self, author: int, keep: int) -> int:
        """Forget all but the newest ``keep`` threads of an author (the table stays small
        however long the author posts); subscriptions forget them too."""
        async with self.db.transaction() as conn:
            newest_first = await conn.fetchall(
                "SELECT root_id FROM sub_threads WHERE author = ? ORDER BY activity_at DESC",
                (author,),
            )
            old = [str(r[0]) for r in newest_first[keep:]]
            for root in old:
                # Kept while a delivery of it is unfinished.
                if await conn.fetchone(
                    "SELECT 1 FROM subscription_threads st JOIN subscriptions s"
                    " ON s.id = st.subscription WHERE s.author = ? AND st.root_id = ?"
                    " AND st.state = 'delivering'",
                    (author, root),
                ):
                    continue
                await conn.execute(
                    "DELETE FROM sub_threads WHERE author = ? AND root_id = ?", (author, root)
                )
                await conn.execute(
                    "DELETE FROM sub_posts WHERE author = ? AND root_id = ?", (author, root)
                )
                await conn.execute(
                    "DELETE FROM subscription_threads WHERE root_id = ? AND subscription IN"
                    " (SELECT id FROM subscriptions WHERE author = ?)",
                    (root, author),
                )
        return len(old)

    # ---- subscriptions ------------------------------------------------------------------

    async def add_subscription(
        self,
        *,
        author: int,
        adapter: str,
        scope: str,
        channel: str,
        filters: Filters,
        backfill: int,
        created_by: str,
        now: float,
    ) -> Subscription | None:
        """None when the room already follows the author."""
        async with self.db.transaction() as conn:
            sub_id = await conn.fetchval(
                "INSERT INTO subscriptions (author, adapter, scope, channel, min_posts,"
                " include_words, exclude_words, backfill, created_by, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING id",
                (
                    author,
                    adapter,
                    scope,
                    channel,
                    filters.min_posts,
                    json.dumps(list(filters.include)),
                    json.dumps(list(filters.exclude)),
                    backfill,
                    created_by,
                    now,
                ),
            )
        if sub_id is None:
            return None
        return await self.subscription(int(sub_id))

    async def subscription(self, sub_id: int) -> Subscription | None:
        row = await self.db.fetchone("SELECT * FROM subscriptions WHERE id = ?", (sub_id,))
        return _subscription(row) if row else None

    async def subscriptions_of(self, author: int) -> list[Subscription]:
        rows = await self.db.fetchall(
            "SELECT * FROM subscriptions WHERE author = ? ORDER BY id", (author,)
        )
        return [_subscription(r) for r in rows]

    async def subscriptions_in(
        self, adapter: str, scope: str, channel: str | None = None
    ) -> list[Subscription]:
        rows = await self.db.fetchall(
            "SELECT * FROM subscriptions WHERE adapter = ? AND scope = ?"
            " AND (CAST(? AS TEXT) IS NULL OR channel = ?) ORDER BY channel, id",
            (adapter, scope, channel, channel),
        )
        return [_subscription(r) for r in rows]

    async def all_subscriptions(self) -> list[Subscription]:
        rows = await self.db.fetchall("SELECT * FROM subscriptions ORDER BY adapter, channel, id")
        return [_subscription(r) for r in rows]

    async def delete_subscription(self, sub_id: int) -> None:
        await self.db.execute("DELETE FROM subscriptions WHERE id = ?", (sub_id,))

    async def set_primed(self, sub_ids: Sequence[int], primed: bool) -> None:
        if not sub_ids:
            return
        marks = ",".join("?" * len(sub_ids))
        await self.db.execute(
            f"UPDATE subscriptions SET primed = ? WHERE id IN ({marks})",
            (primed, *sub_ids),
        )

    async def prime(self, sub_id: int, old: Sequence[tuple[str, int]], now: float) -> None:
        """Record the threads that existed when the subscription started (never posted)."""
        async with self.db.transaction() as conn:
            await conn.executemany(
                "INSERT INTO subscription_threads (subscription, root_id, state, version,"
                " updated_at) VALUES (?, ?, 'old', ?, ?)"
                " ON CONFLICT (subscription, root_id) DO NOTHING",
                [(sub_id, root, version, now) for root, version in old],
            )
            await conn.execute(
                "UPDATE subscriptions SET primed = TRUE, backfill = 0 WHERE id = ?", (sub_id,)
            )

    async def set_result(
        self,
        sub_id: int,
        *,
        last_thread_url: str | None = None,
        last_delivered_at: float | None = None,
        error: str | None = None,
    ) -> None:
        if last_thread_url is not None:
            await self.db.execute(
                "UPDATE subscriptions SET last_thread_url = ?, last_delivered_at = ?,"
                " last_error = NULL WHERE id = ?",
                (last_thread_url, last_delivered_at, sub_id),
            )
        else:
            await self.db.execute(
                "UPDATE subscriptions SET last_error = ? WHERE id = ?", (error, sub_id)
            )

    # ---- what each subscription did with each thread -------------------------------------

    async def sub_threads(self, sub_ids: Sequence[int]) -> dict[tuple[int, str], SubThread]:
        out: dict[tuple[int, str], SubThread] = {}
        for i in range(0, len(sub_ids), 500):
            part = list(sub_ids[i : i + 500])
            marks = ",".join("?" * len(part))
            rows = await self.db.fetchall(
                f"SELECT * FROM subscription_threads WHERE subscription IN ({marks})", part
            )
            for r in rows:
                st = _sub_thread(r)
                out[(st.subscription, st.root_id)] = st
        return out

    async def sub_thread(self, sub_id: int, root_id: str) -> SubThread | None:
        row = await self.db.fetchone(
            "SELECT * FROM subscription_threads WHERE subscription = ? AND root_id = ?",
            (sub_id, root_id),
        )
        return _sub_thread(row) if row else None

    async def set_sub_thread(self, st: SubThread, now: float) -> None:
        await self.db.execute(
            "INSERT INTO subscription_threads (subscription, root_id, state, reason, version,"
            " delivery_id, planned_at, header_count, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (subscription, root_id) DO UPDATE SET state = excluded.state,"
            " reason = excluded.reason, version = excluded.version,"
            " delivery_id = excluded.delivery_id, planned_at = excluded.planned_at,"
            " header_count = excluded.header_count, updated_at = excluded.updated_at",
            (
                st.subscription,
                st.root_id,
                st.state,
                st.reason,
                st.version,
                st.delivery_id,
                st.planned_at,
                st.header_count,
                now,
            ),
        )

    async def unfinished(self) -> list[SubThread]:
        """Deliveries this feature started and did not see finish (resume after a crash)."""
        rows = await self.db.fetchall(
            "SELECT * FROM subscription_threads WHERE state = 'delivering' ORDER BY planned_at"
        )
        return [_sub_thread(r) for r in rows]

    async def delivered_ids(self) -> set[int]:
        rows = await self.db.fetchall(
            "SELECT delivery_id FROM subscription_threads WHERE delivery_id IS NOT NULL"
        )
        return {int(r[0]) for r in rows}

    async def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for table in ("sub_authors", "subscriptions", "sub_threads", "sub_posts"):
            row = await self.db.fetchone(f"SELECT COUNT(*) FROM {table}")
            out[table] = int(row[0]) if row else 0
        return out


async def _count_posts(conn: Connection, author: int, root: str) -> int:
    count = await conn.fetchval(
        "SELECT COUNT(*) FROM sub_posts WHERE author = ? AND root_id = ?", (author, root)
    )
    return int(count or 0)
