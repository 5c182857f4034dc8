"""The outbox of posted threads: planned before sending, marked as each message goes.

Each planned message lists the items it holds (post ids, or ``~N`` for a notice that has
none): one in the per-post layout, several in the packed one. A message that was sent and
then planned to hold more (a post appended to the last packed message) has message ids but
is not marked sent: it is edited, not sent again, when the delivery resumes.

Several bot processes share one outbox: one sender per delivery at a time, by a lease (its
owner, until when, and a fence number that grows at every takeover). Whatever records
progress (a message sent, the chat thread, more messages planned, the end) is fenced: it
changes nothing unless the caller's lease is still the current one and unexpired, and raises
``LeaseLost``, so a sender that was paused past its lease cannot overwrite the progress of the
process that took over. Times are the callers' clocks (seconds since the epoch)."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from storage.db import Connection, Database
from storage.leases import process_owner

# (role, item keys) of one planned message.
PlanItem = tuple[str, Sequence[str]]


@dataclass(frozen=True)
class PlannedMessage:
    position: int
    role: str  # header, post, notice
    post_id: str | None  # the first post it holds
    message_ids: tuple[str, ...] = ()
    sent: bool = False
    post_ids: tuple[str, ...] = ()  # every item it holds, in order

    @property
    def needs_edit(self) -> bool:
        """Sent once, then planned to hold more: edit it in place."""
        return not self.sent and bool(self.message_ids)


@dataclass(frozen=True)
class DeliveryRecord:
    id: int
    adapter: str
    scope: str
    channel: str
    thread_root: str
    thread_url: str
    header_message: str | None
    chat_thread: str | None
    state: str
    origin: str
    created_at: float
    messages: tuple[PlannedMessage, ...] = ()
    layout: str = "per-post"
    # Who sends it now (None: nobody), until when, and how many times it was claimed.
    lease_owner: str | None = None
    lease_until: float | None = None
    fence: int = 0

    @property
    def planned_keys(self) -> set[str]:
        return {k for m in self.messages for k in m.post_ids}


@dataclass
class Lease:
    """One sender's hold on a delivery: valid while ``fence`` is the delivery's current one
    and ``until`` has not passed; each fenced write extends it by ``lease_s``."""

    delivery_id: int
    owner: str
    fence: int
    until: float
    lease_s: float


class LeaseLost(Exception):
    """The lease on a delivery ended (it expired, or another process took the delivery
    over): the holder must stop at once; the delivery's current owner finishes it."""

    def __init__(self, lease: Lease) -> None:
        super().__init__(
            f"delivery {lease.delivery_id}: the lease (fence {lease.fence}) is no longer held"
        )
        self.lease = lease


_FENCE = "id = ? AND lease_owner = ? AND fence = ? AND lease_until > ?"


def _fence(lease: Lease, now: float) -> tuple[object, ...]:
    return (lease.delivery_id, lease.owner, lease.fence, now)


async def _hold(conn: Connection, lease: Lease, now: float) -> None:
    """Check the lease inside a write transaction and extend it: the row stays locked until
    the transaction ends, so a takeover waits for this write and then sees it."""
    until = now + lease.lease_s
    changed = await conn.execute(
        f"UPDATE deliveries SET lease_until = ?, updated_at = ? WHERE {_FENCE}",
        (until, now, *_fence(lease, now)),
    )
    if not changed:
        raise LeaseLost(lease)
    lease.until = until


class DeliveryRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def plan(
        self,
        *,
        adapter: str,
        scope: str,
        channel: str,
        thread_root: str,
        thread_url: str,
        messages: Sequence[PlanItem],
        origin: str = "command",
        now: float | None = None,
        layout: str = "per-post",
        owner: str | None = None,
        lease_s: float = 60.0,
    ) -> Lease:
        """Record a delivery and its messages (role, item keys) before anything is sent,
        leased to its planner (``owner``, this process by default) with fence 1."""
        now = time.time() if now is None else now
        owner = owner or process_owner()
        async with self.db.transaction() as conn:
            delivery_id = int(
                await conn.fetchval(
                    "INSERT INTO deliveries (adapter, scope, channel, thread_root, thread_url,"
                    " origin, created_at, updated_at, layout, lease_owner, lease_until, fence)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1) RETURNING id",
                    (
                        adapter,
                        scope,
                        channel,
                        thread_root,
                        thread_url,
                        origin,
                        now,
                        now,
                        layout,
                        owner,
                        now + lease_s,
                    ),
                )
            )
            await conn.executemany(
                "INSERT INTO delivery_messages (delivery_id, position, role, post_id, post_ids)"
                " VALUES (?, ?, ?, ?, ?)",
                [_row(delivery_id, i, item) for i, item in enumerate(messages)],
            )
        return Lease(delivery_id, owner, 1, now + lease_s, lease_s)

    async def claim(self, delivery_id: int, owner: str, now: float, lease_s: float) -> Lease | None:
        """Take a delivery whose lease is free or expired, with the next fence; None while
        another sender holds it (or the delivery is gone)."""
        async with self.db.transaction() as conn:
            fence = await conn.fetchval(
                "UPDATE deliveries SET lease_owner = ?, lease_until = ?, fence = fence + 1"
                " WHERE id = ? AND (lease_owner IS NULL OR lease_until IS NULL"
                " OR lease_until <= ?) RETURNING fence",
                (owner, now + lease_s, delivery_id, now),
            )
        if fence is None:
            return None
        return Lease(delivery_id, owner, int(fence), now + lease_s, lease_s)

    async def renew(self, lease: Lease, now: float | None = None) -> None:
        """Extend a lease still held; ``LeaseLost`` when it is not."""
        async with self.db.transaction() as conn:
            await _hold(conn, lease, time.time() if now is None else now)

    async def release(self, lease: Lease) -> None:
        """Let go of a lease (a sender stopping at an error): the delivery is free for the
        next claim at once. Nothing happens when the lease was already taken over."""
        await self.db.execute(
            "UPDATE deliveries SET lease_owner = NULL, lease_until = NULL"
            " WHERE id = ? AND lease_owner = ? AND fence = ?",
            (lease.delivery_id, lease.owner, lease.fence),
        )

    async def free_leases(self) -> int:
        """Free every lease: for a process starting on SQLite, which serves one bot process,
        so any lease left is a dead predecessor's and its deliveries resume at once. (A
        sender that was somehow still live loses its lease and stops; nothing doubles.)"""
        return await self.db.execute(
            "UPDATE deliveries SET lease_owner = NULL, lease_until = NULL"
            " WHERE lease_owner IS NOT NULL"
        )

    async def claimable(self, adapter: str, now: float) -> list[DeliveryRecord]:
        """The pending deliveries of an adapter that no live sender holds: to be finished by
        whichever process claims each first."""
        return await self._records(
            "SELECT id FROM deliveries WHERE adapter = ? AND state = 'pending'"
            " AND (lease_owner IS NULL OR lease_until IS NULL OR lease_until <= ?) ORDER BY id",
            (adapter, now),
        )

    async def append(
        self,
        lease: Lease,
        messages: Sequence[PlanItem],
        *,
        grow: tuple[int, Sequence[str]] | None = None,
        now: float | None = None,
    ) -> list[int]:
        """Plan more messages at the end of a delivery (posts added to a thread later).
        ``grow`` (position, keys): a sent message that now holds more, to be edited; it is
        recorded in the same transaction, so a crash leaves nothing half planned."""
        now = time.time() if now is None else now
        async with self.db.transaction() as conn:
            await _hold(conn, lease, now)
            if grow is not None:
                await conn.execute(
                    "UPDATE delivery_messages SET post_ids = ?, sent = FALSE"
                    " WHERE delivery_id = ? AND position = ?",
                    (json.dumps(list(grow[1])), lease.delivery_id, grow[0]),
                )
            return await _append(conn, lease.delivery_id, messages)

    async def regroup(
        self,
        lease: Lease,
        held: Mapping[int, Sequence[str]],
        extra: Sequence[Sequence[str]],
        now: float | None = None,
    ) -> list[int]:
        """Packed messages that outgrew their room after an edit: the sent messages hold
        ``held`` now (to be edited) and ``extra`` follows in new messages; recorded in one
        transaction before anything is edited or sent."""
        now = time.time() if now is None else now
        async with self.db.transaction() as conn:
            await _hold(conn, lease, now)
            for position, keys in held.items():
                await conn.execute(
                    "UPDATE delivery_messages SET post_ids = ?, post_id = ?, sent = FALSE"
                    " WHERE delivery_id = ? AND position = ?",
                    (json.dumps(list(keys)), _first_post(keys), lease.delivery_id, position),
                )
            return await _append(conn, lease.delivery_id, [("post", keys) for keys in extra])

    async def mark_sent(
        self, lease: Lease, position: int, message_ids: list[str], now: float | None = None
    ) -> None:
        """Record a message as sent (its chat message ids), under the lease."""
        now = time.time() if now is None else now
        async with self.db.transaction() as conn:
            await _hold(conn, lease, now)
            await conn.execute(
                "UPDATE delivery_messages SET sent = TRUE, message_ids = ?"
                " WHERE delivery_id = ? AND position = ?",
                (json.dumps(message_ids), lease.delivery_id, position),
            )
            if position == 0:
                await conn.execute(
                    "UPDATE deliveries SET header_message = ? WHERE id = ?",
                    (message_ids[0] if message_ids else None, lease.delivery_id),
                )

    async def set_chat_thread(
        self, lease: Lease, chat_thread: str, now: float | None = None
    ) -> None:
        async with self.db.transaction() as conn:
            await _hold(conn, lease, time.time() if now is None else now)
            await conn.execute(
                "UPDATE deliveries SET chat_thread = ? WHERE id = ?",
                (chat_thread, lease.delivery_id),
            )

    async def finish(
        self,
        lease: Lease,
        state: str = "sent",
        error: str | None = None,
        now: float | None = None,
    ) -> None:
        """Record how a delivery ended and let go of its lease."""
        now = time.time() if now is None else now
        changed = await self.db.execute(
            "UPDATE deliveries SET state = ?, error = ?, updated_at = ?,"
            f" lease_owner = NULL, lease_until = NULL WHERE {_FENCE}",
            (state, error, now, *_fence(lease, now)),
        )
        if not changed:
            raise LeaseLost(lease)

    async def get(self, delivery_id: int) -> DeliveryRecord | None:
        row = await self.db.fetchone("SELECT * FROM deliveries WHERE id = ?", (delivery_id,))
        if row is None:
            return None
        msgs = await self.db.fetchall(
            "SELECT position, role, post_id, message_ids, sent, post_ids FROM delivery_messages"
            " WHERE delivery_id = ? ORDER BY position",
            (delivery_id,),
        )
        return DeliveryRecord(
            id=int(row["id"]),
            adapter=str(row["adapter"]),
            scope=str(row["scope"]),
            channel=str(row["channel"]),
            thread_root=str(row["thread_root"]),
            thread_url=str(row["thread_url"]),
            header_message=row["header_message"],
            chat_thread=row["chat_thread"],
            state=str(row["state"]),
            origin=str(row["origin"]),
            created_at=float(row["created_at"]),
            messages=tuple(
                PlannedMessage(
                    int(m["position"]),
                    str(m["role"]),
                    m["post_id"],
                    tuple(json.loads(m["message_ids"])) if m["message_ids"] else (),
                    bool(m["sent"]),
                    _keys(m["post_ids"], m["post_id"]),
                )
                for m in msgs
            ),
            layout=str(row["layout"]),
            lease_owner=row["lease_owner"],
            lease_until=None if row["lease_until"] is None else float(row["lease_until"]),
            fence=int(row["fence"]),
        )

    async def recent_in_channel(
        self, adapter: str, channel: str, thread_root: str, since: float
    ) -> DeliveryRecord | None:
        row = await self.db.fetchone(
            "SELECT id FROM deliveries WHERE adapter = ? AND channel = ? AND thread_root = ?"
            " AND state = 'sent' AND created_at >= ? ORDER BY id DESC LIMIT 1",
            (adapter, channel, thread_root, since),
        )
        return await self.get(int(row[0])) if row else None

    async def unfinished_in_channel(
        self, adapter: str, channel: str, thread_root: str
    ) -> DeliveryRecord | None:
        """The latest unroll of a thread in a channel that is still pending (stopped at an
        error, or its process killed): a new request for it finishes this one."""
        row = await self.db.fetchone(
            "SELECT id FROM deliveries WHERE adapter = ? AND channel = ? AND thread_root = ?"
            " AND state = 'pending' AND origin = 'command' ORDER BY id DESC LIMIT 1",
            (adapter, channel, thread_root),
        )
        return await self.get(int(row[0])) if row else None

    async def for_thread(
        self, thread_root: str, adapter: str | None = None
    ) -> list[DeliveryRecord]:
        return await self._records(
            "SELECT id FROM deliveries WHERE thread_root = ?"
            " AND (CAST(? AS TEXT) IS NULL OR adapter = ?)"
            " ORDER BY id",
            (thread_root, adapter, adapter),
        )

    async def pending(self, adapter: str) -> list[DeliveryRecord]:
        return await self._records(
            "SELECT id FROM deliveries WHERE adapter = ? AND state = 'pending' ORDER BY id",
            (adapter,),
        )

    async def _records(self, sql: str, params: tuple[object, ...]) -> list[DeliveryRecord]:
        out = []
        for row in await self.db.fetchall(sql, params):
            rec = await self.get(int(row[0]))
            if rec is not None:
                out.append(rec)
        return out

    async def find_by_message(self, adapter: str, message_id: str) -> DeliveryRecord | None:
        """The delivery a bot message belongs to (e.g. a context menu on one of them)."""
        row = await self.db.fetchone(
            "SELECT d.id FROM deliveries d JOIN delivery_messages m ON m.delivery_id = d.id"
            " WHERE d.adapter = ? AND (d.header_message = ? OR m.message_ids LIKE ?)"
            " ORDER BY d.id DESC LIMIT 1",
            (adapter, message_id, f'%"{message_id}"%'),
        )
        return await self.get(int(row[0])) if row else None


