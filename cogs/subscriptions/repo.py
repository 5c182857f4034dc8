"""Subscriptions storage: followed authors and their poll state, the threads the polls
found, subscriptions per room and what each did with each thread. Explicit SQL, one
transaction per method."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from cogs.subscriptions.author_lease import AuthorLease, LeaseLost
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

    async def next_poll_at(self) -> float | None:
        row = await self.db.fetchone(
            "SELECT MIN(a.next_poll_at) FROM sub_authors a WHERE a.state != 'paused'"
            " AND EXISTS (SELECT 1 FROM subscriptions s WHERE s.author = a.id)"
        )
        return float(row[0]) if row and row[0] is not None else None

    # ---- leases (several processes on one database) ------------------------------------

    async def claim_due(
        self, owner: str, now: float, lease_s: float, limit: int
    ) -> list[WatchedAuthor]:
        """Take the authors due now (not paused, followed somewhere; earliest first) whose
        lease is free or expired:
        each gets ``owner``'s lease until ``now + lease_s``, and its next poll moves on by
        its interval, so a claimant that stalls past its lease does not make the author due
        again for another process before the interval has passed."""
        # PostgreSQL: rows another process is claiming right now are skipped, not waited
        # for; SQLite serialises writers (BEGIN IMMEDIATE), so no row lock is needed.
        lock = " FOR UPDATE SKIP LOCKED" if self.db.dialect == "postgresql" else ""
        free = "next_poll_at <= ? AND (lease_until IS NULL OR lease_until < ?)"
        async with self.db.transaction() as conn:
            rows = await conn.fetchall(
                "UPDATE sub_authors SET lease_owner = ?, lease_until = ?,"
                " next_poll_at = ? + interval_s"
                f" WHERE {free} AND id IN (SELECT a.id FROM sub_authors a"
                " WHERE a.state != 'paused' AND a.next_poll_at <= ?"
                " AND (a.lease_until IS NULL OR a.lease_until < ?)"
                " AND EXISTS (SELECT 1 FROM subscriptions s WHERE s.author = a.id)"
                f" ORDER BY a.next_poll_at LIMIT ?{lock}) RETURNING *",
                (owner, now + lease_s, now, now, now, now, now, limit),
            )
        return sorted((_author(r) for r in rows), key=lambda a: (a.next_poll_at, a.id))

    async def claim_author(self, author: int, owner: str, now: float, lease_s: float) -> bool:
        """Take one author's lease (to work on it outside a poll) if it is free or expired."""
        async with self.db.transaction() as conn:
            return bool(
                await conn.execute(
                    "UPDATE sub_authors SET lease_owner = ?, lease_until = ? WHERE id = ?"
                    " AND (lease_until IS NULL OR lease_until < ?)",
                    (owner, now + lease_s, author, now),
                )
            )

    async def renew(self, lease: AuthorLease) -> bool:
        """Extend a lease that is still ours; False when it ran out or was taken over."""
        async with self.db.transaction() as conn:
            try:
                until = await _fence(conn, lease)
            except LeaseLost:
                return False
        # Committed: the lease now ends where its row does.
        if until is not None:
            lease.until = until
        return True

    async def release(self, author: int, owner: str) -> None:
        async with self.db.transaction() as conn:
            await conn.execute(
                "UPDATE sub_authors SET lease_owner = NULL, lease_until = NULL"
                " WHERE id = ? AND lease_owner = ?",
                (author, owner),
            )

    async def free_leases(self, keep_owner: str, now: float) -> int:
        """Free every lease not ``keep_owner``'s, the authors due now: for a database only
        one process uses (SQLite), whose earlier run was killed with its leases held."""
        async with self.db.transaction() as conn:
            return await conn.execute(
                "UPDATE sub_authors SET lease_owner = NULL, lease_until = NULL,"
                " next_poll_at = CASE WHEN next_poll_at > ? THEN ? ELSE next_poll_at END"
                " WHERE lease_owner IS NOT NULL AND lease_owner != ?",
                (now, now, keep_owner),
            )

    async def lease_of(self, author: int) -> tuple[str | None, float | None]:
        row = await self.db.fetchone(
            "SELECT lease_owner, lease_until FROM sub_authors WHERE id = ?", (author,)
        )
        if row is None:
            return None, None
        until = row["lease_until"]
        return row["lease_owner"], float(until) if until is not None else None

    async def save_poll_state(
        self, a: WatchedAuthor, *, fence: AuthorLease | None = None, release: bool = False
    ) -> None:
        """The author's poll state; with ``release``, the lease ``fence`` is given back in
        the same transaction."""
        async with self.db.transaction() as conn:
            await _fence(conn, fence)
            await self._save_poll_state(conn, a)
            await _release(conn, fence if release else None)
        if fence is not None and release:
            fence.released = True

    @staticmethod
    async def _save_poll_state(conn: Connection, a: WatchedAuthor) -> None:
        await conn.execute(
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
        self,
        author: int,
        observed: Sequence[ObservedThread],
        now: float,
        *,
        fence: AuthorLease | None = None,
    ) -> list[str]:
        """Record what a poll saw. New threads are added, threads with posts not seen before
        get a new version and the later activity time. Returns the roots that changed."""
        async with self.db.transaction() as conn:
            await _fence(conn, fence)
            return await _record(conn, author, observed, now)

    async def save_poll(
        self,
        author: int,
        observed: Sequence[ObservedThread],
        now: float,
        finish: Callable[[list[str]], WatchedAuthor],
        *,
        fence: AuthorLease | None = None,
        release: bool = False,
    ) -> tuple[list[str], WatchedAuthor]:
        """Record what a poll saw and the author's new poll state (``finish`` makes it from
        the roots that changed) in one transaction; with ``release``, the lease ``fence``
        is given back in it too."""
        async with self.db.transaction() as conn:
            await _fence(conn, fence)
            changed = await _record(conn, author, observed, now) if observed else []
            updated = finish(changed)
            await self._save_poll_state(conn, updated)
            await _release(conn, fence if release else None)
        if fence is not None and release:
            fence.released = True
        return changed, updated

    async def merge_thread(
        self,
        author: int,
        old_root: str,
        new: ObservedThread,
        now: float,
        *,
        fence: AuthorLease | None = None,
    ) -> None:
        """A group keyed by its earliest seen post turned out to belong to ``new.root_id``
        (learned from a full fetch): move its posts there and drop the old key."""
        async with self.db.transaction() as conn:
            await _fence(conn, fence)
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

    async def set_thread_kind(
        self, author: int, root_id: str, kind: str, *, fence: AuthorLease | None = None
    ) -> None:
        async with self.db.transaction() as conn:
            await _fence(conn, fence)
            await conn.execute(
                "UPDATE sub_threads SET kind = ? WHERE author = ? AND root_id = ?",
                (kind, author, root_id),
            )

    async def prune_threads(
        self, author: int, keep: int, *, fence: AuthorLease | None = None
    ) -> int:
        """Forget all but the newest ``keep`` threads of an author (the table stays small
        however long the author posts); subscriptions forget them too."""
        async with self.db.transaction() as conn:
            await _fence(conn, fence)
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

    async def set_primed(
        self, sub_ids: Sequence[int], primed: bool, *, fence: AuthorLease | None = None
    ) -> None:
        if not sub_ids:
            return
        marks = ",".join("?" * len(sub_ids))
        async with self.db.transaction() as conn:
            await _fence(conn, fence)
            await conn.execute(
                f"UPDATE subscriptions SET primed = ? WHERE id IN ({marks})",
                (primed, *sub_ids),
            )

    async def prime(
        self,
        sub_id: int,
        old: Sequence[tuple[str, int]],
        now: float,
        *,
        fence: AuthorLease | None = None,
    ) -> None:
        """Record the threads that existed when the subscription started (never posted)."""
        async with self.db.transaction() as conn:
            await _fence(conn, fence)
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
        fence: AuthorLease | None = None,
    ) -> None:
        async with self.db.transaction() as conn:
            await _fence(conn, fence)
            if last_thread_url is not None:
                await conn.execute(
                    "UPDATE subscriptions SET last_thread_url = ?, last_delivered_at = ?,"
                    " last_error = NULL WHERE id = ?",
                    (last_thread_url, last_delivered_at, sub_id),
                )
            else:
                await conn.execute(
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

    async def set_sub_thread(
        self, st: SubThread, now: float, *, fence: AuthorLease | None = None
    ) -> None:
        async with self.db.transaction() as conn:
            await _fence(conn, fence)
            await conn.execute(
                "INSERT INTO subscription_threads (subscription, root_id, state, reason,"
                " version, delivery_id, planned_at, header_count, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
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


async def _fence(conn: Connection, lease: AuthorLease | None) -> float | None:
    """Go on only while ``lease`` is still ours and unexpired, and extend it; inside the
    write's own transaction, so a stale claimant's write changes nothing. The UPDATE also
    locks the author's row until the transaction ends: nobody takes the lease over while
    the write runs. Returns when the lease ends once the transaction commits."""
    if lease is None:
        return None
    lease.ensure_held()
    now, until = lease.window()
    kept = await conn.execute(
        "UPDATE sub_authors SET lease_until = ? WHERE id = ? AND lease_owner = ?"
        " AND lease_until >= ?",
        (until, lease.author, lease.owner, now),
    )
    if not kept:
        lease.lost = True
        raise LeaseLost(f"the lease on author {lease.author} ran out or was taken over")
    return until


async def _release(conn: Connection, lease: AuthorLease | None) -> None:
    if lease is not None:
        await conn.execute(
            "UPDATE sub_authors SET lease_owner = NULL, lease_until = NULL"
            " WHERE id = ? AND lease_owner = ?",
            (lease.author, lease.owner),
        )


async def _record(
    conn: Connection, author: int, observed: Sequence[ObservedThread], now: float
) -> list[str]:
    changed: list[str] = []
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


async def _count_posts(conn: Connection, author: int, root: str) -> int:
    count = await conn.fetchval(
        "SELECT COUNT(*) FROM sub_posts WHERE author = ? AND root_id = ?", (author, root)
    )
    return int(count or 0)
