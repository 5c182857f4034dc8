"""The unroll command: link in, thread out (header plus posts in a chat thread)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from bot.commands import Cog, Param, command
from bot.context import Context, MessageRef
from bot.delivery import Deliverer
from bot.models import Thread
from bot.render.document import Message
from bot.render.thread_view import Decide, default_decide, thread_messages
from bot.unroller import Unroller
from storage.deliveries_repo import DeliveryRecord, DeliveryRepo

DecideFor = Callable[[str | None], Awaitable[Decide]]


async def _default_decide_for(scope: str | None) -> Decide:
    return default_decide


class UnrollCog(Cog):
    def __init__(
        self,
        unroller: Unroller,
        deliverer: Deliverer,
        deliveries: DeliveryRepo,
        decide_for: DecideFor = _default_decide_for,
    ) -> None:
        self.unroller = unroller
        self.deliverer = deliverer
        self.deliveries = deliveries
        self.decide_for = decide_for
        self._posting: dict[tuple[str, str, str], asyncio.Lock] = {}

    @command(
        "unroll",
        "Unroll a thread from Bluesky, Mastodon or X into this channel",
        Param("url", "A link to any post of the thread", kind="url"),
        Param("private", "Only you see the result", kind="bool", required=False, default=False),
        Param(
            "refresh",
            "Fetch again instead of using the cache",
            kind="bool",
            required=False,
            default=False,
        ),
        examples=("unroll https://bsky.app/profile/alice.bsky.social/post/3kabcdefghij2",),
        context_menu="Unroll thread",
    )
    async def unroll(
        self, ctx: Context, url: str, private: bool = False, refresh: bool = False
    ) -> None:
        self.unroller.sources.parse(url)  # unsupported links fail here, before any work
        await ctx.progress("Fetching the thread…")
        thread = await self.unroller.unroll(url, refresh=refresh, scope=ctx.room.scope)
        decide = await self.decide_for(ctx.room.scope)
        messages = thread_messages(thread, decide)
        if private:
            for message in messages:
                await ctx.reply(message, private=True)
            return
        # One delivery per thread and channel at a time: a second request waits and then
        # links to the first instead of posting the thread twice.
        key = (ctx.adapter.name, ctx.room.channel, thread.root_id)
        lock = self._posting.setdefault(key, asyncio.Lock())
        try:
            async with lock:
                record = await self._deliver_once(ctx, thread, messages, refresh)
        finally:
            if not lock.locked() and self._posting.get(key) is lock:
                del self._posting[key]
        if record is None:
            return
        ref = MessageRef(
            ctx.adapter.name, ctx.room.channel, record.header_message or "", record.chat_thread
        )
        where = ctx.adapter.link_to(ref)
        count = sum(1 for p in thread.all_posts if p.status != "moved_out")
        await ctx.reply(f"Unrolled {count} posts" + (f": {where}" if where else "."), private=True)

    async def _deliver_once(
        self, ctx: Context, thread: Thread, messages: list[Message], refresh: bool
    ) -> DeliveryRecord | None:
        since = self.unroller.clock() - self.unroller.cache_ttl_s
        recent = await self.deliveries.recent_in_channel(
            ctx.adapter.name, ctx.room.channel, thread.root_id, since
        )
        if recent is not None and not refresh:
            ref = MessageRef(
                ctx.adapter.name,
                ctx.room.channel,
                recent.header_message or "",
                recent.chat_thread,
            )
            where = ctx.adapter.link_to(ref)
            await ctx.reply(
                "This thread was already unrolled here"
                + (f": {where}" if where else " a moment ago; scroll up to its header.")
            )
            return None
        await ctx.progress(f"Posting {len(messages) - 1} messages…")
        return await self.deliverer.deliver(
            ctx.adapter, ctx.room, thread, messages, progress=ctx.progress
        )
