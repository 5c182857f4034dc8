"""The unroll command: link in, thread out (header plus posts in a chat thread)."""

from __future__ import annotations

import json

from bot.codec import public_thread
from bot.commands import Cog, Param, command
from bot.context import Context, MessageRef
from bot.host import Host
from bot.render import markdown, plain
from bot.render.post_count import post_count


class UnrollCog(Cog):
    def __init__(self, host: Host) -> None:
        self.host = host
        self.unroller = host.unroller
        self.deliverer = host.deliverer
        self.deliveries = host.deliveries

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
        trigger="link",
    )
    async def unroll(
        self, ctx: Context, url: str, private: bool = False, refresh: bool = False
    ) -> None:
        self.unroller.sources.parse(url)  # unsupported links fail here, before any work
        await ctx.progress("Fetching the thread…")
        thread = await self.unroller.unroll(url, refresh=refresh, scope=ctx.room.scope)
        messages = await self.host.thread_as_shown(thread, ctx.room.scope)
        if private:
            # The same messages as in the room, spoilers and all: each adapter's private
            # answer hides warned content the way its room messages do.
            for message in messages:
                await ctx.reply(message, private=True)
            return
        since = self.unroller.clock() - self.unroller.cache_ttl_s
        posted = await self.deliverer.post_once(
            ctx.adapter,
            ctx.room,
            thread,
            messages,
            since=None if refresh else since,
            progress=ctx.progress,
        )
        record = posted.record
        ref = MessageRef(
            ctx.adapter.name, ctx.room.channel, record.header_message or "", record.chat_thread
        )
        where = ctx.adapter.link_to(ref)
        if not posted.fresh:
            await ctx.reply(
                "This thread was already unrolled here"
                + (f": {where}" if where else " a moment ago; scroll up to its header.")
            )
            return
        count = post_count(thread)
        await ctx.reply(f"Unrolled {count}" + (f": {where}" if where else "."), private=True)

    @command(
        "unroll",
        "unroll one thread to stdout",
        Param("url", "a link to any post of the thread", kind="url"),
        Param(
            "format",
            "how to print it",
            kind="choice",
            choices=("text", "markdown", "json"),
            required=False,
            default="text",
            option=True,
        ),
        Param("refresh", "fetch again instead of using the cache", kind="bool", required=False),
        chat=False,
        cli=True,
    )
    async def unroll_to_stdout(
        self, ctx: Context, url: str, format: str = "text", refresh: bool = False
    ) -> None:
        thread = await self.unroller.unroll(url, refresh=refresh)
        if format == "json":
            await ctx.reply(json.dumps(public_thread(thread), ensure_ascii=False, indent=2))
            return
        for message in await self.host.thread_as_shown(thread, None):
            if format == "markdown":
                await ctx.reply("\n".join(markdown.chunks(message, 100_000)))
            else:
                await ctx.reply(plain.message_text(message, reveal=True))
            await ctx.reply("")
