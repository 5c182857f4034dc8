"""Posting a rendered thread into a room: header, chat thread, posts, through the outbox.

Every message is planned in the database before sending and marked after, with an
idempotency key per message, so a restart resumes a delivery instead of repeating it.
Later edits (content warnings) and appends (subscriptions) find the messages here.

Several bot processes share the outbox: a delivery is sent by one of them at a time, the
holder of its lease (``storage.deliveries_repo.Lease``). The planner holds it first; the
sender renews it as it goes; edits and appends claim it before touching the messages. A
sender whose lease was lost (paused past it, taken over) stops at the next record of
progress with ``LeaseLost``; the new owner sends the unsent rest with the same idempotency
keys (delivery id and position; adapters add the chunk), so the message that was in flight
is not posted twice where the platform dedupes keys.

Two layouts: per-post (one chat message per post, as each post's Message renders) and
packed, the default (consecutive posts share a chat message up to the platform's limit,
see ``bot.render.packing``); the outbox records which posts each message holds.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
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
from storage.deliveries_repo import DeliveryRecord, DeliveryRepo, Lease, LeaseLost, PlanItem
from storage.layouts_repo import DEFAULT_LAYOUT, LayoutRepo
from storage.leases import process_owner

log = logging.getLogger(__name__)

Progress = Callable[[str], Awaitable[None]]


def _role(message: Message) -> str:
    return "header" if message.kind == "header" else ("post" if message.post_id else "notice")


class DeliveryBusy(Exception):
    """Another sender holds the delivery's lease (it is being sent, edited or appended to)."""

    def __init__(self, delivery_id: int) -> None:
        super().__init__(f"delivery {delivery_id} is busy in another sender")
        self.delivery_id = delivery_id


