"""The cogs' command declarations as Discord application commands, and the Context an
interaction gets.

One CommandSpec becomes a slash command ("cw add" becomes subcommand ``add`` of group
``cw``), typed options with descriptions, choices and autocomplete, and optionally a message
context menu. A context menu fills the command's link parameter from the message (for the
bot's own messages, the thread that message belongs to) and asks for any other parameters
in a modal. Moderator commands carry ``default_permissions`` Manage Messages, and the
dispatcher checks the member's permission again at run time, because server admins can
override the former.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import uuid
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Sequence
from functools import partial
from typing import Any, Literal, Optional, Protocol

import discord
from discord import app_commands

from bot.adapters.discord.format import NO_MENTIONS, render
from bot.commands import CommandSpec, Param
from bot.context import ChatAdapter, Room, User
from bot.host import AdapterHost
from bot.render.document import Message, reply


class DiscordPlatform(ChatAdapter, Protocol):
    """What commands need from the adapter (``adapter.py`` builds the binder with itself)."""

    @property
    def client(self) -> discord.Client: ...

    @property
    def host(self) -> AdapterHost: ...

    def room_for(self, channel: Any, guild_id: int | None) -> Room: ...


log = logging.getLogger(__name__)

GUILD_ONLY = app_commands.AppCommandContext(guild=True)
MODERATOR = discord.Permissions(manage_messages=True)

_TEXT_PARAMS = ("str", "url", "rest", "int", "choice")
MAX_MODAL_FIELDS = 5


def _annotation(param: Param) -> Any:
    if param.kind == "int":
        base: Any = int
    elif param.kind == "bool":
        base = bool
    elif param.kind == "choice" and 0 < len(param.choices) <= 25:
        base = Literal[tuple(param.choices)]
    else:
        base = str
    return base if param.required else Optional[base]  # noqa: UP045 - discord.py reads it


def is_moderator(interaction: discord.Interaction[Any]) -> bool:
    perms = interaction.permissions
    return bool(perms.manage_messages or perms.administrator)


class InteractionContext:
    """What a command handler sees for one interaction.

    Discord wants an answer within 3 seconds: ``progress`` defers at once and shows its text
    in the (private) original response; a watchdog defers on the handler's behalf if it is
    still quiet after ``ack_after_s``. Private replies edit that placeholder or follow up
    ephemerally; public replies become ordinary followups visible to the channel.
    """

    def __init__(
        self, adapter: DiscordPlatform, interaction: discord.Interaction[Any], ack_after_s: float
    ) -> None:
        self.adapter = adapter
        self.interaction = interaction
        channel = interaction.channel or discord.Object(interaction.channel_id or 0)
        self.room: Room = adapter.room_for(channel, interaction.guild_id)
        self.user = User(
            str(interaction.user.id), interaction.user.display_name, is_moderator(interaction)
        )
        self.ack_after_s = ack_after_s
        self._lock = asyncio.Lock()
        # The original response is a "thinking…" or progress line, not an answer yet.
        self._placeholder = False
        self._watchdog: asyncio.Task[None] | None = None

    # Context protocol ----------------------------------------------------------------
    async def progress(self, text: str) -> None:
        async with self._lock:
            await self._defer()
            if self._placeholder:
                await self._call(
                    self.interaction.edit_original_response(
                        content=_one_chunk(text), allowed_mentions=discord.AllowedMentions.none()
                    )
                )

    async def reply(self, message: Message | str, *, private: bool = False) -> None:
        contents = render(reply(message) if isinstance(message, str) else message)
        async with self._lock:
            for content in contents:
                response = self.interaction.response
                if not response.is_done():
                    await self._call(
                        response.send_message(
                            content, ephemeral=private, allowed_mentions=NO_MENTIONS
                        )
                    )
                elif self._placeholder and private:
                    self._placeholder = False
                    await self._call(
                        self.interaction.edit_original_response(
                            content=content, allowed_mentions=NO_MENTIONS
                        )
                    )
                else:
                    if self._placeholder:
                        # Only the caller sees the placeholder; a public answer is a new
                        # message, so the placeholder goes.
                        self._placeholder = False
                        await self._call(self.interaction.delete_original_response())
                    await self._call(
                        self.interaction.followup.send(
                            content, ephemeral=private, allowed_mentions=NO_MENTIONS
                        )
                    )

    # Acknowledgement ---------------------------------------------------------------------
    def arm(self) -> None:
        self._watchdog = asyncio.create_task(self._ack_in_time(), name="discord-ack")

    def disarm(self) -> None:
        if self._watchdog is not None:
            self._watchdog.cancel()

    async def _ack_in_time(self) -> None:
        await asyncio.sleep(self.ack_after_s)
        async with self._lock:
            await self._defer()

    async def _defer(self) -> None:
        if not self.interaction.response.is_done():
            await self._call(self.interaction.response.defer(ephemeral=True, thinking=True))
            self._placeholder = True

    async def finish(self) -> None:
        """Close the interaction if the handler never answered (Discord would otherwise
        show "The application did not respond")."""
        self.disarm()
        async with self._lock:
            if not self.interaction.response.is_done():
                await self._call(self.interaction.response.send_message("Done.", ephemeral=True))
            elif self._placeholder:
                self._placeholder = False
                await self._call(self.interaction.edit_original_response(content="Done."))

    async def _call(self, op: Awaitable[Any]) -> None:
        try:
            await op
        except discord.NotFound as exc:
            # 10062: the interaction expired before the answer arrived; nothing to answer.
            log.warning("discord: interaction %s gone: %s", self.interaction.id, exc)
        except discord.HTTPException as exc:
            log.warning("discord: answering interaction %s failed: %s", self.interaction.id, exc)


def _one_chunk(text: str) -> str:
    return render(reply(text))[0]


class _ParamModal(discord.ui.Modal):
    """Asks for the parameters a context menu cannot fill from the message."""

    def __init__(
        self,
        title: str,
        params: Sequence[Param],
        on_values: Callable[[discord.Interaction[Any], dict[str, Any]], Awaitable[None]],
        suggestions: dict[str, list[str]],
    ) -> None:
        super().__init__(title=title[:45], custom_id=f"unrollbot:{uuid.uuid4().hex}", timeout=900)
        self._on_values = on_values
        self._fields: dict[str, discord.ui.TextInput[Any] | discord.ui.Select[Any]] = {}
        for param in params[:MAX_MODAL_FIELDS]:
            label = param.name.replace("_", " ").capitalize()[:45]
            if param.kind == "choice" and 0 < len(param.choices) <= 25:
                select: discord.ui.Select[Any] = discord.ui.Select(
                    options=[discord.SelectOption(label=c, value=c) for c in param.choices],
                    required=param.required,
                    custom_id=param.name,
                )
                self.add_item(
                    discord.ui.Label(
                        text=label, description=param.description[:100], component=select
                    )
                )
                self._fields[param.name] = select
                continue
            hint = suggestions.get(param.name)
            placeholder = (", ".join(hint) if hint else param.description)[:100]
            field: discord.ui.TextInput[Any] = discord.ui.TextInput(
                label=label,
                placeholder=placeholder,
                required=param.required,
                custom_id=param.name,
                style=discord.TextStyle.paragraph
                if param.kind == "rest"
                else discord.TextStyle.short,
                max_length=1000 if param.kind == "rest" else 200,
            )
            self.add_item(field)
            self._fields[param.name] = field

    async def on_submit(self, interaction: discord.Interaction[Any]) -> None:
        values: dict[str, Any] = {}
        for name, item in self._fields.items():
            if isinstance(item, discord.ui.Select):
                values[name] = item.values[0] if item.values else None
            else:
                values[name] = item.value.strip() or None
        await self._on_values(interaction, values)


class CommandBinder:
    """Turns CommandSpecs into a discord.py CommandTree and runs invocations."""

    def __init__(self, adapter: DiscordPlatform, *, ack_after_s: float = 1.5) -> None:
        self.adapter = adapter
        self.ack_after_s = ack_after_s
        self.tree: app_commands.CommandTree[Any] = app_commands.CommandTree(adapter.client)
        self.tree.on_error = self._on_tree_error  # type: ignore[method-assign]
        self._running: set[asyncio.Task[Any]] = set()

    # --- building -------------------------------------------------------------------------
    def install(self, specs: Iterable[CommandSpec]) -> None:
        """Add every declared command. One Discord cannot take (a name with capitals or
        spaces, too many options) is logged and left out; the rest still work."""
        specs = sorted(specs, key=lambda s: s.name)
        top_level = {s.name for s in specs if s.group is None}
        grouped: dict[str, list[CommandSpec]] = {}
        for spec in specs:
            if spec.group is None:
                self._add(spec.name, partial(self._slash, spec, spec.name, top=True))
            elif spec.group in top_level:
                log.error("discord: %r is both a command and a group; skipped", spec.group)
            else:
                grouped.setdefault(spec.group, []).append(spec)
            if spec.context_menu:
                self._add(spec.context_menu, partial(self._context_menu, spec))
        for name, subs in grouped.items():
            self._add(name, partial(self._group, name, subs))

    def _add(self, name: str, build: Callable[[], Any]) -> None:
        try:
            self.tree.add_command(build())
        except (ValueError, TypeError, app_commands.AppCommandError) as exc:
            log.error("discord: command %r cannot be offered on Discord: %s", name, exc)

    def _group(self, name: str, subs: list[CommandSpec]) -> app_commands.Group:
        words = ", ".join(s.name.split(" ", 1)[1] for s in subs)
        # default_permissions exists only on top-level commands: a group is hidden from
        # members only when every subcommand is for moderators.
        group = app_commands.Group(
            name=name,
            description=f"{name}: {words}"[:100],
            allowed_contexts=GUILD_ONLY,
            guild_only=True,
            default_permissions=MODERATOR if all(s.moderator for s in subs) else None,
        )
        for spec in subs:
            sub = spec.name.split(" ", 1)[1]
            try:
                group.add_command(self._slash(spec, sub, top=False))
            except (ValueError, TypeError, app_commands.AppCommandError) as exc:
                log.error("discord: command %r cannot be offered on Discord: %s", spec.name, exc)
        return group

    def _slash(
        self, spec: CommandSpec, name: str, *, top: bool
    ) -> app_commands.Command[Any, ..., Any]:
        async def callback(interaction: discord.Interaction[Any], **kwargs: Any) -> None:
            await self.run(interaction, spec, kwargs)

        params = [
            inspect.Parameter(
                "interaction",
                inspect.Parameter.POSITIONAL_OR_KEYWORD,
                annotation=discord.Interaction,
            )
        ]
        for p in spec.params:
            params.append(
                inspect.Parameter(
                    p.name,
                    inspect.Parameter.KEYWORD_ONLY,
                    annotation=_annotation(p),
                    default=inspect.Parameter.empty if p.required else None,
                )
            )
        callback.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
        callback.__discord_app_commands_param_description__ = {  # type: ignore[attr-defined]
            p.name: (p.description or p.name)[:100] for p in spec.params
        }
        if top and spec.moderator:
            callback = app_commands.default_permissions(manage_messages=True)(callback)
        command: app_commands.Command[Any, ..., Any] = app_commands.Command(
            name=name,
            description=(spec.description or spec.name)[:100],
            callback=callback,
            allowed_contexts=GUILD_ONLY if top else None,
        )
        if top:
            # Also the older dm_permission flag, for clients that predate "contexts".
            command.guild_only = True
        for p in spec.params:
            source = self._suggestions(spec, p)
            if source is not None:
                command.autocomplete(p.name)(self._autocomplete(source))
        return command

    def _suggestions(
        self, spec: CommandSpec, param: Param
    ) -> Callable[[Any, str], Awaitable[Sequence[Any]]] | None:
        if param.kind == "choice" and len(param.choices) > 25:
            choices = param.choices

            async def by_prefix(ctx: Any, current: str) -> Sequence[str]:
                return [c for c in choices if c.startswith(current.lower())]

            return by_prefix
        if not param.autocomplete:
            return None
        cog = getattr(spec.handler, "__self__", None)
        method = getattr(cog, param.autocomplete, None)
        if method is None:
            log.warning(
                "discord: %s names a missing autocomplete %r", spec.name, param.autocomplete
            )
            return None
        takes_ctx = len(inspect.signature(method).parameters) >= 2

        async def suggest(ctx: Any, current: str) -> Sequence[Any]:
            # A cog method ``(ctx, current)`` or ``(current)``, sync or async.
            found = method(ctx, current) if takes_ctx else method(current)
            if inspect.isawaitable(found):
                found = await found
            return list(found or ())

        return suggest

    def _autocomplete(
        self, source: Callable[[Any, str], Awaitable[Sequence[Any]]]
    ) -> Callable[
        [discord.Interaction[Any], str], Coroutine[Any, Any, list[app_commands.Choice[str]]]
    ]:
        async def complete(
            interaction: discord.Interaction[Any], current: str
        ) -> list[app_commands.Choice[str]]:
            ctx = InteractionContext(self.adapter, interaction, self.ack_after_s)
            try:
                values = await source(ctx, current)
            except Exception:
                log.exception("discord: autocomplete failed")
                return []
            out = []
            for v in list(values)[:25]:
                label, value = v if isinstance(v, tuple) else (v, v)
                out.append(app_commands.Choice(name=str(label)[:100], value=str(value)[:100]))
            return out

        return complete

    def _context_menu(self, spec: CommandSpec) -> app_commands.ContextMenu:
        async def callback(interaction: discord.Interaction[Any], message: discord.Message) -> None:
            await self.run_on_message(interaction, spec, message)

        menu = app_commands.ContextMenu(
            name=spec.context_menu or spec.name,
            callback=callback,
            allowed_contexts=GUILD_ONLY,
        )
        menu.guild_only = True
        if spec.moderator:
            menu.default_permissions = MODERATOR
        return menu

    def prepare(self, guild_ids: Sequence[int]) -> None:
        """The local command tree as ``sync`` registers it, without registering anything
        (a process that leaves syncing to another)."""
        for gid in guild_ids:
            self.tree.copy_global_to(guild=discord.Object(gid))

    async def sync(self, guild_ids: Sequence[int]) -> None:
        """Register the commands: in the test servers (instant) or globally."""
        if guild_ids:
            self.prepare(guild_ids)
            for gid in guild_ids:
                guild = discord.Object(gid)
                synced = await self.tree.sync(guild=guild)
                log.info("discord: synced %d commands to server %s", len(synced), gid)
        else:
            synced = await self.tree.sync()
            log.info("discord: synced %d global commands", len(synced))

    # --- running --------------------------------------------------------------------------
    async def run(
        self, interaction: discord.Interaction[Any], spec: CommandSpec, args: dict[str, Any]
    ) -> None:
        ctx = InteractionContext(self.adapter, interaction, self.ack_after_s)
        task = asyncio.current_task()
        if task is not None:
            self._running.add(task)
        ctx.arm()
        try:
            await self.adapter.host.dispatcher.invoke(ctx, spec, args)
            await ctx.finish()
        finally:
            ctx.disarm()
            if task is not None:
                self._running.discard(task)

    async def run_on_message(
        self, interaction: discord.Interaction[Any], spec: CommandSpec, message: discord.Message
    ) -> None:
        link_param = next((p for p in spec.params if p.kind == "url"), None)
        if link_param is None:
            await self.run(interaction, spec, {})
            return
        if spec.moderator and not is_moderator(interaction):
            await interaction.response.send_message(
                f"Only moderators can use {spec.context_menu} (it needs Manage Messages).",
                ephemeral=True,
            )
            return
        url = await self._link_in(message, own_only=spec.moderator)
        if url is None and spec.moderator:
            # Moderator menus change what the bot posted (e.g. a content warning edits the
            # thread in place), so they act on the bot's own unrolled messages.
            await interaction.response.send_message(
                f"Use {spec.context_menu} on a message the bot posted for an unrolled thread "
                f"(its header or one of its posts), or use /{spec.name} with a link.",
                ephemeral=True,
            )
            return
        if url is None:
            await interaction.response.send_message(
                "That message has no link to a post on Bluesky, a Mastodon-compatible server or X.",
                ephemeral=True,
            )
            return
        args: dict[str, Any] = {link_param.name: url}
        ask = [p for p in spec.params if p is not link_param and p.kind in _TEXT_PARAMS]
        if not ask:
            await self.run(interaction, spec, args)
            return
        suggestions = {}
        for p in ask:
            source = self._suggestions(spec, p)
            if source is not None and p.kind != "choice":
                try:
                    found = await source(InteractionContext(self.adapter, interaction, 0), "")
                    suggestions[p.name] = [str(v[0] if isinstance(v, tuple) else v) for v in found]
                except Exception:
                    log.exception("discord: suggestions for the modal failed")

        async def submitted(
            modal_interaction: discord.Interaction[Any], values: dict[str, Any]
        ) -> None:
            await self.run(modal_interaction, spec, {**args, **values})

        modal = _ParamModal(spec.context_menu or spec.name, ask, submitted, suggestions)
        await interaction.response.send_modal(modal)

    async def _link_in(self, message: discord.Message, *, own_only: bool = False) -> str | None:
        """The thread a message is about: for the bot's own messages the delivery it belongs
        to; otherwise (unless ``own_only``) the first supported link in its text or embeds."""
        host = self.adapter.host
        me = self.adapter.client.user
        if me is not None and message.author.id == me.id:
            thread_url = await host.thread_of_message(self.adapter.name, str(message.id))
            if thread_url is not None:
                return thread_url
        if own_only:
            return None
        texts = [message.content] + [e.url or "" for e in message.embeds]
        for text in texts:
            # The same link finder as everywhere else: a link copied with the sentence's
            # closing "." or ")" still works.
            found = host.find_links(text or "")
            if found:
                return found[0]
        return None

    async def drain(self, within: float) -> None:
        """Wait (up to ``within`` seconds) for running commands, e.g. on shutdown."""
        running = [t for t in self._running if t is not asyncio.current_task()]
        if running:
            await asyncio.wait(running, timeout=within)

    async def _on_tree_error(
        self, interaction: discord.Interaction[Any], error: app_commands.AppCommandError
    ) -> None:
        if isinstance(error, app_commands.CommandNotFound | app_commands.CommandSignatureMismatch):
            text = "That command changed since Discord last loaded it; try again in a minute."
        else:
            log.error("discord: command failed", exc_info=error)
            text = "Sorry, something went wrong on our side. The problem has been logged."
        try:
            if interaction.response.is_done():
                await interaction.followup.send(text, ephemeral=True)
            else:
                await interaction.response.send_message(text, ephemeral=True)
        except discord.HTTPException:
            pass


__all__ = ["CommandBinder", "InteractionContext", "is_moderator"]
