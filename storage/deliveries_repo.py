"""The outbox of posted threads: planned before sending, marked as each message goes.

Each planned message lists the items it holds (post ids, or ``~N`` for a notice that has
none): one in the per-post layout, several in the packed one. A message that was sent and
then planned to hold more (a post appended to the last packed message) has message ids but
is not marked sent: it is edited, not sent again, when the delivery resumes."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from storage.db import Database

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

    @property
    def planned_keys(self) -> set[str]:
        return {k for m in self.messages for k in m.post_ids}


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
    ) -> int:
        """Record a delivery and its messages (role, item keys) before anything is sent."""
        now = time.time() if now is None else now
        async with self.db.transaction() as conn:
            delivery_id = int(
                await conn.fetchval(
                    "INSERT INTO deliveries (adapter, scope, channel, thread_root, thread_url,"
                    " origin, created_at, updated_at, layout) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
                    " RETURNING id",
                    (adapter, scope, channel, thread_root, thread_url, origin, now, now, layout),
                )
            )
            await conn.executemany(
                "INSERT INTO delivery_messages (delivery_id, position, role, post_id, post_ids)"
                " VALUES (?, ?, ?, ?, ?)",
                [_row(delivery_id, i, item) for i, item in enumerate(messages)],
            )
        return delivery_id

    async def append(
        self,
        delivery_id: int,
        messages: Sequence[PlanItem],
        *,
        grow: tuple[int, Sequence[str]] | None = None,
    ) -> list[int]:
        """Plan more messages at the end of a delivery (posts added to a thread later).
        ``grow`` (position, keys): a sent message that now holds more, to be edited; it is
        recorded in the same transaction, so a crash leaves nothing half planned."""
        async with self.db.transaction() as conn:
            row = await conn.fetchone(
                "SELECT COALESCE(MAX(position), -1) FROM delivery_messages WHERE delivery_id = ?",
                (delivery_id,),
            )
            start = int(row[0]) + 1 if row else 0
            positions = list(range(start, start + len(messages)))
            if grow is not None:
                await conn.execute(
                    "UPDATE delivery_messages SET post_ids = ?, sent = FALSE"
                    " WHERE delivery_id = ? AND position = ?",
                    (json.dumps(list(grow[1])), delivery_id, grow[0]),
                )
            await conn.executemany(
                "INSERT INTO delivery_messages (delivery_id, position, role, post_id, post_ids)"
                " VALUES (?, ?, ?, ?, ?)",
                [_row(delivery_id, p, item) for p, item in zip(positions, messages, strict=True)],
            )
            await conn.execute(
                "UPDATE deliveries SET state = 'pending', updated_at = ? WHERE id = ?",
                (time.time(), delivery_id),
            )
        return positions

    async def regroup(
        self, delivery_id: int, held: Mapping[int, Sequence[str]], extra: Sequence[Sequence[str]]
    ) -> list[int]:
        """Packed messages that outgrew their room after an edit: the sent messages hold
        ``held`` now (to be edited) and ``extra`` follows in new messages; recorded in one
        transaction before anything is edited or sent."""
        async with self.db.transaction() as conn:
            for position, keys in held.items():
                await conn.execute(
                    "UPDATE delivery_messages SET post_ids = ?, post_id = ?, sent = FALSE"
                    " WHERE delivery_id = ? AND position = ?",
                    (json.dumps(list(keys)), _first_post(keys), delivery_id, position),
                )
        return await self.append(delivery_id, [("post", keys) for keys in extra])

    async def mark_sent(self, delivery_id: int, position: int, message_ids: list[str]) -> None:
        async with self.db.transaction() as conn:
            await conn.execute(
                "UPDATE delivery_messages SET sent = TRUE, message_ids = ?"
                " WHERE delivery_id = ? AND position = ?",
                (json.dumps(message_ids), delivery_id, position),
            )
            if position == 0:
                await conn.execute(
                    "UPDATE deliveries SET header_message = ?, updated_at = ? WHERE id = ?",
                    (message_ids[0] if message_ids else None, time.time(), delivery_id),
                )

    async def set_chat_thread(self, delivery_id: int, chat_thread: str) -> None:
        await self.db.execute(
            "UPDATE deliveries SET chat_thread = ?, updated_at = ? WHERE id = ?",
            (chat_thread, time.time(), delivery_id),
        )

    async def finish(self, delivery_id: int, state: str = "sent", error: str | None = None) -> None:
        await self.db.execute(
            "UPDATE deliveries SET state = ?, error = ?, updated_at = ? WHERE id = ?",
            (state, error, time.time(), delivery_id),
        )

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
