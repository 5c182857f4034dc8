"""Discord through discord.py: slash commands, context menus and modals in, messages and
threads out.

Commands come from the cogs' declarations (see ``commands.py``); this module owns
the client's life cycle and the ChatAdapter side: sending Messages as Discord markdown
chunks, starting a thread from a header message, editing in place. Every send passes
``AllowedMentions.none()`` so copied text never pings anyone. Only the non-privileged
``guilds`` intent is used: slash commands need no message content.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal

import aiohttp
import discord
import yarl

from bot.adapters.discord.commands import CommandBinder
from bot.adapters.discord.format import MAX_CONTENT, NO_MENTIONS, api_base, nonce_for, render
from bot.adapters.discord.shards import (
    INVALID_SHARD,
    SHARDING_REQUIRED,
    IdentifyPacer,
    ShardPlan,
    explain_close,
)
from bot.context import MessageRef, Room
from bot.errors import ConfigError, PermissionDenied
from bot.http import connect_failure
from bot.render.document import Capabilities, Message

if TYPE_CHECKING:
    from bot.config import DiscordConfig
    from bot.host import AdapterHost

log = logging.getLogger(__name__)
# The bot never joins voice: the library's start-up warnings about voice packages are noise.
logging.getLogger("discord.client").addFilter(
    lambda record: "voice will NOT be supported" not in record.getMessage()
)

NAME = "discord"
THREAD_ARCHIVE_MINUTES: Literal[60, 1440, 4320, 10080] = 1440
# A left-over chunk after an edit that got shorter (Discord refuses an empty message).
BLANK = "-# (continued above)"


# Discord's own addresses, kept before anything points the library elsewhere.
_DISCORD_API = discord.http.Route.BASE
_DISCORD_GATEWAY = discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY


class _Events:
    """The events the adapter handles, shared by the plain and the sharded client."""

    adapter: DiscordAdapter

    async def setup_hook(self) -> None:
        await self.adapter.setup()

    async def on_ready(self) -> None:
        await self.adapter.on_ready()


class _Client(_Events, discord.Client):
    def __init__(self, adapter: DiscordAdapter, **options: Any) -> None:
        super().__init__(**options)
        self.adapter = adapter


class _ShardedClient(_Events, discord.AutoShardedClient):
    def __init__(self, adapter: DiscordAdapter, plan: ShardPlan, **options: Any) -> None:
        super().__init__(shard_count=plan.count, shard_ids=list(plan.runs), **options)
        self.adapter = adapter

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        await self.adapter.pacer.wait(shard_id or 0)

    async def on_shard_ready(self, shard_id: int) -> None:
        log.info("discord: shard %d of %d ready", shard_id, self.adapter.plan.count)


def _client(adapter: DiscordAdapter, guild_ready_timeout: float) -> discord.Client:
    options: dict[str, Any] = {
        "intents": discord.Intents(guilds=True),
        "allowed_mentions": NO_MENTIONS,
        "guild_ready_timeout": guild_ready_timeout,
    }
    if adapter.plan.sharded:
        return _ShardedClient(adapter, adapter.plan, **options)
    return _Client(adapter, **options)


class DiscordAdapter:
    """Runs the discord.py client and implements ChatAdapter for the cogs."""

    name = NAME
    capabilities = Capabilities(
        max_length=MAX_CONTENT, markup="markdown", spoilers=True, threads=True, edits=True
    )

    def __init__(
        self,
        host: AdapterHost,
        token: str,
        *,
        test_guild_ids: list[int] | None = None,
        api_base_url: str = "",
        gateway_url: str = "",
        guild_ready_timeout: float = 2.0,
        ack_after_s: float = 1.5,  # defer for a quiet handler well before the 3 s
        shards: ShardPlan | None = None,
    ) -> None:
        self.host = host
        self.plan = shards or ShardPlan()
        # One identify per window until setup learns Discord's max_concurrency.
        self.pacer = IdentifyPacer()
        self.recommended_shards: int | None = None
        self.token = token
        self.test_guild_ids = list(test_guild_ids or [])
        # discord.py reads these two class attributes when it connects; they are the only
        # settings that point the unmodified library at a proxy (or a test server).
        discord.http.Route.BASE = api_base(api_base_url) if api_base_url else _DISCORD_API
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = (
            yarl.URL(gateway_url) if gateway_url else _DISCORD_GATEWAY
        )
        self.client = _client(self, guild_ready_timeout)
        self.binder = CommandBinder(self, ack_after_s=ack_after_s)
        self.ready = asyncio.Event()
        self.synced = asyncio.Event()
        # Channel id -> guild id, for links to messages and threads.
        self._guild_of: dict[str, str] = {}
        self._closing = False
        self._resumed = False
        self._resume_task: asyncio.Task[int] | None = None

    @classmethod
    def from_config(
        cls, host: AdapterHost, config: DiscordConfig, env: Mapping[str, str] | None = None
    ) -> DiscordAdapter:
        env = os.environ if env is None else env
        token = env.get(config.token_env, "").strip()
        if not token:
            raise ConfigError(
                f"discord.enabled is true but the environment variable {config.token_env} "
                "(named by discord.token_env) is not set; put the bot token there."
            )
        return cls(
            host,
            token,
            test_guild_ids=list(config.test_guild_ids),
            api_base_url=config.api_base_url,
            gateway_url=config.gateway_url,
            shards=ShardPlan(config.shard_count, tuple(config.shard_ids)),
        )

    @classmethod
    def from_host(cls, host: AdapterHost, env: Mapping[str, str] | None = None) -> DiscordAdapter:
        return cls.from_config(host, host.config.discord, env)

    # --- life cycle -------------------------------------------------------------------------
    async def setup(self) -> None:
        self.binder.install(self.host.dispatcher.specs.values())
        if self.plan.sharded:
            await self._learn_gateway_limits()
        if self.plan.syncs_commands:
            await self.binder.sync(self.test_guild_ids)
        else:
            # Commands belong to the application: one process registers them, the others
            # answer them (the local command tree is the same everywhere).
            self.binder.prepare(self.test_guild_ids)
            log.info(
                "discord: running %s; the process running shard 0 syncs the commands",
                self.plan.describe(),
            )
        self.synced.set()

    async def _learn_gateway_limits(self) -> None:
        try:
            shards, _, limits = await self.client.http.get_bot_gateway()
        except discord.GatewayNotFound:
            # Only advice: the shards connect without it, one identify per window.
            log.warning("discord: could not ask Discord for its shard limits; using defaults")
            return
        self.recommended_shards = shards
        self.pacer = IdentifyPacer(int(limits.get("max_concurrency") or 1))
        log.info("discord: running %s (Discord recommends %d)", self.plan.describe(), shards)
        if shards > self.plan.count:
            log.warning(
                "discord: shard_count %d is below the %d shards Discord recommends; set "
                "[discord] shard_count = %d in every process before Discord requires it",
                self.plan.count,
                shards,
                shards,
            )

    @property
    def latency(self) -> float:
        """Seconds between a heartbeat and its answer (averaged over this process's shards)."""
        return self.client.latency

    async def on_ready(self) -> None:
        # With shards, discord.py reports ready once every shard of this process is.
        for guild in self.client.guilds:
            for channel in guild.channels:
                self._guild_of[str(channel.id)] = str(guild.id)
        self.ready.set()
        log.info(
            "discord: ready as %s in %d servers (%s)",
            self.client.user,
            len(self.client.guilds),
            self.plan.describe(),
        )
        if not self._resumed:
            # Once per process: finish deliveries a restart interrupted (nonces keep the
            # message that was in flight from posting twice).
            self._resumed = True
            self._resume_task = asyncio.create_task(self.host.resume_pending(self))

    async def run(self) -> None:
        try:
            await self.client.start(self.token)
        except discord.LoginFailure as exc:
            raise ConfigError(f"Discord refused the bot token: {exc}") from None
        except discord.ConnectionClosed as exc:
            if exc.code not in (INVALID_SHARD, SHARDING_REQUIRED):
                raise
            recommended = self.recommended_shards or await self._ask_recommended_shards()
            explained = explain_close(exc.code, self.plan, recommended)
            raise ConfigError(explained or str(exc)) from None
        except (aiohttp.ClientConnectionError, OSError, TimeoutError) as exc:
            # discord.py retries a dropped gateway itself; this is the first connection.
            where = discord.http.Route.BASE
            raise ConfigError(
                f"cannot reach Discord at {where} (check the network, or discord.api_base_url):"
                f" {connect_failure(exc)}"
            ) from None
        finally:
            await self.close()

    async def _ask_recommended_shards(self) -> int | None:
        """Discord's recommended shard count, on a connection of its own (the client's is
        closed once the gateway refused it)."""
        http = discord.http.HTTPClient(asyncio.get_running_loop())
        try:
            await http.static_login(self.token)
            shards, _, _ = await http.get_bot_gateway()
            return shards
        except (discord.DiscordException, aiohttp.ClientError, OSError, TimeoutError):
            return None
        finally:
            await http.close()

    async def close(self) -> None:
        """Let running commands finish (briefly), then close the connection."""
        if self._closing:
            return
        self._closing = True
        await self.binder.drain(10.0)
        if self._resume_task is not None and not self._resume_task.done():
            # Resumed deliveries are recorded in the outbox: stopping them loses nothing,
            # while letting them run on would write to a database about to close.
            self._resume_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._resume_task
        with contextlib.suppress(Exception):
            await self.client.close()

    # --- rooms ----------------------------------------------------------------------------
    def room_for(self, channel: Any, guild_id: int | None) -> Room:
        channel_id = str(getattr(channel, "id", "") or "")
        scope = str(guild_id) if guild_id else f"dm:{channel_id}"
        if guild_id:
            self._guild_of[channel_id] = str(guild_id)
        return Room(NAME, scope, channel_id)

    def _messageable(self, channel_id: str) -> discord.PartialMessageable:
        guild = self._guild_of.get(channel_id)
        return self.client.get_partial_messageable(
            int(channel_id), guild_id=int(guild) if guild else None
        )

    # --- ChatAdapter --------------------------------------------------------------------------
    async def send(
        self,
        room: Room,
        message: Message,
        *,
        thread: MessageRef | None = None,
        key: str | None = None,
    ) -> list[MessageRef]:
        channel_id = (thread.thread_id if thread else None) or room.channel
        if room.scope.isdigit():
            # A channel of a server on another shard is not in this process's cache; the
            # room still says which server it is in (for links to what is sent).
            self._guild_of.setdefault(room.channel, room.scope)
        if thread is not None and thread.thread_id:
            self._guild_of.setdefault(thread.thread_id, self._guild_of.get(room.channel, ""))
        target = self._messageable(channel_id)
        refs = []
        for i, content in enumerate(render(message)):
            kwargs: dict[str, Any] = {}
            if key is not None:
                # Discord answers a repeated nonce with the first message: a resumed
                # delivery does not post the same chunk twice.
                # (discord.py always sends enforce_nonce with a nonce).
                kwargs = {"nonce": nonce_for(key, i)}
            try:
                sent = await target.send(content, allowed_mentions=NO_MENTIONS, **kwargs)
            except discord.Forbidden:
                raise PermissionDenied(
                    "I cannot post in this channel. Give the bot Send Messages (and Send "
                    "Messages in Threads) here, or unroll with private:true."
                ) from None
            refs.append(
                MessageRef(
                    NAME,
                    room.channel,
                    str(sent.id),
                    thread.thread_id if thread is not None else None,
                )
            )
        return refs

    async def start_thread(self, room: Room, header: MessageRef, name: str) -> MessageRef:
        name = _thread_title(name)
        channel = self.client.get_channel(int(room.channel))
        if channel is None:
            with contextlib.suppress(discord.HTTPException):
                channel = await self.client.fetch_channel(int(room.channel))
        if isinstance(channel, discord.Thread):
            # Threads do not nest: the posts follow the header in the same thread.
            return MessageRef(NAME, room.channel, header.message_id, room.channel)
        if not isinstance(channel, discord.TextChannel):
            # Voice text chats, DMs: no threads, the posts follow the header.
            return MessageRef(NAME, room.channel, header.message_id, None)
        try:
            created = await channel.create_thread(
                name=name,
                message=discord.Object(int(header.message_id)),
                auto_archive_duration=THREAD_ARCHIVE_MINUTES,
            )
        except discord.Forbidden:
            raise PermissionDenied(
                "I cannot start threads in this channel. Give the bot Create Public Threads "
                "and Send Messages in Threads here, or unroll with private:true."
            ) from None
        self._guild_of[str(created.id)] = str(channel.guild.id)
        return MessageRef(NAME, room.channel, header.message_id, str(created.id))

    async def rename_thread(self, thread: MessageRef, name: str) -> None:
        if not thread.thread_id or thread.thread_id == thread.channel:
            return  # unrolled inside someone's thread: its title is not ours
        channel = self.client.get_channel(int(thread.thread_id))
        if channel is None:
            with contextlib.suppress(discord.HTTPException):
                channel = await self.client.fetch_channel(int(thread.thread_id))
        me = self.client.user
        if not isinstance(channel, discord.Thread) or me is None or channel.owner_id != me.id:
            return
        name = _thread_title(name)
        if channel.name == name:
            return
        # An archived thread only takes a new title when it is opened again.
        await channel.edit(name=name, archived=False)

    async def edit(self, refs: list[MessageRef], message: Message) -> list[MessageRef]:
        if not refs:
            return []
        contents = render(message)
        channel_id = refs[0].thread_id or refs[0].channel
        target = self._messageable(channel_id)
        out: list[MessageRef] = []
        for i, ref in enumerate(refs):
            content = contents[i] if i < len(contents) else BLANK
            msg = target.get_partial_message(int(ref.message_id))
            try:
                await msg.edit(content=content, allowed_mentions=NO_MENTIONS)
            except discord.NotFound:
                # Someone deleted it; the other chunks are still worth updating.
                log.info("discord: message %s is gone; not edited", ref.message_id)
            out.append(ref)
        for content in contents[len(refs) :]:
            # The message grew: the extra chunks follow in the same channel or thread.
            sent = await target.send(content, allowed_mentions=NO_MENTIONS)
            out.append(MessageRef(NAME, refs[0].channel, str(sent.id), refs[0].thread_id))
        return out

    def link_to(self, ref: MessageRef) -> str | None:
        guild = self._guild_of.get(ref.channel) or self._guild_of.get(ref.thread_id or "")
        if not guild:
            return None
        if ref.thread_id and ref.thread_id != ref.channel:
            return f"https://discord.com/channels/{guild}/{ref.thread_id}"
        if not ref.message_id:
            return f"https://discord.com/channels/{guild}/{ref.channel}"
        return f"https://discord.com/channels/{guild}/{ref.channel}/{ref.message_id}"


def _thread_title(name: str) -> str:
    return (" ".join(name.split()) or "Thread")[:100]


def build(host: AdapterHost, env: Mapping[str, str] | None = None) -> DiscordAdapter:
    """The adapter from ``host.config.discord`` (raises ConfigError without a token)."""
    return DiscordAdapter.from_host(host, env)


__all__ = ["DiscordAdapter", "build"]
