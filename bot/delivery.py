"""Posting a rendered thread into a room: header, chat thread, posts, through the outbox.

Every message is planned in the database before sending and marked after, with an
idempotency key per message, so a restart resumes a delivery instead of repeating it.
Later edits (content warnings) and appends (subscriptions) find the messages here.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from bot.context import ChatAdapter, MessageRef, Room
from bot.models import Thread
from bot.render.document import Message
from storage.deliveries_repo import DeliveryRecord, DeliveryRepo

log = logging.getLogger(__name__)

Progress = Callable[[str], Awaitable[None]]


def thread_name(thread: Thread) -> str:
    first = next((p.text for p in thread.posts if p.text.strip()), "")
    first = " ".join(first.split())
    name = f"@{thread.author.handle}: {first}" if first else f"Thread by @{thread.author.handle}"
    return name if len(name) <= 100 else name[:99] + "…"


def _role(message: Message) -> str:
    return "header" if message.kind == "header" else ("post" if message.post_id else "notice")


@dataclass(frozen=True)
class Posted:
    """What ``post_once`` did: posted ``record`` now (``fresh``), or found it already
    posted in the channel."""

    record: DeliveryRecord
    fresh: bool


class Deliverer:
    def __init__(self, repo: DeliveryRepo, clock: Callable[[], float] = time.time) -> None:
        self.repo = repo
        self.clock = clock
        self._posting: dict[tuple[str, str, str], asyncio.Lock] = {}

    async def post_once(
        self,
        adapter: ChatAdapter,
        room: Room,
        thread: Thread,
        messages: Sequence[Message],
        *,
        since: float | None,
        progress: Progress | None = None,
    ) -> Posted:
        """Post a thread in a channel unless it was posted there after ``since`` (None:
        post anyway). One delivery per thread and channel at a time: a second request
        waits, then finds the first instead of posting the thread twice."""
        key = (adapter.name, room.channel, thread.root_id)
        lock = self._posting.setdefault(key, asyncio.Lock())
        try:
            async with lock:
                if since is not None:
                    recent = await self.repo.recent_in_channel(
                        adapter.name, room.channel, thread.root_id, since
                    )
                    if recent is not None:
                        return Posted(recent, fresh=False)
                if progress is not None:
                    await progress(f"Posting {len(messages) - 1} messages…")
                record = await self.deliver(adapter, room, thread, messages, progress=progress)
                return Posted(record, fresh=True)
        finally:
            if not lock.locked() and self._posting.get(key) is lock:
                del self._posting[key]

    async def deliver(
        self,
        adapter: ChatAdapter,
        room: Room,
        thread: Thread,
        messages: Sequence[Message],
        *,
        origin: str = "command",
        progress: Progress | None = None,
    ) -> DeliveryRecord:
        delivery_id = await self.repo.plan(
            adapter=adapter.name,
            scope=room.scope,
            channel=room.channel,
            thread_root=thread.root_id,
            thread_url=thread.url,
            messages=[(_role(m), m.post_id) for m in messages],
            origin=origin,
            now=self.clock(),
        )
        return await self.resume(
            adapter, room, delivery_id, messages, thread_name(thread), progress
        )

    async def resume(
        self,
        adapter: ChatAdapter,
        room: Room,
        delivery_id: int,
        messages: Sequence[Message],
        thread_name: str,
        progress: Progress | None = None,
    ) -> DeliveryRecord:
        """Send whatever of a planned delivery is not marked sent yet."""
        record = await self.repo.get(delivery_id)
        assert record is not None
        planned = {m.position: m for m in record.messages}
        header_ref: MessageRef | None = None
        if record.header_message:
            header_ref = MessageRef(adapter.name, room.channel, record.header_message)
        target: MessageRef | None = None
        if record.chat_thread:
            target = MessageRef(adapter.name, room.channel, record.chat_thread, record.chat_thread)
        try:
            for position, message in enumerate(messages):
                plan = planned.get(position)
                if plan is not None and plan.sent:
                    continue
                key = f"unrollbot-{delivery_id}-{position}"
                if position == 0:
                    refs = await adapter.send(room, message, key=key)
                    await self.repo.mark_sent(delivery_id, 0, [r.message_id for r in refs])
                    header_ref = refs[0] if refs else None
                    continue
                if target is None and header_ref is not None and adapter.capabilities.threads:
                    target = await adapter.start_thread(room, header_ref, thread_name)
                    await self.repo.set_chat_thread(
                        delivery_id, target.thread_id or target.message_id
                    )
                refs = await adapter.send(room, message, thread=target, key=key)
                await self.repo.mark_sent(delivery_id, position, [r.message_id for r in refs])
                if progress is not None and position % 10 == 0:
                    await progress(f"Posted {position} of {len(messages) - 1}…")
        except Exception as exc:
            # Keep the plan: a later resume continues from the first unsent message.
            log.warning("delivery %s stopped at an error: %r", delivery_id, exc)
            raise
        await self.repo.finish(delivery_id)
        final = await self.repo.get(delivery_id)
        assert final is not None
        return final

    async def append(
        self,
        adapter: ChatAdapter,
        room: Room,
        record: DeliveryRecord,
        messages: Sequence[Message],
    ) -> DeliveryRecord:
        """Send more messages into an existing delivery's chat thread."""
        positions = await self.repo.append(record.id, [(_role(m), m.post_id) for m in messages])
        target = None
        if record.chat_thread:
            target = MessageRef(adapter.name, room.channel, record.chat_thread, record.chat_thread)
        elif record.header_message:
            target = MessageRef(adapter.name, room.channel, record.header_message)
        for position, message in zip(positions, messages, strict=True):
            refs = await adapter.send(
                room, message, thread=target, key=f"unrollbot-{record.id}-{position}"
            )
            await self.repo.mark_sent(record.id, position, [r.message_id for r in refs])
        await self.repo.finish(record.id)
        final = await self.repo.get(record.id)
        assert final is not None
        return final

    async def edit(
        self,
        adapter: ChatAdapter,
        record: DeliveryRecord,
        render: Callable[[DeliveryRecord], Awaitable[Sequence[Message]]],
    ) -> int:
        """Re-render a delivery and edit its messages in place; returns how many changed.
        ``render`` returns the new messages in the delivery's planned order."""
        if not adapter.capabilities.edits:
            return 0
        messages = await render(record)
        edited = 0
        for plan, message in zip(record.messages, messages, strict=False):
            if not plan.sent or not plan.message_ids:
                continue
            thread_id = None if plan.position == 0 else record.chat_thread
            refs = [
                MessageRef(adapter.name, record.channel, mid, thread_id) for mid in plan.message_ids
            ]
            new_refs = await adapter.edit(refs, message)
            if [r.message_id for r in new_refs] != list(plan.message_ids):
                await self.repo.mark_sent(
                    record.id, plan.position, [r.message_id for r in new_refs]
                )
            edited += 1
        return edited