def message_key(delivery_id: int, position: int) -> str:
    """The idempotency key of a planned message: the same in every process and after any
    restart, so a resend after a takeover is recognised (adapters add the chunk number)."""
    return f"unrollbot-{delivery_id}-{position}"


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
        *,
        owner: str | None = None,
        lease_s: float = 60.0,
    ) -> None:
        self.repo = repo
        self.clock = clock
        self.layouts = layouts
        # This process, as the owner of the leases it takes ([storage] lease_s long).
        self.owner = owner or process_owner()
        self.lease_s = lease_s
        self._posting: dict[tuple[str, str, str], asyncio.Lock] = {}

    # -- leases ---------------------------------------------------------------------------

    async def claim(self, delivery_id: int, *, wait_s: float = 0.0) -> Lease | None:
        """Take a delivery's lease once no live sender holds it, waiting up to ``wait_s``
        seconds for the holder to finish; None if it is still held then."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait_s
        while True:
            lease = await self.repo.claim(delivery_id, self.owner, self.clock(), self.lease_s)
            if lease is not None or loop.time() >= deadline:
                return lease
            await asyncio.sleep(min(0.5, self.lease_s / 10, max(deadline - loop.time(), 0)))

    async def _claimed(self, delivery_id: int) -> Lease:
        """The lease for an edit or an append: a sender busy with the delivery is waited for
        (it finishes, or its lease expires) up to twice the lease."""
        lease = await self.claim(delivery_id, wait_s=2 * self.lease_s)
        if lease is None:
            raise DeliveryBusy(delivery_id)
        return lease

    async def _keep(self, lease: Lease) -> None:
        """Renew the lease once half of it has passed (every recorded message renews it
        too); ``LeaseLost`` if it ended meanwhile: stop before sending anything more."""
        now = self.clock()
        if now >= lease.until - lease.lease_s / 2:
            await self.repo.renew(lease, now)

    @contextlib.asynccontextmanager
    async def _sending(self, lease: Lease) -> AsyncIterator[Lease]:
        """Work under a lease this sender took: an error or a shutdown frees it for the
        next claim (the plan stays: a later resume continues from the first unsent
        message); a lost lease is someone else's now and is left alone."""
        try:
            yield lease
        except LeaseLost:
            raise
        except BaseException:
            await self._let_go(lease)
            raise

    async def _let_go(self, lease: Lease) -> None:
        """Free the lease of a delivery stopped by an error, for the next claim."""
        try:
            await self.repo.release(lease)
        except Exception as exc:  # the lease then simply expires
            log.warning("releasing the lease of delivery %s failed: %r", lease.delivery_id, exc)

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
        post anyway). One delivery per thread and channel at a time, across every process
        on the database: a second request waits, then finds the first instead of posting
        the thread twice."""
        key = (adapter.name, room.channel, thread.root_id)
        lock = self._posting.setdefault(key, asyncio.Lock())
        try:
            async with contextlib.AsyncExitStack() as held:
                await self._queue(
                    held, lock, f"post:{adapter.name}:{room.channel}:{thread.root_id}"
                )
                if since is not None:
                    recent = await self.repo.recent_in_channel(
                        adapter.name, room.channel, thread.root_id, since
                    )
                    if recent is not None:
                        return Posted(recent, fresh=False)
                if progress is not None:
                    await progress(f"Posting {len(messages) - 1} posts…")
                try:
                    unfinished = await self.repo.unfinished_in_channel(
                        adapter.name, room.channel, thread.root_id
                    )
                    if unfinished is not None:
                        posted = await self._finish_unfinished(
                            adapter, room, thread, messages, unfinished, progress
                        )
                        if posted is not None:
                            return posted
                    record = await self.deliver(adapter, room, thread, messages, progress=progress)
                except LeaseLost as lost:
                    # Paused past the lease: another process finishes this delivery.
                    log.warning("%s; its new owner finishes it", lost)
                    handed = await self.repo.get(lost.lease.delivery_id)
                    assert handed is not None
                    return Posted(handed, fresh=True)
                return Posted(record, fresh=True)
        finally:
            if not lock.locked() and self._posting.get(key) is lock:
                del self._posting[key]

    async def _queue(self, held: contextlib.AsyncExitStack, lock: asyncio.Lock, name: str) -> None:
        """Wait for the requests before this one: the process's own queue on ``lock``, other
        processes' on the named lock. Up to twice the lease: a request that holds them
        longer (a long thread still going out, or a paused process) is not waited for; its
        delivery is planned, so this one then finds it and does not post a second copy."""
        try:
            async with asyncio.timeout(2 * self.lease_s):
                await held.enter_async_context(lock)
                await held.enter_async_context(self.repo.db.hold(name))
        except TimeoutError:
            log.info("%s: the request before this one is taking long; going on", name)

    async def _finish_unfinished(
        self,
        adapter: ChatAdapter,
        room: Room,
        thread: Thread,
        messages: Sequence[Message],
        unfinished: DeliveryRecord,
        progress: Progress | None,
    ) -> Posted | None:
        """Asked again for a thread whose unroll here stopped part way: finish that one
        (its header and chat thread) instead of posting a second copy. A sender still
        holding it is waited for, up to twice the lease (a killed one's lease expires).
        None: it failed for good meanwhile; post the thread afresh."""
        lease = await self.claim(unfinished.id, wait_s=2 * self.lease_s)
        if lease is None:  # still being sent: the user is pointed at it
            return Posted(unfinished, fresh=False)
        async with self._sending(lease):
            current = await self.repo.get(unfinished.id)
            assert current is not None
            if current.state != "pending":  # finished (or given up) while we waited
                await self.repo.release(lease)
                return Posted(current, fresh=False) if current.state == "sent" else None
            record = await self.resume(
                adapter,
                room,
                unfinished.id,
                messages,
                thread_name(thread),
                progress,
                thread,
                lease=lease,
            )
        return Posted(record, fresh=True)

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
        lease = await self.repo.plan(
            adapter=adapter.name,
            scope=room.scope,
            channel=room.channel,
            thread_root=thread.root_id,
            thread_url=thread.url,
            messages=items,
            origin=origin,
            now=self.clock(),
            layout=layout,
            owner=self.owner,
            lease_s=self.lease_s,
        )
        record = await self.repo.get(lease.delivery_id)
        assert record is not None
        async with self._sending(lease):
            return await self._send(
                adapter,
                room,
                record,
                dict(enumerate(to_send)),
                thread_name(thread),
                lease,
                progress,
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
        lease: Lease | None = None,
    ) -> DeliveryRecord:
        """Send whatever of a planned delivery is not marked sent yet. ``messages``: the
        header and per-post messages as the thread is now; each planned message is
        refilled from them with the posts it holds. ``lease``: one the caller claimed (and
        keeps: an error leaves it held for the caller to record); without it the delivery
        is claimed here, and ``DeliveryBusy`` raised while a live sender holds it."""
        if lease is None:
            lease = await self.claim(delivery_id)
            if lease is None:
                raise DeliveryBusy(delivery_id)
            own: contextlib.AbstractAsyncContextManager[object] = self._sending(lease)
        else:
            own = contextlib.nullcontext()
        async with own:
            # Read after the claim: it shows everything the previous owner recorded.
            record = await self.repo.get(delivery_id)
            assert record is not None
            planned = self._planned(record, messages, thread)
            return await self._send(adapter, room, record, planned, thread_name, lease, progress)

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
        lease: Lease,
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
                await self._keep(lease)
                key = message_key(delivery_id, position)
                if plan is not None and plan.needs_edit:
                    # Sent before and planned to hold more since: rewrite it in place.
                    thread_id = None if position == 0 else record.chat_thread
                    refs = [
                        MessageRef(adapter.name, room.channel, mid, thread_id)
                        for mid in plan.message_ids
                    ]
                    refs = await adapter.edit(refs, message)
                    await self._mark(lease, position, refs)
                    continue
                if position == 0:
                    refs = await adapter.send(room, message, key=key)
                    await self._mark(lease, 0, refs)
                    header_ref = refs[0] if refs else None
                    continue
                if target is None and header_ref is not None and adapter.capabilities.threads:
                    target = await adapter.start_thread(room, header_ref, thread_name)
                    await self.repo.set_chat_thread(
                        lease, target.thread_id or target.message_id, self.clock()
                    )
                refs = await adapter.send(room, message, thread=target, key=key)
                await self._mark(lease, position, refs)
                if progress is None:
                    continue
                if record.layout == "packed":
                    await progress(f"Posted {done} of {total} posts…")
                elif position % 10 == 0:
                    await progress(f"Posted {position} of {len(record.messages) - 1}…")
        except LeaseLost:
            log.warning("delivery %s: lease lost, its new owner finishes it", delivery_id)
            raise
        except Exception as exc:
            # Keep the plan: a later resume continues from the first unsent message.
            log.warning("delivery %s stopped at an error: %r", delivery_id, exc)
            raise
        final = await self.repo.get(delivery_id)
        assert final is not None
        if any(not m.sent for m in final.messages):
            # Asked to send part of the plan (an append to a delivery another sender left
            # unfinished): the rest is still to be resumed, so it stays pending.
            await self.repo.release(lease)
            return final
        await self.repo.finish(lease, now=self.clock())
        return dataclasses.replace(final, state="sent", lease_owner=None, lease_until=None)

    async def _mark(self, lease: Lease, position: int, refs: Sequence[MessageRef]) -> None:
        await self.repo.mark_sent(lease, position, [r.message_id for r in refs], self.clock())

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
        which refill the last message when it grows. The delivery's lease is claimed
        first (waiting for a sender busy with it); posts planned meanwhile by another
        process are not planned again."""
        lease = await self._claimed(record.id)
        async with self._sending(lease):
            fresh = await self.repo.get(record.id)
            assert fresh is not None
            planned = fresh.planned_keys
            messages = [m for m in messages if not m.post_id or m.post_id not in planned]
            if not messages:
                await self.repo.release(lease)
                return fresh
            return await self._append(adapter, room, fresh, messages, current, thread, lease)

    async def _append(
        self,
        adapter: ChatAdapter,
        room: Room,
        record: DeliveryRecord,
        messages: Sequence[Message],
        current: Sequence[Message] | None,
        thread: Thread | None,
        lease: Lease,
    ) -> DeliveryRecord:
        fallback = None
        if not record.chat_thread and record.header_message:
            fallback = MessageRef(adapter.name, room.channel, record.header_message)
        if record.layout != "packed":
            items: list[PlanItem] = [
                (_role(m), (m.post_id,) if m.post_id else ()) for m in messages
            ]
            positions = await self.repo.append(lease, items, now=self.clock())
            fresh = await self.repo.get(record.id)
            assert fresh is not None
            return await self._send(
                adapter,
                room,
                fresh,
                dict(zip(positions, messages, strict=True)),
                "",
                lease,
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
        positions = await self.repo.append(lease, items, grow=grow, now=self.clock())
        fresh = await self.repo.get(record.id)
        assert fresh is not None
        plan: dict[int, Message] = dict(zip(positions, to_send, strict=True))
        if grow is not None and grown is not None:
            plan[grow[0]] = grown
        return await self._send(adapter, room, fresh, plan, "", lease, None, fallback)

    async def edit(
        self,
        adapter: ChatAdapter,
        record: DeliveryRecord,
        render: Callable[[DeliveryRecord], Awaitable[Sequence[Message]]],
    ) -> int:
        """Re-render a delivery and edit its messages in place; returns how many changed.
        ``render`` returns the header and per-post messages as the thread is now; each
        message is rewritten with the posts it holds. The delivery's lease is claimed
        first, so an edit never races a sender."""
        if not adapter.capabilities.edits:
            return 0
        lease = await self._claimed(record.id)
        async with self._sending(lease):
            fresh = await self.repo.get(record.id)
            assert fresh is not None
            edited = await self._edit(adapter, fresh, render, lease)
            await self.repo.release(lease)  # nothing if a repack finished it
            return edited

    async def _edit(
        self,
        adapter: ChatAdapter,
        record: DeliveryRecord,
        render: Callable[[DeliveryRecord], Awaitable[Sequence[Message]]],
        lease: Lease,
    ) -> int:
        messages = await render(record)
        by_position = self._planned(record, messages, None)
        if record.layout == "packed" and self._outgrown(record, by_position, adapter):
            return await self._repack(adapter, record, messages, by_position, lease)
        edited = 0
        for plan in record.messages:
            message = by_position.get(plan.position)
            if message is None or not plan.sent or not plan.message_ids:
                continue
            thread_id = None if plan.position == 0 else record.chat_thread
            refs = [
                MessageRef(adapter.name, record.channel, mid, thread_id) for mid in plan.message_ids
            ]
            await self._keep(lease)
            new_refs = await adapter.edit(refs, message)
            if [r.message_id for r in new_refs] != list(plan.message_ids):
                await self._mark(lease, plan.position, new_refs)
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
        lease: Lease,
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
        await self.repo.regroup(lease, held, groups[len(positions) :], self.clock())
        if record.header_message and messages:
            refs = [MessageRef(adapter.name, record.channel, record.header_message)]
            await adapter.edit(refs, messages[0])
        fresh = await self.repo.get(record.id)
        assert fresh is not None
        room = Room(adapter.name, record.scope, record.channel)
        to_send = self._packs(fresh, messages, None)
        to_send.pop(0, None)
        await self._send(adapter, room, fresh, to_send, "", lease)
        return 1 + len(groups)
