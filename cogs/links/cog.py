"""Moderator commands for the thread-linking index (every adapter, and the command line;
the console user and the local operator are moderators)."""

from __future__ import annotations

from bot.commands import Cog, Param, command
from bot.context import Context
from cogs.links.service import LinkService

KINDS = ("belongs", "context", "continues")


def actor_of(ctx: Context) -> str:
    who = ctx.user.name or ctx.user.id
    return f"{ctx.room.adapter}:{who}" if who else ctx.room.adapter


class LinksCog(Cog):
    def __init__(self, service: LinkService) -> None:
        self.service = service

    @command(
        "link",
        "Link a post to the thread it belongs in, or a thread to its context or continuation",
        Param(
            "url",
            "The post (belongs) or thread (context, continues) the link starts from",
            kind="url",
        ),
        Param("kind", "What the link says", kind="choice", choices=KINDS),
        Param(
            "target",
            "The post it follows there (the thread's first post: at the end), or the thread",
            kind="url",
        ),
        moderator=True,
        cli=True,
        examples=(
            "link https://x.com/a/status/3 belongs https://x.com/a/status/1",
            "link https://x.com/a/status/5 context https://x.com/a/status/1",
        ),
    )
    async def link(self, ctx: Context, url: str, kind: str, target: str) -> None:
        await ctx.reply(await self.service.link(actor_of(ctx), url, kind, target), private=True)

    @command(
        "unlink",
        "Remove a moved post's link, or a thread's context and continuation links",
        Param("url", "The moved post, or the thread", kind="url"),
        Param("kind", "Only links of this kind", kind="choice", choices=KINDS, required=False),
        moderator=True,
        cli=True,
    )
    async def unlink(self, ctx: Context, url: str, kind: str | None = None) -> None:
        await ctx.reply(await self.service.unlink(actor_of(ctx), url, kind), private=True)

    @command(
        "links",
        "List a thread's links with origin, evidence and every change",
        Param("url", "A link to any post of the thread", kind="url"),
        moderator=True,
        cli=True,
    )
    async def links(self, ctx: Context, url: str) -> None:
        await ctx.reply(await self.service.describe(url), private=True)

    @command(
        "links-undo",
        "Undo a recorded link change (its number is shown by links)",
        Param("change", "The change number", kind="int"),
        moderator=True,
        cli=True,
    )
    async def undo(self, ctx: Context, change: int) -> None:
        await ctx.reply(await self.service.undo(actor_of(ctx), change), private=True)
