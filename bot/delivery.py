"""Posting a rendered thread into a room: header, chat thread, posts, through the outbox.

Every message is planned in the database before sending and marked after, with an
idempotency key per message, so a restart resumes a delivery instead of repeating it.
Later edits (content warnings) and appends (subscriptions) find the messages here.

Two layouts: per-post (one chat message per post, as each post's Message renders) and
packed, the default (consecutive posts share a chat message up to the platform's limit,
see ``bot.render.packing``); the outbox records which posts each message holds.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass

from bot.context import ChatAdapter, MessageRef, Room
from bot.models import Thread
from bot.render.document import Message, para
from bot.render.packing import (
    fits,
    group,
    item_key,
    keyed,
    linked,
    measure_for,
    packed,
    with_links,
)
from bot.render.thread_title import thread_name as thread_name  # re-exported
from bot.render.thread_view import UNAVAILABLE
from storage.deliveries_repo import DeliveryRecord, DeliveryRepo, PlanItem
from storage.layouts_repo import DEFAULT_LAYOUT, LayoutRepo

log = logging.getLogger(__name__)

Progress = Callable[[str], Awaitable[None]]


def _role(message: Message) -> str:
    return "header" if message.kind == "header" else ("post" if message.post_id else "notice")


@dataclass(frozen=True)
class Posted:
    """What ``post_once`` did: posted ``record`` now (``fresh``), or found it already
    posted in the channel."""

    record: DeliveryRecord
    fresh: bool


def _missing(key: str) -> Message:
    """What stands in for an item the thread no longer has (a deleted post)."""
    if key.startswith("~"):
        return Message((para("…"),), kind="notice")
    return Message((para(UNAVAILABLE),), post_id=key)


def _per_post(record: DeliveryRecord, messages: Sequence[Message]) -> dict[int, Message]:
    """A per-post delivery's positions, each with its post's message (posts appended
    later sit at the end of the plan, wherever the thread shows them); a notice keeps
    its place."""
    by_post = {m.post_id: m for m in messages if m.post_id}
    out: dict[int, Message] = {}
    for plan in record.messages:
        if plan.position == 0:
            if messages:
                out[0] = messages[0]
        elif plan.post_id:
            out[plan.position] = by_post.get(plan.post_id) or _missing(plan.post_id)
        elif plan.position < len(messages) and messages[plan.position].post_id is None:
            out[plan.position] = messages[plan.position]
        else:
            out[plan.position] = _missing(f"~{plan.position}")
    return out


class Deliverer:
    def __init__(
        self,
        repo: DeliveryRepo,
        clock: Callable[[], float] = time.time,
        layouts: LayoutRepo | None = None,
    ) -> None:
        self.repo = repo
        self.clock = clock
        self.layouts = layouts
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
                    await progress(f"Posting {len(messages) - 1} posts…")
                record = await self.deliver(adapter, room, thread, messages, progress=progress)
                return Posted(record, fresh=True)
        finally:
            if not lock.locked() and self._posting.get(key) is lock:
                del self._posting[key]

    async def layout_for(self, scope: str) -> str:
        return await self.layouts.get(scope) if self.layouts is not None else DEFAULT_LAYOUT

    async def deliver(
        self,
        adapter: ChatAdapter,
        room: Room,
        thread: Thread,
        messages: Sequence[Message],
        *,
        origin: str = "command",
        progress: Progress | None = None,
        layout: str | None = None,
    ) -> DeliveryRecord:
        """Plan and send a thread: ``messages`` are the header and the per-post messages;
        the room's layout decides whether posts share chat messages."""
        layout = layout or await self.layout_for(room.scope)
        items: list[PlanItem]
        if layout == "packed" and len(messages) > 1:
            messages = with_links(messages, thread)
            body = [linked(m) for m in messages[1:]]
            groups = group(body, measure_for(adapter.capabilities))
            items = [("header", ())]
            to_send = [messages[0]]
            for g in groups:
                keys = [item_key(messages[i + 1], i + 1) for i in g]
                role = "post" if any(not k.startswith("~") for k in keys) else "notice"
                items.append((role, keys))
                to_send.append(packed([body[i] for i in g]))
        else:
            layout = "per-post"
            items = [(_role(m), (m.post_id,) if m.post_id else ()) for m in messages]
            to_send = list(messages)
        delivery_id = await self.repo.plan(
            adapter=adapter.name,
            scope=room.scope,
            channel=room.channel,
            thread_root=thread.root_id,
            thread_url=thread.url,
            messages=items,
            origin=origin,
            now=self.clock(),
            layout=layout,
        )
        record = await self.repo.get(delivery_id)
        assert record is not None
        return await self._send(
            adapter, room, record, dict(enumerate(to_send)), thread_name(thread), progress
        )

    async def resume(
        self,
        adapter: ChatAdapter,
        room: Room,
        delivery_id: int,
        messages: Sequence[Message],
        thread_name: str,
        progress: Progress | None = None,
        thread: Thread | None = None,
    ) -> DeliveryRecord:
        """Send whatever of a planned delivery is not marked sent yet. ``messages``: the
        header and per-post messages as the thread is now; each planned message is
        refilled from them with the posts it holds."""
        record = await self.repo.get(delivery_id)
        assert record is not None
        return await self._send(
            adapter, room, record, self._planned(record, messages, thread), thread_name, progress
        )

    def _planned(
        self, record: DeliveryRecord, messages: Sequence[Message], thread: Thread | None
    ) -> dict[int, Message]:
        """Each planned position's message, from the header and per-post messages as the
        thread is now."""
        if record.layout == "packed":
            return self._packs(record, messages, thread)
        return _per_post(record, messages)

    def _packs(
        self, record: DeliveryRecord, messages: Sequence[Message], thread: Thread | None
    ) -> dict[int, Message]:
        """The packed messages of a planned delivery, each holding the items it was
        planned with, rendered from ``messages`` (header first, then per-post)."""
        if thread is not None:
            messages = with_links(messages, thread)
        by_key = keyed(messages)
        out: dict[int, Message] = {}
        for plan in record.messages:
            if plan.position == 0:
                if messages:
                    out[0] = messages[0]
                continue
            out[plan.position] = packed(
                [linked(by_key.get(k) or _missing(k)) for k in plan.post_ids]
            )
        return out

    async def _send(
        self,
        adapter: ChatAdapter,
        room: Room,
        record: DeliveryRecord,
        messages: Mapping[int, Message],
        thread_name: str,
        progress: Progress | None = None,
        fallback: MessageRef | None = None,
    ) -> DeliveryRecord:
        delivery_id = record.id
        planned = {m.position: m for m in record.messages}
        header_ref: MessageRef | None = None
        if record.header_message:
            header_ref = MessageRef(adapter.name, room.channel, record.header_message)
        target: MessageRef | None = fallback
        if record.chat_thread:
            target = MessageRef(adapter.name, room.channel, record.chat_thread, record.chat_thread)
        total = sum(len(p.post_ids) for p in record.messages if p.position > 0)
        done = 0
        try:
            for position in sorted(messages):
                message = messages[position]
                plan = planned.get(position)
                if plan is not None and position > 0:
                    done += len(plan.post_ids)
                if plan is not None and plan.sent:
                    continue
                key = f"unrollbot-{delivery_id}-{position}"
                if plan is not None and plan.needs_edit:
                    # Sent before and planned to hold more since: rewrite it in place.
                    thread_id = None if position == 0 else record.chat_thread
                    refs = [
                        MessageRef(adapter.name, room.channel, mid, thread_id)
                        for mid in plan.message_ids
                    ]
                    refs = await adapter.edit(refs, message)
                    await self.repo.mark_sent(delivery_id, position, [r.message_id for r in refs])
                    continue
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
                if progress is None:
                    continue
                if record.layout == "packed":
                    await progress(f"Posted {done} of {total} posts…")
                elif position % 10 == 0:
                    await progress(f"Posted {position} of {len(record.messages) - 1}…")
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
        *,
        current: Sequence[Message] | None = None,
        thread: Thread | None = None,
    ) -> DeliveryRecord:
        """Send more posts into an existing delivery's chat thread. In a packed delivery
        they join the last message while they fit (it is edited), the rest are packed
        into new messages. ``current``: the thread's header and per-post messages now,
        which refill the last message when it grows."""
        fallback = None
        if not record.chat_thread and record.header_message:
            fallback = MessageRef(adapter.name, room.channel, record.header_message)
        if record.layout != "packed":
            items: list[PlanItem] = [
                (_role(m), (m.post_id,) if m.post_id else ()) for m in messages
            ]
            positions = await self.repo.append(record.id, items)
            fresh = await self.repo.get(record.id)
            assert fresh is not None
            return await self._send(
                adapter,
                room,
                fresh,
                dict(zip(positions, messages, strict=True)),
                "",
                None,
                fallback,
            )
        if thread is not None:
            messages = with_links(messages, thread)
        new = [linked(m) for m in messages]
        keys = [m.post_id or f"~+{record.id}-{i}" for i, m in enumerate(messages)]
        measure = measure_for(adapter.capabilities)
        grow: tuple[int, list[str]] | None = None
        grown: Message | None = None
        last = record.messages[-1] if record.messages else None
        joined = 0
        rest_groups: list[list[int]] | None = None
        if (
            last is not None
            and last.position > 0
            and last.sent
            and last.message_ids
            and current is not None
            and adapter.capabilities.edits
        ):
            by_key = keyed(with_links(current, thread) if thread is not None else current)
            held = [by_key.get(k) for k in last.post_ids]
            if all(m is not None for m in held):
                old = [linked(m) for m in held if m is not None]
                # One grouping, each post measured once: the new posts that join the
                # last message, then how the rest pack after it.
                first, *later = group([*old, *new], measure)
                if len(first) >= len(old):
                    joined = len(first) - len(old)
                    rest_groups = [[i - len(first) for i in g] for g in later]
                if joined:
                    grow = (last.position, [*last.post_ids, *keys[:joined]])
                    grown = packed([*old, *new[:joined]])
        rest = new[joined:]
        items = []
        to_send: list[Message] = []
        for g in rest_groups if rest_groups is not None else group(rest, measure):
            items.append(("post", [keys[joined + i] for i in g]))
            to_send.append(packed([rest[i] for i in g]))
        positions = await self.repo.append(record.id, items, grow=grow)
        fresh = await self.repo.get(record.id)
        assert fresh is not None
        plan: dict[int, Message] = dict(zip(positions, to_send, strict=True))
        if grow is not None and grown is not None:
            plan[grow[0]] = grown
        return await self._send(adapter, room, fresh, plan, "", None, fallback)

    async def edit(
        self,
        adapter: ChatAdapter,
        record: DeliveryRecord,
        render: Callable[[DeliveryRecord], Awaitable[Sequence[Message]]],
    ) -> int:
        """Re-render a delivery and edit its messages in place; returns how many changed.
        ``render`` returns the header and per-post messages as the thread is now; each
        message is rewritten with the posts it holds."""
        if not adapter.capabilities.edits:
            return 0
        messages = await render(record)
        by_position = self._planned(record, messages, None)
        if record.layout == "packed" and self._outgrown(record, by_position, adapter):
            return await self._repack(adapter, record, messages, by_position)
        edited = 0
        for plan in record.messages:
            message = by_position.get(plan.position)
            if message is None or not plan.sent or not plan.message_ids:
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

    @staticmethod
    def _outgrown(
        record: DeliveryRecord, by_position: Mapping[int, Message], adapter: ChatAdapter
    ) -> bool:
        """Whether a re-rendered packed message no longer fits the one it is in."""
        measure = measure_for(adapter.capabilities)
        return any(
            len(plan.message_ids) == 1
            and plan.position in by_position
            and len(by_position[plan.position].parts) > 1
            and not fits(by_position[plan.position].parts, measure)
            for plan in record.messages
            if plan.position > 0 and plan.sent
        )

    async def _repack(
        self,
        adapter: ChatAdapter,
        record: DeliveryRecord,
        messages: Sequence[Message],
        by_position: Mapping[int, Message],
    ) -> int:
        """The posts grew (a warning added note lines): pack them again over the messages
        already posted, in order, and post what no longer fits after them, so the thread
        still reads in order."""
        positions = [p.position for p in record.messages if p.position > 0 and p.sent]
        keys = [k for p in record.messages if p.position in positions for k in p.post_ids]
        parts = [part for pos in positions for part in by_position[pos].parts]
        groups = [[keys[i] for i in g] for g in group(parts, measure_for(adapter.capabilities))]
        if len(groups) < len(positions):
            groups += [[] for _ in range(len(positions) - len(groups))]
        held = dict(zip(positions, groups[: len(positions)], strict=True))
        await self.repo.regroup(record.id, held, groups[len(positions) :])
        if record.header_message and messages:
            refs = [MessageRef(adapter.name, record.channel, record.header_message)]
            await adapter.edit(refs, messages[0])
        fresh = await self.repo.get(record.id)
        assert fresh is not None
        room = Room(adapter.name, record.scope, record.channel)
        to_send = self._packs(fresh, messages, None)
        to_send.pop(0, None)
        await self._send(adapter, room, fresh, to_send, "")
        return 1 + len(groups)
