"""The help command, built from the command declarations."""

from __future__ import annotations

from bot.commands import Cog, Param, command
from bot.context import Context
from bot.dispatcher import Dispatcher
from bot.errors import quoted

# Where hidden content is shown by command (the console) rather than a click on a spoiler.
REVEAL_USAGE = "reveal <n>"
REVEAL_TEXT = "Show content hidden behind a content warning (n is in its [hidden] line)"


class HelpCog(Cog):
    def __init__(self, dispatcher: Dispatcher) -> None:
        self.dispatcher = dispatcher

    @command(
        "help",
        "List the commands, or explain one",
        Param(
            "command",
            "A command or group to explain, e.g. cw or cw add",
            required=False,
            kind="rest",
        ),
        examples=("help", "help cw", "help cw add"),
    )
    async def help(self, ctx: Context, command: str | None = None) -> None:
        prefix = self.dispatcher.prefix(ctx.room.adapter)
        moderator = ctx.user.is_moderator
        reveal = ctx.adapter.capabilities.reveal_command
        if not command:
            text = self.dispatcher.help_text(prefix, moderator=moderator)
            if reveal:
                text += f"\n  {prefix}{REVEAL_USAGE} - {REVEAL_TEXT}"
            text += f"\nType {prefix}help <command> for details, e.g. {prefix}help cw."
            await ctx.reply(text, private=True)
            return
        if reveal and command.strip().lstrip(prefix).lower() == "reveal":
            await ctx.reply(
                f"{prefix}{REVEAL_USAGE}\n{REVEAL_TEXT}.\nExample:\n  {prefix}reveal 2",
                private=True,
            )
            return
        specs, group = self.dispatcher.lookup(command, prefix)
        if group is not None:
            await ctx.reply(self.dispatcher.group_text(group, prefix, moderator), private=True)
            return
        if not specs:
            await ctx.reply(
                f"No command named {quoted(command.strip())}. Type {prefix}help for the list.",
                private=True,
            )
            return
        spec = specs[0]
        text = f"{prefix}{spec.usage}\n{spec.description}"
        if spec.moderator:
            text += "\nModerators only."
        if spec.examples:
            text += "\nExamples:\n" + "\n".join(f"  {prefix}{e}" for e in spec.examples)
        await ctx.reply(text, private=True)
