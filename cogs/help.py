"""The help command, built from the command declarations."""

from __future__ import annotations

from bot.commands import Cog, Param, command
from bot.context import Context
from bot.dispatcher import Dispatcher


class HelpCog(Cog):
    def __init__(self, dispatcher: Dispatcher, prefix_for: dict[str, str] | None = None) -> None:
        self.dispatcher = dispatcher
        # The text prefix each adapter uses ("/" on the console, "!" on Matrix).
        self.prefix_for = prefix_for or {}

    @command(
        "help",
        "List the commands, or explain one",
        Param("command", "A command to explain", required=False, kind="rest"),
    )
    async def help(self, ctx: Context, command: str | None = None) -> None:
        prefix = self.prefix_for.get(ctx.room.adapter, "/")
        if command:
            found = self.dispatcher.find(command)
            if found is None:
                await ctx.reply(f"No command named {command!r}.", private=True)
                return
            spec = found[0]
            text = f"{prefix}{spec.usage}\n{spec.description}"
            if spec.examples:
                text += "\nExamples:\n" + "\n".join(f"  {prefix}{e}" for e in spec.examples)
            await ctx.reply(text, private=True)
            return
        text = self.dispatcher.help_text(prefix, moderator=ctx.user.is_moderator)
        await ctx.reply(text, private=True)
