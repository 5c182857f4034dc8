"""Finds the command for an invocation, checks permissions, parses arguments and runs it.

User errors become a short private reply; anything else is logged with context and
answered with a brief apology, so nothing a user types can crash the bot.
"""

from __future__ import annotations

import logging
from typing import Any

from bot.commands import Cog, CommandSpec, check_args, parse_text_args
from bot.context import Context
from bot.errors import PermissionDenied, UserError

log = logging.getLogger(__name__)

APOLOGY = "Sorry, something went wrong on our side. The problem has been logged."


class Dispatcher:
    def __init__(self) -> None:
        self.specs: dict[str, CommandSpec] = {}
        self.cogs: list[Cog] = []

    def register(self, cog: Cog) -> None:
        self.cogs.append(cog)
        for spec in cog.commands():
            if spec.name in self.specs:
                raise ValueError(f"two commands named {spec.name!r}")
            self.specs[spec.name] = spec

    def find(self, text: str) -> tuple[CommandSpec, str] | None:
        """The command named at the start of ``text`` (longest name first, so "cw add"
        wins over "cw"), and the rest of the text."""
        words = text.strip().split(maxsplit=2)
        for n in (2, 1):
            if len(words) >= n:
                name = " ".join(words[:n]).lower()
                if name in self.specs:
                    rest = text.strip().split(maxsplit=n)
                    return self.specs[name], rest[n] if len(rest) > n else ""
        return None

    def group_names(self) -> set[str]:
        return {s.group for s in self.specs.values() if s.group}

    async def handle_text(self, ctx: Context, text: str) -> bool:
        """Run a text command (prefix already removed). Returns False when ``text`` names
        no command (an unknown command gets a hint unless it is empty)."""
        found = self.find(text)
        if found is None:
            word = text.strip().split(maxsplit=1)[0].lower() if text.strip() else ""
            if word in self.group_names():
                subs = sorted(s.name for s in self.specs.values() if s.group == word)
                await ctx.reply(f"Usage: {' | '.join(subs)}", private=True)
                return True
            if word:
                await ctx.reply(f"Unknown command {word!r}. Try help.", private=True)
            return False
        spec, rest = found
        try:
            args = parse_text_args(spec, rest)
        except UserError as exc:
            await ctx.reply(str(exc), private=True)
            return True
        await self.invoke(ctx, spec, args)
        return True

    async def invoke(self, ctx: Context, spec: CommandSpec, args: dict[str, Any]) -> None:
        """Run a command with already-split arguments (typed or text)."""
        try:
            if spec.moderator and not ctx.user.is_moderator:
                raise PermissionDenied(
                    f"Only moderators can use {spec.name} (it needs the Manage Messages "
                    "permission on Discord or the moderator power level on Matrix)."
                )
            checked = check_args(spec, args)
            assert spec.handler is not None
            await spec.handler(ctx, **checked)
        except UserError as exc:
            await ctx.reply(str(exc), private=True)
        except Exception:
            log.exception(
                "command %r failed (adapter=%s room=%s user=%s args=%r)",
                spec.name,
                ctx.room.adapter,
                ctx.room.channel,
                ctx.user.id,
                args,
            )
            await ctx.reply(APOLOGY, private=True)

    def help_text(self, prefix: str = "", moderator: bool = True) -> str:
        lines = ["Commands:"]
        for spec in sorted(self.specs.values(), key=lambda s: s.name):
            if spec.moderator and not moderator:
                continue
            tag = " (moderators)" if spec.moderator else ""
            lines.append(f"  {prefix}{spec.usage} - {spec.description}{tag}")
        return "\n".join(lines)