async def _append(conn: Connection, delivery_id: int, messages: Sequence[PlanItem]) -> list[int]:
    """Plan ``messages`` after the last planned one; the delivery is pending again."""
    row = await conn.fetchone(
        "SELECT COALESCE(MAX(position), -1) FROM delivery_messages WHERE delivery_id = ?",
        (delivery_id,),
    )
    start = int(row[0]) + 1 if row else 0
    positions = list(range(start, start + len(messages)))
    await conn.executemany(
        "INSERT INTO delivery_messages (delivery_id, position, role, post_id, post_ids)"
        " VALUES (?, ?, ?, ?, ?)",
        [_row(delivery_id, p, item) for p, item in zip(positions, messages, strict=True)],
    )
    await conn.execute("UPDATE deliveries SET state = 'pending' WHERE id = ?", (delivery_id,))
    return positions


def _first_post(keys: Sequence[str]) -> str | None:
    """The first post a message holds (``~N`` keys are notices)."""
    return next((k for k in keys if not k.startswith("~")), None)


def _row(delivery_id: int, position: int, item: PlanItem) -> tuple[object, ...]:
    role, keys = item
    return (delivery_id, position, role, _first_post(keys), json.dumps(list(keys)))


def _keys(raw: str | None, post_id: str | None) -> tuple[str, ...]:
    if raw:
        return tuple(str(k) for k in json.loads(raw))
    return (post_id,) if post_id else ()
