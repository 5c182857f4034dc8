"""Finds the command for an invocation, checks permissions, parses arguments and runs it.

User errors become a short private reply; anything else is logged with context and
answered with a brief apology, so nothing a user types can crash the bot.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from bot.commands import Cog, CommandSpec, check_args, parse_text_args
from bot.context import Context
from bot.errors import PermissionDenied, UserError, quoted, reply_text

log = logging.getLogger(__name__)

APOLOGY = "Sorry, something went wrong on our side. The problem has been logged."


class Dispatcher:
    """The command registry: every cog's declarations, for chat (``specs``), the command
    line (``cli_specs``) and passive triggers."""

    def __init__(self, find_links: Callable[[str], list[str]] | None = None) -> None:
        self.specs: dict[str, CommandSpec] = {}
        self.cli_specs: dict[str, CommandSpec] = {}
        self.cogs: list[Cog] = []
        # The text prefix each adapter's commands start with ("!" on Matrix); "/" elsewhere
        # (Discord's slash commands, the console). Replies name commands with it.
        self.prefixes: dict[str, str] = {}
        self.find_links = find_links

    def prefix(self, adapter: str) -> str:
        return self.prefixes.get(adapter, "/")

    def register(self, cog: Cog, *, chat: bool = True) -> None:
        """Add a cog's commands. ``chat=False`` (a feature switched off in the config)
        keeps only its command-line commands, and the cog is never started."""
        if chat:
            self.cogs.append(cog)
        for spec in cog.commands():
            if spec.chat and chat:
                if spec.name in self.specs:
                    raise ValueError(f"two commands named {spec.name!r}")
                self.specs[spec.name] = spec
            if spec.cli:
                if spec.name in self.cli_specs:
                    raise ValueError(f"two command-line commands named {spec.name!r}")
                self.cli_specs[spec.name] = spec

    def triggered(self, trigger: str) -> CommandSpec | None:
        return next((s for s in self.specs.values() if s.trigger == trigger), None)

    async def handle_passive(self, ctx: Context, text: str) -> bool:
        """Run the command a plain message triggers (a bare supported link runs the command
        declared with ``trigger="link"``). False when nothing was triggered."""
        spec = self.triggered("link")
        if spec is None or self.find_links is None:
            return False
        links = self.find_links(text)
        param = next((p for p in spec.params if p.kind == "url"), None)
        if not links or param is None:
            return False
        await self.invoke(ctx, spec, {param.name: links[0]})
        return True

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

    def group(self, name: str) -> list[CommandSpec]:
        """The commands of a group ("cw" holds "cw add", "cw list", ...), by name."""
        return sorted(
            (s for s in self.specs.values() if s.group == name.lower()), key=lambda s: s.name
        )

    def lookup(self, text: str, prefix: str) -> tuple[list[CommandSpec], str | None]:
        """What a user asking about ``text`` means: one command, or a group's commands.
        Tolerates the chat prefix and any case ("help /CW add"). The second value names
        the group when a group was asked for."""
        wanted = " ".join(text.strip().split()).lower()
        for p in {prefix, "/", "!"}:
            if wanted.startswith(p):
                wanted = wanted[len(p) :].lstrip()
        found = self.find(wanted)
        if found is not None and not found[1]:
            return [found[0]], None
        if wanted in self.group_names():
            return self.group(wanted), wanted
        return [], None

    async def handle_text(self, ctx: Context, text: str) -> bool:
        """Run a text command (prefix already removed). Returns False when ``text`` names
        no command (an unknown command gets a hint unless it is empty)."""
        prefix = self.prefix(ctx.room.adapter)
        found = self.find(text)
        if found is None:
            word = text.strip().split(maxsplit=1)[0].lower() if text.strip() else ""
            if word in self.group_names():
                await ctx.reply(self.group_text(word, prefix, ctx.user.is_moderator), private=True)
                return True
            if word:
                unknown = f"Unknown command {quoted(word)}. Type {prefix}help for the commands."
                await ctx.reply(unknown, private=True)
            return False
        spec, rest = found
        try:
            args = parse_text_args(spec, rest)
        except UserError as exc:
            await ctx.reply(reply_text(exc, prefix), private=True)
            return True
        await self.invoke(ctx, spec, args)
        return True

    async def invoke(self, ctx: Context, spec: CommandSpec, args: dict[str, Any]) -> None:
        """Run a command with already-split arguments (typed or text)."""
        try:
            if spec.moderator and not ctx.user.is_moderator:
                name = self.prefix(ctx.room.adapter) + spec.name
                raise PermissionDenied(
                    f"Only moderators can use {name} (it needs the Manage Messages "
                    "permission on Discord or the moderator power level on Matrix)."
                )
            checked = check_args(spec, args)
            assert spec.handler is not None
            await spec.handler(ctx, **checked)
        except UserError as exc:
            await ctx.reply(reply_text(exc, self.prefix(ctx.room.adapter)), private=True)
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

    def group_text(self, group: str, prefix: str, moderator: bool = True) -> str:
        lines = [f"{prefix}{group} commands:"]
        for spec in self.group(group):
            tag = " (moderators)" if spec.moderator else ""
            if spec.moderator and not moderator:
                tag = " (moderators only)"
            lines.append(f"  {prefix}{spec.usage} - {spec.description}{tag}")
        lines.append(f"Type {prefix}help <command> for details.")
        return "\n".join(lines)

    def help_text(self, prefix: str = "", moderator: bool = True) -> str:
        lines = ["Commands:"]
        for spec in sorted(self.specs.values(), key=lambda s: s.name):
            if spec.moderator and not moderator:
                continue
            tag = " (moderators)" if spec.moderator else ""
            lines.append(f"  {prefix}{spec.usage} - {spec.description}{tag}")
        return "\n".join(lines)
