"""The layout command: how this server or room shows unrolled threads.

``packed`` (the default) lets consecutive posts share a chat message, so a long thread
reads like an article and arrives quickly under the platforms' message rate limits;
``per-post`` keeps one message per post, for communities that react to single posts.
"""

from __future__ import annotations

from bot.commands import Cog, Param, command
from bot.context import Context
from storage.layouts_repo import LAYOUTS, LayoutRepo

_EXPLAIN = {
    "packed": "consecutive posts share a message, each with its number linking to the post",
    "per-post": "one message per post",
}


class LayoutCog(Cog):
    def __init__(self, repo: LayoutRepo) -> None:
        self.repo = repo

    @command(
        "layout",
        "How threads are posted here: packed (posts share messages) or per-post",
        Param(
            "layout",
            "packed | per-post (leave out to see the current one)",
            kind="choice",
            choices=LAYOUTS,
            required=False,
        ),
        moderator=True,
        examples=("layout per-post", "layout packed", "layout"),
    )
    async def layout(self, ctx: Context, layout: str | None = None) -> None:
        scope = ctx.room.scope
        if layout is None:
            current = await self.repo.get(scope)
            default = "" if await self.repo.is_set(scope) else " (the default)"
            await ctx.reply(f"Layout here: {current}{default}: {_EXPLAIN[current]}.", private=True)
            return
        await self.repo.set(scope, layout, ctx.user.id)
        note = " (the default)" if layout == self.repo.default else ""
        await ctx.reply(
            f"Layout set to {layout}{note}: {_EXPLAIN[layout]}. Threads unrolled from now "
            "on use it; threads already posted keep theirs.",
            private=True,
        )
