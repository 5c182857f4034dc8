"""Posting followed threads into rooms through the outbox, exactly once.

A subscription's thread is marked ``delivering`` before the outbox plans it and
``delivered`` after; the outbox marks every message as it goes. After a crash the
``delivering`` rows are resumed from the outbox (unsent messages only, same idempotency
keys), never planned again. Posts the author adds later are whatever the thread has that
the outbox never planned, so they are appended once however often this runs.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import replace
from typing import Any

from bot.context import MessageRef, Room
from bot.delivery import Deliverer, DeliveryBusy, thread_name
from bot.live_adapters import standing_by
from bot.models import Thread
from bot.render.document import Message
from bot.render.post_count import post_count
from bot.render.thread_title import title_counts_posts
from bot.unroller import Unroller, UnrollRequest
from cogs.subscriptions.author_lease import AuthorLease, LeaseLost
from cogs.subscriptions.clock import Clock
from cogs.subscriptions.filters import rejection
from cogs.subscriptions.model import AuthorThread, Subscription, SubThread
from cogs.subscriptions.repo import SubscriptionsRepo
from storage.deliveries_repo import DeliveryRecord, DeliveryRepo
from storage.deliveries_repo import LeaseLost as DeliveryLeaseLost

log = logging.getLogger(__name__)

ORIGIN = "subscription"
# The thread as a room of the given scope shows it (``Host.thread_as_shown``).
Shown = Callable[[Thread, str | None], Awaitable[list[Message]]]
# An author's lease for a block, None when another process holds it (``AuthorLeases.hold``).
Hold = Callable[[int], AbstractAsyncContextManager[AuthorLease | None]]


class ThreadDelivery:
    def __init__(
        self,
        repo: SubscriptionsRepo,
        unroller: Unroller,
        deliverer: Deliverer,
        deliveries: DeliveryRepo,
        adapters: Mapping[str, Any],
        shown: Shown,
        clock: Clock,
    ) -> None:
        self.repo = repo
        self.unroller = unroller
        self.deliverer = deliverer
        self.deliveries = deliveries
        self.adapters = adapters
        self.shown = shown
        self.clock = clock
        self.delivered = 0
        self.appended = 0
        # Authors whose threads a resume left for the next look (posted afresh, or
        # appended and their header corrected): the service looks at them in the same
        # round. Left to the author's next new post, a thread no other post follows would
        # never get there.
        self.look_again: set[int] = set()
        # Called with (subscription, thread root, clock time) after a thread is posted.
        self.on_delivered: Callable[[Subscription, str, float], None] | None = None

    async def processed(self, base: Thread, scope: str) -> Thread:
        """The thread with every feature applied (thread links, content notes), as /unroll
        would show it in that room; this also feeds the thread-linking index."""
        request = UnrollRequest(base.url, scope=scope)
        thread = base
        for processor in self.unroller.processors:
            thread = await processor(thread, request)
        return thread

    @staticmethod
    def room(sub: Subscription) -> Room:
        return Room(sub.adapter, sub.scope, sub.channel)

    async def handle(
        self,
        sub: Subscription,
        row: AuthorThread,
        base: Thread,
        st: SubThread | None,
        fence: AuthorLease | None = None,
    ) -> bool:
        """Post a settled thread to one subscription, append what it gained, or skip it.
        False when the room could not take it now (tried again later). Runs under the
        author's lease (``fence``): once it is lost nothing more is recorded or sent."""
        adapter = self.adapters.get(sub.adapter)
        # Another process holds this platform's session: this one plans the thread and
        # that one sends it (its resume of unfinished deliveries, at its next round).
        standby = standing_by(self.adapters, sub.adapter) if adapter is None else None
        if adapter is None and standby is None:
            await self.repo.set_result(
                sub.id, error=f"the {sub.adapter} adapter is not running", fence=fence
            )
            return False
        now = self.clock.now()
        thread = await self.processed(base, sub.scope)
        messages = await self.shown(thread, sub.scope)
        if st is not None and st.state == "delivered" and st.delivery_id is not None:
            if adapter is None:
                # Handed to the holder: its resume of unfinished deliveries finds the
                # delivery already sent and looks at the thread again, appending there.
                await self.repo.set_sub_thread(
                    replace(st, state="delivering", planned_at=now), now, fence=fence
                )
                log.info("left %s in %s for the process holding it", row.url, sub.channel)
                return True
            return await self._append(adapter, sub, row, thread, messages, st, fence)
        reason = rejection(sub.filters, thread)
        if reason is not None:
            await self.repo.set_sub_thread(
                SubThread(sub.id, row.root_id, "skipped", reason, row.version, None, None, None),
                now,
                fence=fence,
            )
            return True
        # Record the intent before the outbox plans anything: a crash from here on is
        # resumed, not repeated.
        intent = SubThread(sub.id, row.root_id, "delivering", None, row.version, None, now, None)
        await self.repo.set_sub_thread(intent, now, fence=fence)
        if standby is not None:
            record = await self.deliverer.deliver(
                standby, self.room(sub), thread, messages, origin=ORIGIN, send=False
            )
            planned = replace(intent, delivery_id=record.id)
            await self.repo.set_sub_thread(planned, now, fence=fence)
            log.info("planned %s for %s; the process holding it sends it", row.url, sub.channel)
            return True
        assert adapter is not None
        try:
            record = await self.deliverer.deliver(
                adapter, self.room(sub), thread, messages, origin=ORIGIN
            )
        except LeaseLost:
            raise
        except DeliveryLeaseLost as lost:
            # Paused past the delivery's lease: the process that took the delivery over
            # finishes it and records it here (``resume_unfinished``); not a failure of
            # the room.
            log.warning("posting %s to %s: %s", row.url, sub.channel, lost)
            return True
        except Exception as exc:
            log.warning("posting %s to %s failed: %r", row.url, sub.channel, exc)
            await self.repo.set_result(sub.id, error=f"posting failed: {exc}", fence=fence)
            return True  # planned: resumed from the outbox, not planned again
        done = replace(
            intent, state="delivered", delivery_id=record.id, header_count=post_count(thread).total
        )
        await self.repo.set_sub_thread(done, self.clock.now(), fence=fence)
        await self.repo.set_result(
            sub.id, last_thread_url=thread.url, last_delivered_at=self.clock.now(), fence=fence
        )
        self.delivered += 1
        if self.on_delivered is not None:
            self.on_delivered(sub, row.root_id, self.clock.now())
        return True

    async def _append(
        self,
        adapter: Any,
        sub: Subscription,
        row: AuthorThread,
        thread: Thread,
        messages: list[Message],
        st: SubThread,
        fence: AuthorLease | None = None,
    ) -> bool:
        assert st.delivery_id is not None
        record = await self.deliveries.get(st.delivery_id)
        if record is None:  # the outbox row is gone: nothing to append to
            await self.repo.set_sub_thread(
                replace(st, version=row.version), self.clock.now(), fence=fence
            )
            return True
        planned = record.planned_keys
        new = [m for m in messages[1:] if m.post_id and m.post_id not in planned]
        if new:
            busy = replace(st, state="delivering", version=row.version)
            await self.repo.set_sub_thread(busy, self.clock.now(), fence=fence)
            try:
                # Packed: the new posts join the last message while they fit.
                record = await self.deliverer.append(
                    adapter, self.room(sub), record, new, current=messages, thread=thread
                )
            except LeaseLost:
                raise
            except (DeliveryLeaseLost, DeliveryBusy) as exc:
                # Another process has the delivery: ``resume_unfinished`` settles it, and
                # the next look appends whatever is still missing.
                log.warning("appending to %s in %s: %s", row.url, sub.channel, exc)
                return True
            except Exception as exc:
                log.warning("appending to %s in %s failed: %r", row.url, sub.channel, exc)
                await self.repo.set_result(sub.id, error=f"appending failed: {exc}", fence=fence)
                return True  # planned: resumed from the outbox
            self.appended += len(new)
        count = await self._update_header(adapter, record, thread, messages[0], st.header_count)
        if count != st.header_count:
            await self._retitle(adapter, record, thread)
        await self.repo.set_sub_thread(
            replace(st, state="delivered", version=row.version, header_count=count),
            self.clock.now(),
            fence=fence,
        )
        return True

    async def _update_header(
        self,
        adapter: Any,
        record: DeliveryRecord,
        thread: Thread,
        header_now: Message,
        shown: int | None,
    ) -> int | None:
        """Edit the header's post count where the platform allows edits."""
        count = post_count(thread).total
        if count == shown:
            return shown
        header = next((m for m in record.messages if m.position == 0), None)
        if header is None or not header.sent or not header.message_ids:
            return shown
        if not adapter.capabilities.edits:
            return shown
        refs = [MessageRef(adapter.name, record.channel, mid) for mid in header.message_ids]
        try:
            await adapter.edit(refs, header_now)
        except Exception as exc:
            log.warning("editing the header of delivery %s failed: %r", record.id, exc)
            return shown
        return count

    @staticmethod
    async def _retitle(adapter: Any, record: DeliveryRecord, thread: Thread) -> None:
        """Bring a "Thread by @x · N posts" title up to the new count, as the header is; a
        title quoting post 1 does not change. The adapter leaves alone a chat thread the
        bot did not start, and platforms whose threads have no title."""
        if not record.chat_thread or not title_counts_posts(thread):
            return
        header = record.header_message or ""
        ref = MessageRef(adapter.name, record.channel, header, record.chat_thread)
        try:
            await adapter.rename_thread(ref, thread_name(thread))
        except Exception as exc:
            log.warning("retitling the thread of delivery %s failed: %r", record.id, exc)

    async def resume_unfinished(
        self, stuck_before: float | None = None, hold: Hold | None = None
    ) -> int:
        """Finish deliveries a crash (or a failed send) left half done, in this process or
        another. ``stuck_before``: rows marked later may still be in the hands of a live
        sender; of those only outbox deliveries no sender holds (their lease is free or
        expired) are taken. With ``hold``, each author's are resumed under its lease;
        those of an author another process holds are left to a later round. Returns how
        many were resumed."""
        resumed = 0
        by_author: dict[int, list[tuple[Subscription, SubThread]]] = {}
        for st in await self.repo.unfinished():
            sub = await self.repo.subscription(st.subscription)
            if sub is None or sub.adapter not in self.adapters:
                continue
            by_author.setdefault(sub.author, []).append((sub, st))
        for author, work in by_author.items():
            if hold is None:
                resumed += await self._resume_author(work, None, stuck_before)
                continue
            async with hold(author) as lease:
                if lease is not None:
                    resumed += await self._resume_author(work, lease, stuck_before)
        return resumed

    async def _resume_author(
        self,
        work: list[tuple[Subscription, SubThread]],
        fence: AuthorLease | None,
        stuck_before: float | None,
    ) -> int:
        resumed = 0
        for sub, planned in work:
            # Read again under the lease: another process may have finished it meanwhile.
            st = await self.repo.sub_thread(sub.id, planned.root_id)
            if st is None or st.state != "delivering":
                continue
            adapter = self.adapters[sub.adapter]
            recent = stuck_before is not None and (st.planned_at or 0) > stuck_before
            if recent and not await self._abandoned(adapter, sub, st):
                continue
            try:
                if await self._resume_one(adapter, sub, st, fence):
                    resumed += 1
            except LeaseLost:
                log.warning("the lease on author %s was lost while resuming", sub.author)
                break
            except (DeliveryLeaseLost, DeliveryBusy) as exc:
                log.info("resuming %s in %s: %s", st.root_id, sub.channel, exc)
            except Exception as exc:
                log.warning("resuming %s in %s failed: %r", st.root_id, sub.channel, exc)
                try:
                    await self.repo.set_result(sub.id, error=f"posting failed: {exc}", fence=fence)
                except LeaseLost:
                    break
        return resumed

    async def _abandoned(self, adapter: Any, sub: Subscription, st: SubThread) -> bool:
        """Whether a recently started delivery is pending in the outbox with no live
        sender (its process was killed, or stopped at an error), or was never planned by a
        process gone for longer than a lease: it is resumed now."""
        delivery_id = await self._find_planned(adapter, sub, st)
        if delivery_id is None:
            # Not planned yet: its process may be about to, unless it is gone.
            return await self._intent_abandoned(st)
        record = await self.deliveries.get(delivery_id)
        if record is None or record.state != "pending":
            return False
        return record.lease_until is None or record.lease_until <= self.deliverer.clock()

    async def _intent_abandoned(self, st: SubThread) -> bool:
        """Whether an intent the outbox has no plan for was left by a process that died
        before planning. On PostgreSQL another live process may be between the two steps
        (milliseconds apart): only an intent older than a lease is taken as abandoned;
        SQLite serves one process, so there any is. And not if it finished meanwhile."""
        shared = self.deliveries.db.dialect != "sqlite"
        if shared and self.clock.now() - (st.planned_at or 0) < self.deliverer.lease_s:
            return False
        rows = await self.repo.sub_threads([st.subscription])
        current = rows.get((st.subscription, st.root_id))
        return (
            current is not None
            and current.state == "delivering"
            and current.delivery_id is None
            and current.planned_at == st.planned_at
        )

    async def _find_planned(self, adapter: Any, sub: Subscription, st: SubThread) -> int | None:
        if st.delivery_id is not None:
            return st.delivery_id
        # The outbox row planned for this intent is the one of this thread, channel and
        # origin that no other subscription thread claims.
        claimed = await self.repo.delivered_ids()
        for rec in await self.deliveries.for_thread(st.root_id, adapter.name):
            if rec.channel == sub.channel and rec.origin == ORIGIN and rec.id not in claimed:
                return rec.id
        return None

    async def _resume_one(
        self, adapter: Any, sub: Subscription, st: SubThread, fence: AuthorLease | None = None
    ) -> bool:
        now = self.clock.now()
        delivery_id = await self._find_planned(adapter, sub, st)
        if delivery_id is None:
            if not await self._intent_abandoned(st):
                return False
            # The crash came before the outbox planned anything: post it afresh.
            await self.repo.set_sub_thread(
                replace(st, state="skipped", reason="interrupted; to be posted", version=0),
                now,
                fence=fence,
            )
            self.look_again.add(sub.author)
            return False
        record = await self.deliveries.get(delivery_id)
        assert record is not None
        base = await self.unroller.repo.load(record.thread_root)
        if base is None:
            base = await self.unroller.base_thread(record.thread_url)
        thread = await self.processed(base, sub.scope)
        if record.state != "sent":
            messages = await self.shown(thread, sub.scope)
            # The outbox refills each planned message from the posts it holds.
            record = await self.deliverer.resume(
                adapter, self.room(sub), record.id, messages, thread_name(thread), thread=thread
            )
        first = st.delivery_id is None or st.header_count is None
        # Version 0: the next look at this thread appends anything the crash kept from
        # being planned and corrects the header count.
        await self.repo.set_sub_thread(
            replace(
                st,
                state="delivered",
                delivery_id=record.id,
                version=0,
                # Unknown after a crash: the next look compares and edits if needed.
                header_count=None if first else st.header_count,
            ),
            self.clock.now(),
            fence=fence,
        )
        self.look_again.add(sub.author)
        if first:
            await self.repo.set_result(
                sub.id, last_thread_url=thread.url, last_delivered_at=self.clock.now(), fence=fence
            )
            self.delivered += 1
            if self.on_delivered is not None:
                self.on_delivered(sub, st.root_id, self.clock.now())
        return True
