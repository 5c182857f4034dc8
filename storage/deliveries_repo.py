"""The outbox of posted threads: planned before sending, marked as each message goes."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

from storage.db import Database


@dataclass(frozen=True)
class PlannedMessage:
    position: int
    role: str  # header, post, notice
    post_id: str | None
    message_ids: tuple[str, ...] = ()
    sent: bool = False


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
        messages: list[tuple[str, str | None]],
        origin: str = "command",
        now: float | None = None,
    ) -> int:
        """Record a delivery and its messages (role, post id) before anything is sent."""
        now = time.time() if now is None else now
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                "INSERT INTO deliveries (adapter, scope, channel, thread_root, thread_url, origin,"
                " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (adapter, scope, channel, thread_root, thread_url, origin, now, now),
            )
            delivery_id = int(cur.lastrowid or 0)
            await conn.executemany(
                "INSERT INTO delivery_messages (delivery_id, position, role, post_id)"
                " VALUES (?, ?, ?, ?)",
                [(delivery_id, i, role, pid) for i, (role, pid) in enumerate(messages)],
            )
        return delivery_id

    async def append(self, delivery_id: int, messages: list[tuple[str, str | None]]) -> list[int]:
        """Plan more messages at the end of a delivery (posts added to a thread later)."""
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                "SELECT COALESCE(MAX(position), -1) FROM delivery_messages WHERE delivery_id = ?",
                (delivery_id,),
            )
            row = await cur.fetchone()
            start = int(row[0]) + 1 if row else 0
            positions = list(range(start, start + len(messages)))
            await conn.executemany(
                "INSERT INTO delivery_messages (delivery_id, position, role, post_id)"
                " VALUES (?, ?, ?, ?)",
                [(delivery_id, p, r, pid) for p, (r, pid) in zip(positions, messages, strict=True)],
            )
            await conn.execute(
                "UPDATE deliveries SET state = 'pending', updated_at = ? WHERE id = ?",
                (time.time(), delivery_id),
            )
        return positions

    async def mark_sent(self, delivery_id: int, position: int, message_ids: list[str]) -> None:
        async with self.db.transaction() as conn:
            await conn.execute(
                "UPDATE delivery_messages SET sent = 1, message_ids = ?"
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
            "SELECT position, role, post_id, message_ids, sent FROM delivery_messages"
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
                )
                for m in msgs
            ),
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
            "SELECT id FROM deliveries WHERE thread_root = ? AND (? IS NULL OR adapter = ?)"
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
