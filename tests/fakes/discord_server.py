"""A protocol-level fake Discord: REST under ``/api/v10`` and a gateway websocket, on 127.0.0.1.

The unmodified discord.py client is pointed at it through ``discord.http.Route.BASE`` and
``discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY`` (``rest_base`` / ``gateway_url`` here).
It behaves like Discord where a bot would notice: the 3-second interaction deadline (10062),
the 2000-character content limit and other message limits (400 with Discord's error body),
``Content-Type: application/json`` exactly, sessions that RESUME after a dropped socket, and
the message-content intent. It never answers 5xx (discord.py would sleep and retry); routes
it does not know get a Discord-shaped 404 and are kept in ``unknown`` so a test can assert
there were none. Every REST call is recorded in ``calls`` with its route, JSON and files.

Tests drive the bot with ``slash()``, ``context_menu()``, ``autocomplete()`` and
``modal_submit()``, which send INTERACTION_CREATE over the gateway built from the command
schema the bot synced (an unsynced command cannot be invoked, as on Discord).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import math
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import WSMsgType, web

from tests.fakes.base import FakeServer, Fault

API = "/api/v10"
MANAGE_MESSAGES = 1 << 13
ADMINISTRATOR = 1 << 3
# Permissions of an ordinary member: view, send, read history, use app commands, threads.
MEMBER_PERMISSIONS = (1 << 10) | (1 << 11) | (1 << 16) | (1 << 31) | (1 << 35) | (1 << 38)
MODERATOR_PERMISSIONS = MEMBER_PERMISSIONS | MANAGE_MESSAGES
INTENT_GUILD_MESSAGES = 1 << 9
INTENT_MESSAGE_CONTENT = 1 << 15
INTERACTION_DEADLINE_S = 3.0
INTERACTION_TOKEN_TTL_S = 15 * 60
ARCHIVE_DURATIONS = (60, 1440, 4320, 10080)
EPHEMERAL = 1 << 6
LOADING = 1 << 7
COMMAND_ROUTES = (
    "/applications/{app_id}/commands",
    "/applications/{app_id}/guilds/{guild_id}/commands",
)
OPTION_TYPES = {1: "subcommand", 2: "group", 3: "string", 4: "integer", 5: "boolean"}


@dataclass
class RestCall:
    method: str
    route: str  # the template, e.g. "/channels/{channel_id}/messages"
    path: str
    query: dict[str, str]
    json: Any
    files: list[dict[str, Any]]
    status: int = 0
    at: float = 0.0


@dataclass
class InteractionRecord:
    """One interaction sent to the bot and everything the bot answered to it."""

    id: str
    token: str
    type: int
    payload: dict[str, Any]
    created: float
    callback: dict[str, Any] | None = None
    callback_at: float | None = None
    original: dict[str, Any] | None = None
    original_edits: list[dict[str, Any]] = field(default_factory=list)
    followups: list[dict[str, Any]] = field(default_factory=list)
    late_callback: bool = False
    acknowledged: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def callback_type(self) -> int | None:
        return None if self.callback is None else int(self.callback["type"])

    @property
    def ephemeral(self) -> bool:
        if self.callback is None:
            return False
        data = self.callback.get("data") or {}
        return bool(int(data.get("flags") or 0) & EPHEMERAL)

    def texts(self) -> list[str]:
        """Everything the user saw in answer: callback message, final original, followups."""
        out: list[str] = []
        if self.original is not None and self.original.get("content"):
            out.append(self.original["content"])
        out.extend(f["content"] for f in self.followups if f.get("content"))
        return out


@dataclass
class GatewaySession:
    id: str
    seq: int = 0
    intents: int = 0
    # [shard_id, shard_count] from IDENTIFY ([0, 1] without sharding).
    shard: tuple[int, int] = (0, 1)
    # Every dispatch with its sequence number, replayed on RESUME.
    sent: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    socket: web.WebSocketResponse | None = None


class DiscordError(Exception):
    def __init__(
        self,
        status: int,
        code: int,
        message: str,
        errors: Any = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.headers = headers
        self.body: dict[str, Any] = {"message": message, "code": code}
        if errors is not None:
            self.body["errors"] = errors


def _too_long(field_path: str, limit: int) -> DiscordError:
    parts = field_path.split(".")
    errors: dict[str, Any] = {
        "_errors": [
            {"code": "BASE_TYPE_MAX_LENGTH", "message": f"Must be {limit} or fewer in length."}
        ]
    }
    for part in reversed(parts):
        errors = {part: errors}
    return DiscordError(400, 50035, "Invalid Form Body", errors)


def _invalid(field_path: str, message: str) -> DiscordError:
    errors: dict[str, Any] = {"_errors": [{"code": "BASE_TYPE_INVALID", "message": message}]}
    for part in reversed(field_path.split(".")):
        errors = {part: errors}
    return DiscordError(400, 50035, "Invalid Form Body", errors)


def _iso(ts: float | None = None) -> str:
    return datetime.fromtimestamp(ts if ts is not None else time.time(), UTC).isoformat()


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    # Exactly "application/json": discord.py compares the header with ==.
    return web.Response(
        status=status,
        body=json.dumps(data).encode(),
        content_type="application/json",
        headers=headers,
    )


MENTION_RE = re.compile(r"<@[!&]?\d+>|@everyone|@here")


class FakeDiscord(FakeServer):
    def __init__(self, *, token: str = "fake-bot-token", latency_s: float = 0.0) -> None:
        super().__init__(latency_s=latency_s)
        self.token = token
        self._ids = itertools.count(1_100_000_000_000_000_000)
        self.application_id = self.snowflake()
        self.bot_user: dict[str, Any] = self.user_payload(
            self.application_id, "unrollbot", bot=True
        )
        self.owner = self.user_payload(self.snowflake(), "owner")
        # Servers get ids of their own, high enough to never meet the counter above, so a
        # test can place one on the shard it wants (see ``add_guild``).
        self._guild_ids = itertools.count((1_300_000_000_000_000_000 >> 22) + 1)
        self.guilds: dict[str, dict[str, Any]] = {}
        self.channels: dict[str, dict[str, Any]] = {}
        self.guild_id, self.channel_id = self.add_guild("Test server")
        self.members: dict[str, dict[str, Any]] = {}
        self.bot_member = self.add_member(self.bot_user, MODERATOR_PERMISSIONS, store=True)
        self.calls: list[RestCall] = []
        self.unknown: list[RestCall] = []
        self.messages: dict[str, dict[str, Any]] = {}
        self.threads: dict[str, dict[str, Any]] = {}
        self.global_commands: list[dict[str, Any]] = []
        self.guild_commands: dict[str, list[dict[str, Any]]] = {}
        self.interactions: dict[str, InteractionRecord] = {}
        self.sessions: dict[str, GatewaySession] = {}
        self.identifies = 0
        # [shard_id, shard_count] of every IDENTIFY, accepted or not, in order.
        self.identified_shards: list[tuple[int, int]] = []
        self.identify_times: list[float] = []
        # Discord refuses a session with more servers than this (close 4011) and advises
        # ``recommended_shards`` in GET /gateway/bot (None: one per 1,000 servers, or per
        # max_guilds_per_shard when that is lower).
        self.max_guilds_per_shard = 2500
        self.recommended_shards: int | None = None
        self.max_concurrency = 1
        # Discord starts one session per bucket (shard id % max_concurrency) per 5 s over all
        # the bot's connections. The next ``identify_rate_limited`` IDENTIFYs arrive as if
        # another process had just identified: refused with op 9, their times recorded.
        self.identify_rate_limited = 0
        self.identify_refusals: list[float] = []
        self.resumes: list[str] = []  # paths the RESUME arrived on
        self.gateway_paths: list[str] = []
        self.identified = asyncio.Event()
        # (method, route template) the bot lacks the permission for: 403 Missing Permissions.
        self.forbidden: set[tuple[str, str]] = set()
        # Per-channel message bucket (limit, window in seconds): Discord's 5 per 5 s, on
        # by default; a test may scale it down or turn it off with None. Real time:
        # discord.py sleeps on the headers it is given.
        self.message_bucket: tuple[int, float] | None = (5, 5.0)
        self._bucket_hits: dict[str, list[float]] = {}
        self.rate_limited: list[RestCall] = []
        self._clock_offset = 0.0

    # --- clock ----------------------------------------------------------------------------
    def now(self) -> float:
        return time.monotonic() + self._clock_offset

    def advance(self, seconds: float) -> None:
        """Move the fake's clock forward (interaction deadlines) without sleeping."""
        self._clock_offset += seconds

    # --- addresses ------------------------------------------------------------------------
    @property
    def rest_base(self) -> str:
        return f"{self.base_url}{API}"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/gateway"

    # --- payload builders -----------------------------------------------------------------
    def snowflake(self) -> str:
        return str(next(self._ids))

    @staticmethod
    def user_payload(user_id: str, name: str, *, bot: bool = False) -> dict[str, Any]:
        return {
            "id": user_id,
            "username": name,
            "global_name": name,
            "discriminator": "0",
            "avatar": None,
            "bot": bot,
            "verified": True,
            "mfa_enabled": False,
            "flags": 0,
            "public_flags": 0,
        }

    def channel_payload(
        self, channel_id: str, name: str, guild_id: str | None = None
    ) -> dict[str, Any]:
        return {
            "id": channel_id,
            "type": 0,
            "guild_id": guild_id or self.guild_id,
            "name": name,
            "position": len(getattr(self, "channels", {})),
            "permission_overwrites": [],
            "nsfw": False,
            "parent_id": None,
            "topic": None,
            "last_message_id": None,
            "rate_limit_per_user": 0,
            "default_auto_archive_duration": 1440,
        }

    def add_member(
        self, user: dict[str, Any], permissions: int, *, store: bool = True
    ) -> dict[str, Any]:
        member = {
            "user": user,
            "roles": [],
            "joined_at": _iso(),
            "deaf": False,
            "mute": False,
            "flags": 0,
            "nick": None,
            "permissions": str(permissions),
        }
        if store:
            self.members[user["id"]] = member
        return member

    def new_user(self, name: str, *, moderator: bool = False) -> dict[str, Any]:
        """A guild member who can invoke commands (Manage Messages when moderator)."""
        user = self.user_payload(self.snowflake(), name)
        return self.add_member(user, MODERATOR_PERMISSIONS if moderator else MEMBER_PERMISSIONS)

    def add_guild(self, name: str, *, shard: tuple[int, int] | None = None) -> tuple[str, str]:
        """A server with one text channel "general" (everyone in ``members`` is in every
        server): its id and the channel's. ``shard=(id, count)`` picks an id Discord routes
        to that shard: ``(guild_id >> 22) % count == id``."""
        while True:
            high = next(self._guild_ids)
            if shard is None or high % shard[1] == shard[0]:
                break
        guild_id = str(high << 22)
        channel_id = self.snowflake()
        self.guilds[guild_id] = {"id": guild_id, "name": name}
        self.channels[channel_id] = self.channel_payload(channel_id, "general", guild_id)
        return guild_id, channel_id

    @staticmethod
    def shard_of(guild_id: str | None, count: int) -> int:
        """Discord's rule: a server's events go to shard (id >> 22) % count, DMs to 0."""
        return (int(guild_id) >> 22) % count if guild_id else 0

    def guild_of(self, channel_id: str) -> str | None:
        channel = self.channels.get(channel_id) or self.threads.get(channel_id)
        return None if channel is None else channel.get("guild_id")

    def guild_payload(self, guild_id: str | None = None) -> dict[str, Any]:
        guild_id = guild_id or self.guild_id
        return {
            "id": guild_id,
            "name": self.guilds[guild_id]["name"],
            "icon": None,
            "owner_id": self.owner["id"],
            "roles": [
                {
                    "id": guild_id,
                    "name": "@everyone",
                    "permissions": str(MEMBER_PERMISSIONS),
                    "position": 0,
                    "color": 0,
                    "hoist": False,
                    "managed": False,
                    "mentionable": False,
                    "flags": 0,
                }
            ],
            "emojis": [],
            "stickers": [],
            "features": [],
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "mfa_level": 0,
            "system_channel_flags": 0,
            "premium_tier": 0,
            "preferred_locale": "en-US",
            "nsfw_level": 0,
            "unavailable": False,
            "large": False,
            "member_count": len(self.members),
            "members": list(self.members.values()),
            "channels": [c for c in self.channels.values() if c["guild_id"] == guild_id],
            "threads": [
                t
                for t in self.threads.values()
                if t["guild_id"] == guild_id and not t["thread_metadata"]["archived"]
            ],
            "voice_states": [],
            "presences": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
            "joined_at": _iso(),
        }

    def _message(
        self,
        channel_id: str,
        author: dict[str, Any],
        body: dict[str, Any],
        *,
        flags: int = 0,
        interaction: InteractionRecord | None = None,
    ) -> dict[str, Any]:
        msg_id = self.snowflake()
        channel = self.channels.get(channel_id) or self.threads.get(channel_id)
        msg: dict[str, Any] = {
            "id": msg_id,
            "channel_id": channel_id,
            "author": author,
            "content": body.get("content") or "",
            "timestamp": _iso(),
            "edited_timestamp": None,
            "tts": False,
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": [],
            "embeds": body.get("embeds") or [],
            "components": body.get("components") or [],
            "pinned": False,
            "type": 0 if interaction is None else 20,
            "flags": flags | int(body.get("flags") or 0),
            "allowed_mentions": body.get("allowed_mentions"),
        }
        if channel is not None and channel.get("guild_id"):
            msg["guild_id"] = channel["guild_id"]
        if interaction is not None:
            msg["webhook_id"] = self.application_id
            msg["application_id"] = self.application_id
            msg["interaction_metadata"] = {
                "id": interaction.id,
                "type": interaction.type,
                "user": interaction.payload["member"]["user"],
                "authorizing_integration_owners": {},
            }
        self.messages[msg_id] = msg
        return msg

    @staticmethod
    def public(msg: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in msg.items() if k != "allowed_mentions"}

    # --- queries for tests ----------------------------------------------------------------
    def calls_to(self, method: str, route: str) -> list[RestCall]:
        return [c for c in self.calls if c.method == method and c.route == route]

    @property
    def command_syncs(self) -> list[RestCall]:
        """Every bulk registration of commands (global or per server), in order."""
        return [c for c in self.calls if c.method == "PUT" and c.route in COMMAND_ROUTES]

    def channel_messages(self, channel_id: str) -> list[dict[str, Any]]:
        """Messages in a channel or thread, oldest first (ephemeral ones are not in it)."""
        return [
            m
            for m in self.messages.values()
            if m["channel_id"] == channel_id and not m["flags"] & EPHEMERAL
        ]

    def sent_payloads(self) -> list[Any]:
        """Every message body the bot sent or edited (channel, webhook and callback)."""
        out: list[Any] = []
        for c in self.calls:
            if not isinstance(c.json, dict):
                continue
            if c.route.endswith("/callback"):
                data = c.json.get("data")
                if c.json.get("type") in (4, 7) and data:
                    out.append(data)
            elif c.route == "/webhooks/{app_id}/{token}" or (
                c.method in ("POST", "PATCH")
                and "messages" in c.route
                and not c.route.endswith("/threads")
            ):
                out.append(c.json)
        return out

    @staticmethod
    def would_ping(body: dict[str, Any]) -> list[str]:
        """Mentions in the body that Discord would turn into pings."""
        allowed = body.get("allowed_mentions")
        found = MENTION_RE.findall(body.get("content") or "")  # text in embeds never pings
        if allowed is None:
            return found
        parse = set(allowed.get("parse", []))
        pings = []
        for m in found:
            kind = (
                "everyone"
                if m in ("@everyone", "@here")
                else "roles"
                if m.startswith("<@&")
                else "users"
            )
            if kind in parse:
                pings.append(m)
        return pings

    # --- gateway --------------------------------------------------------------------------
    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self.gateway_paths.append(request.path)
        await ws.send_json({"op": 10, "d": {"heartbeat_interval": 41250}, "s": None, "t": None})
        session: GatewaySession | None = None
        async for msg in ws:
            if msg.type != WSMsgType.TEXT:
                continue
            frame = json.loads(msg.data)
            op, d = frame.get("op"), frame.get("d")
            if op == 1:
                await ws.send_json({"op": 11, "d": None, "s": None, "t": None})
            elif op == 2:
                if d.get("token") != self.token:
                    await ws.close(code=4004, message=b"Authentication failed.")
                    break
                shard = d.get("shard") or [0, 1]
                refusal = self._refuse_shard(shard)
                if refusal is not None:
                    await ws.close(code=refusal[0], message=refusal[1])
                    break
                if self.identify_rate_limited > 0:
                    # Discord's answer to an IDENTIFY over the rate: a session that cannot
                    # be resumed; the client identifies again later.
                    self.identify_rate_limited -= 1
                    self.identify_refusals.append(time.monotonic())
                    await ws.send_json({"op": 9, "d": False, "s": None, "t": None})
                    continue
                self.identifies += 1
                session = GatewaySession(
                    self.snowflake(), intents=int(d.get("intents", 0)), shard=(shard[0], shard[1])
                )
                self.sessions[session.id] = session
                session.socket = ws
                await self._send(session, "READY", self._ready(session))
                for guild_id in self._guilds_on(session.shard):
                    await self._send(session, "GUILD_CREATE", self.guild_payload(guild_id))
                self.identified.set()
            elif op == 6:
                known = self.sessions.get(d.get("session_id"))
                if d.get("token") != self.token or known is None:
                    await ws.send_json({"op": 9, "d": False, "s": None, "t": None})
                    continue
                session = known
                self.resumes.append(request.path)
                session.socket = ws
                for seq, event in session.sent:
                    if seq > int(d.get("seq") or 0):
                        await ws.send_json(event)
                await self._send(session, "RESUMED", {})
            elif op == 8:
                # Every member is in GUILD_CREATE already; answer the chunk request anyway.
                await self._send(
                    session,
                    "GUILD_MEMBERS_CHUNK",
                    {
                        "guild_id": d.get("guild_id") or self.guild_id,
                        "members": list(self.members.values()),
                        "chunk_index": 0,
                        "chunk_count": 1,
                        "nonce": d.get("nonce"),
                    },
                )
        if session is not None and session.socket is ws:
            session.socket = None
        return ws

    def _refuse_shard(self, shard: Any) -> tuple[int, bytes] | None:
        """Discord's answer to an IDENTIFY's shard: 4010 when it is not [id, count] with
        0 <= id < count, 4011 when the session would hold too many servers."""
        valid = (
            isinstance(shard, list)
            and len(shard) == 2
            and all(isinstance(x, int) and not isinstance(x, bool) for x in shard)
        )
        if valid:
            self.identified_shards.append((shard[0], shard[1]))
            self.identify_times.append(time.monotonic())
        if not valid or not 0 <= shard[0] < shard[1]:
            return 4010, b"Invalid shard."
        if len(self._guilds_on((shard[0], shard[1]))) > self.max_guilds_per_shard:
            return 4011, b"Sharding required."
        return None

    def _guilds_on(self, shard: tuple[int, int]) -> list[str]:
        return [g for g in self.guilds if self.shard_of(g, shard[1]) == shard[0]]

    def _ready(self, session: GatewaySession) -> dict[str, Any]:
        return {
            "v": 10,
            "user": self.bot_user,
            "guilds": [{"id": g, "unavailable": True} for g in self._guilds_on(session.shard)],
            "session_id": session.id,
            "resume_gateway_url": f"ws://127.0.0.1:{self.port}/resume",
            "application": {"id": self.application_id, "flags": 0},
            "private_channels": [],
            "relationships": [],
            "shard": list(session.shard),
        }

    async def _send(self, session: GatewaySession | None, event: str, data: Any) -> None:
        if session is None:
            return
        session.seq += 1
        frame = {"op": 0, "t": event, "s": session.seq, "d": data}
        session.sent.append((session.seq, frame))
        if session.socket is not None and not session.socket.closed:
            try:
                await session.socket.send_json(frame)
            except (ConnectionError, RuntimeError):
                session.socket = None  # replayed on RESUME

    def sessions_for(self, guild_id: str | None) -> list[GatewaySession]:
        """The sessions Discord sends a server's events to (a DM's: shard 0's)."""
        return [
            s for s in self.sessions.values() if self.shard_of(guild_id, s.shard[1]) == s.shard[0]
        ]

    async def dispatch(self, event: str, data: Any) -> None:
        if not self.sessions:
            raise AssertionError(f"{event}: the bot has not identified on the gateway yet")
        whole_guild = event in ("GUILD_CREATE", "GUILD_UPDATE", "GUILD_DELETE")
        guild_id = data.get("id") if whole_guild else data.get("guild_id")
        for session in self.sessions_for(guild_id):
            if event.startswith("MESSAGE_") and not session.intents & INTENT_GUILD_MESSAGES:
                continue
            await self._send(session, event, data)

    async def drop_gateway(self, code: int = 4000) -> None:
        """Close every gateway socket as Discord does on a network blip; the bot resumes."""
        for session in self.sessions.values():
            if session.socket is not None:
                sock, session.socket = session.socket, None
                await sock.close(code=code)

    async def send_reconnect(self) -> None:
        """Opcode 7: Discord asks the client to reconnect and resume."""
        for session in self.sessions.values():
            if session.socket is not None:
                await session.socket.send_json({"op": 7, "d": None, "s": None, "t": None})

    async def stop(self) -> None:
        # Close gateway sockets first: the runner's cleanup waits for open handlers.
        await self.drop_gateway(code=1001)
        await super().stop()

    @property
    def connected(self) -> bool:
        return any(s.socket is not None and not s.socket.closed for s in self.sessions.values())

    # --- messages from people -------------------------------------------------------------
    async def user_message(
        self, member: dict[str, Any], content: str, channel_id: str | None = None
    ) -> dict[str, Any]:
        """A person posts in a channel; the bot sees it subject to the content intent."""
        msg = self._message(channel_id or self.channel_id, member["user"], {"content": content})
        msg.pop("allowed_mentions", None)
        for session in self.sessions_for(msg.get("guild_id")):
            if not session.intents & INTENT_GUILD_MESSAGES:
                continue
            seen = dict(msg, member={k: v for k, v in member.items() if k != "user"})
            mentioned = f"<@{self.application_id}>" in content
            if not session.intents & INTENT_MESSAGE_CONTENT and not mentioned:
                seen.update(content="", embeds=[], attachments=[], components=[])
            await self._send(session, "MESSAGE_CREATE", seen)
        return msg

    # --- interactions ---------------------------------------------------------------------
    def _commands(self, guild_id: str | None = None) -> list[dict[str, Any]]:
        return self.guild_commands.get(guild_id or self.guild_id, []) + self.global_commands

    def find_command(
        self, name: str, type_: int = 1, guild_id: str | None = None
    ) -> dict[str, Any]:
        for cmd in self._commands(guild_id):
            if cmd["name"] == name and int(cmd.get("type", 1)) == type_:
                return cmd
        raise AssertionError(f"command {name!r} (type {type_}) was never synced")

    def _interaction(
        self,
        type_: int,
        data: dict[str, Any],
        member: dict[str, Any] | None,
        channel_id: str | None,
        message: dict[str, Any] | None = None,
    ) -> InteractionRecord:
        member = member or self.new_user("someone")
        channel_id = channel_id or self.channel_id
        channel = self.channels.get(channel_id) or self.threads[channel_id]
        guild_id = channel["guild_id"]
        rec = InteractionRecord(
            id=self.snowflake(),
            token=f"itoken-{self.snowflake()}",
            type=type_,
            payload={},
            created=self.now(),
        )
        payload: dict[str, Any] = {
            "id": rec.id,
            "application_id": self.application_id,
            "type": type_,
            "data": data,
            "guild_id": guild_id,
            "guild": {"id": guild_id, "locale": "en-US", "features": []},
            "channel_id": channel_id,
            "channel": channel,
            "member": member,
            "token": rec.token,
            "version": 1,
            "app_permissions": str(MODERATOR_PERMISSIONS),
            "locale": "en-US",
            "guild_locale": "en-US",
            "entitlements": [],
            "authorizing_integration_owners": {"0": guild_id},
            "context": 0,
            "attachment_size_limit": 10 * 1024 * 1024,
        }
        if message is not None:
            payload["message"] = self.public(message)
        rec.payload = payload
        self.interactions[rec.token] = rec
        return rec

    def _options(
        self, schema: list[dict[str, Any]], values: dict[str, Any], focused: str | None
    ) -> list[dict[str, Any]]:
        by_name = {o["name"]: o for o in schema}
        out = []
        for name, value in values.items():
            if name not in by_name:
                raise AssertionError(f"option {name!r} is not in the synced schema")
            opt = by_name[name]
            item: dict[str, Any] = {"name": name, "type": opt["type"], "value": value}
            if name == focused:
                item["focused"] = True
            out.append(item)
        for opt in schema:
            if opt.get("required") and opt["name"] not in values and focused is None:
                raise AssertionError(f"required option {opt['name']!r} missing")
        return out

    def _command_data(
        self,
        name: str,
        options: dict[str, Any],
        focused: str | None = None,
        channel_id: str | None = None,
    ) -> dict[str, Any]:
        words = name.split()
        cmd = self.find_command(words[0], guild_id=self.guild_of(channel_id or self.channel_id))
        data: dict[str, Any] = {"id": cmd["id"], "name": cmd["name"], "type": 1}
        if cmd.get("guild_id"):
            data["guild_id"] = cmd["guild_id"]
        schema = cmd.get("options") or []
        container = data
        for word in words[1:]:
            sub = next((o for o in schema if o["name"] == word and o["type"] in (1, 2)), None)
            if sub is None:
                raise AssertionError(f"{name!r}: no subcommand {word!r} was synced")
            node: dict[str, Any] = {"name": word, "type": sub["type"]}
            container["options"] = [node]
            container = node
            schema = sub.get("options") or []
        container["options"] = self._options(schema, options, focused)
        return data

    async def slash(
        self,
        name: str,
        member: dict[str, Any] | None = None,
        channel_id: str | None = None,
        *,
        late_by_s: float = 0.0,
        **options: Any,
    ) -> InteractionRecord:
        """Invoke a slash command ("unroll", or "cw add" for a subcommand). ``late_by_s``:
        the event reaches the bot that long after Discord created it (a lagging gateway)."""
        data = self._command_data(name, options, channel_id=channel_id)
        rec = self._interaction(2, data, member, channel_id)
        self.advance(late_by_s)
        await self.dispatch("INTERACTION_CREATE", rec.payload)
        return rec

    def rate_limit(self, route_path: str, retry_after_s: float = 0.05, times: int = 1) -> None:
        """Answer the next ``times`` requests to ``route_path`` (e.g.
        ``/api/v10/channels/<id>/messages``) with Discord's 429. The ``Via`` header marks it
        as Discord's own (discord.py treats a 429 without it as a Cloudflare ban)."""
        body = {"message": "You are being rate limited.", "retry_after": retry_after_s}
        headers = {
            "Via": "1.1 google",
            "Retry-After": str(retry_after_s),
            "X-RateLimit-Limit": "5",
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset-After": str(retry_after_s),
            "X-RateLimit-Bucket": "fake-bucket",
            "X-RateLimit-Scope": "user",
        }
        self.inject(route_path, *[Fault(429, dict(body, **{"global": False}), headers)] * times)

    async def autocomplete(
        self,
        name: str,
        focused: str,
        member: dict[str, Any] | None = None,
        **options: Any,
    ) -> InteractionRecord:
        data = self._command_data(name, options, focused)
        rec = self._interaction(4, data, member, None)
        await self.dispatch("INTERACTION_CREATE", rec.payload)
        return rec

    async def context_menu(
        self,
        name: str,
        message: dict[str, Any],
        member: dict[str, Any] | None = None,
    ) -> InteractionRecord:
        cmd = self.find_command(name, 3, self.guild_of(message["channel_id"]))
        target = self.public(message)
        if "author" in target and target["author"]["id"] in self.members:
            target["member"] = {
                k: v for k, v in self.members[target["author"]["id"]].items() if k != "user"
            }
        data = {
            "id": cmd["id"],
            "name": name,
            "type": 3,
            "target_id": message["id"],
            "resolved": {"messages": {message["id"]: target}},
        }
        rec = self._interaction(2, data, member, message["channel_id"])
        await self.dispatch("INTERACTION_CREATE", rec.payload)
        return rec

    async def modal_submit(
        self,
        opened_by: InteractionRecord,
        values: dict[str, str | list[str]],
        member: dict[str, Any] | None = None,
    ) -> InteractionRecord:
        """Submit the modal the bot opened in answer to ``opened_by``; ``values`` by custom_id
        (a list for a select)."""
        assert opened_by.callback is not None and opened_by.callback_type == 9, "no modal"
        modal = opened_by.callback["data"]

        def submit(component: dict[str, Any]) -> dict[str, Any]:
            kind = component["type"]
            if kind == 1:
                return {"type": 1, "components": [submit(c) for c in component["components"]]}
            if kind == 18:
                return {
                    "type": 18,
                    "id": component.get("id"),
                    "component": submit(component["component"]),
                }
            cid = component.get("custom_id")
            value = values.get(cid, "") if cid else ""
            if kind == 4:
                return {"type": 4, "custom_id": cid, "value": value}
            return {"type": kind, "custom_id": cid, "values": list(value)}

        data = {
            "custom_id": modal["custom_id"],
            "components": [submit(c) for c in modal["components"]],
        }
        rec = self._interaction(
            5, data, member or opened_by.payload["member"], opened_by.payload["channel_id"]
        )
        await self.dispatch("INTERACTION_CREATE", rec.payload)
        return rec

    async def wait_acknowledged(self, rec: InteractionRecord, within: float = 5.0) -> None:
        """Wait until the bot has answered the interaction's callback (or tried, late)."""
        await asyncio.wait_for(rec.acknowledged.wait(), within)

    async def wait_for(self, predicate: Callable[[], bool], within: float = 5.0) -> None:
        deadline = time.monotonic() + within
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError("condition not reached in time")
            await asyncio.sleep(0.005)

    # --- REST -----------------------------------------------------------------------------
    def routes(self, app: web.Application) -> None:
        app.router.add_get("/gateway", self._gateway)
        app.router.add_get("/resume", self._gateway)
        table: list[tuple[str, str, Callable[..., Any]]] = [
            ("GET", "/users/@me", self._me),
            ("GET", "/oauth2/applications/@me", self._app_info),
            ("GET", "/gateway", self._gateway_info),
            ("GET", "/gateway/bot", self._gateway_info),
            ("GET", "/applications/{app_id}/commands", self._get_commands),
            ("PUT", "/applications/{app_id}/commands", self._put_commands),
            ("GET", "/applications/{app_id}/guilds/{guild_id}/commands", self._get_commands),
            ("PUT", "/applications/{app_id}/guilds/{guild_id}/commands", self._put_commands),
            ("POST", "/interactions/{interaction_id}/{token}/callback", self._callback),
            ("GET", "/webhooks/{app_id}/{token}/messages/@original", self._get_original),
            ("PATCH", "/webhooks/{app_id}/{token}/messages/@original", self._edit_original),
            ("DELETE", "/webhooks/{app_id}/{token}/messages/@original", self._delete_original),
            ("POST", "/webhooks/{app_id}/{token}", self._followup),
            ("PATCH", "/webhooks/{app_id}/{token}/messages/{message_id}", self._edit_followup),
            ("GET", "/channels/{channel_id}", self._get_channel),
            ("PATCH", "/channels/{channel_id}", self._edit_channel),
            ("POST", "/channels/{channel_id}/messages", self._create_message),
            ("GET", "/channels/{channel_id}/messages/{message_id}", self._get_message),
            ("PATCH", "/channels/{channel_id}/messages/{message_id}", self._edit_message),
            ("POST", "/channels/{channel_id}/messages/{message_id}/threads", self._thread),
            ("POST", "/channels/{channel_id}/typing", self._typing),
        ]
        for method, route, handler in table:
            app.router.add_route(method, API + route, self._wrap(route, handler))
        app.router.add_route("*", API + "/{tail:.*}", self._unknown)

    def _wrap(self, route: str, handler: Callable[..., Any]) -> Callable[..., Any]:
        async def run(request: web.Request) -> web.StreamResponse:
            call = await self._record(request, route)
            try:
                # Webhook and callback routes carry their token in the path, not a header.
                if not route.startswith(("/webhooks", "/interactions")):
                    self._auth(request)
                if (request.method, route) in self.forbidden:
                    raise DiscordError(403, 50013, "Missing Permissions")
                headers = self._take_bucket(request.method, route, request.match_info)
                status, body = await handler(request, call, **request.match_info)
            except DiscordError as err:
                status, body, headers = err.status, err.body, err.headers
            call.status = status
            if status == 429:
                self.rate_limited.append(call)
            if status == 204:
                return web.Response(status=204, headers=headers)
            return _json(body, status, headers)

        return run

    async def _record(self, request: web.Request, route: str) -> RestCall:
        payload: Any = None
        files: list[dict[str, Any]] = []
        if request.content_type.startswith("multipart/"):
            reader = await request.multipart()
            async for part in reader:
                if part.name == "payload_json":  # type: ignore[union-attr]
                    payload = json.loads(await part.text())  # type: ignore[union-attr]
                else:
                    data = await part.read()  # type: ignore[union-attr]
                    files.append(
                        {
                            "field": part.name,
                            "filename": part.filename,  # type: ignore[union-attr]
                            "size": len(data),
                        }
                    )
        elif request.can_read_body:
            raw = await request.read()
            if raw:
                payload = json.loads(raw)
        call = RestCall(
            request.method,
            route,
            request.path.removeprefix(API),
            dict(request.query),
            payload,
            files,
            at=self.now(),
        )
        self.calls.append(call)
        return call

    def _take_bucket(
        self, method: str, route: str, params: Mapping[str, str]
    ) -> dict[str, str] | None:
        """Count a message send against its channel's bucket; answer with Discord's
        rate-limit headers, or a 429 when the bucket is empty."""
        if self.message_bucket is None or (method, route) != (
            "POST",
            "/channels/{channel_id}/messages",
        ):
            return None
        limit, window = self.message_bucket
        now = time.monotonic()
        channel = params["channel_id"]
        # A fixed window, as Discord's buckets: it opens with the first message and, once
        # its time is up, the whole limit comes back at once.
        hits = self._bucket_hits.get(channel, [])
        if hits and now - hits[0] >= window:
            hits = []
        self._bucket_hits[channel] = hits
        reset_after = window - (now - hits[0]) if hits else window
        headers = {
            "X-RateLimit-Limit": str(limit),
            "X-RateLimit-Bucket": f"messages-{channel}",
            "X-RateLimit-Reset": f"{time.time() + reset_after:.3f}",
            "X-RateLimit-Reset-After": f"{reset_after:.3f}",
        }
        if len(hits) >= limit:
            # Discord's answer: whole seconds in Retry-After, the exact wait in the body and
            # in X-RateLimit-Reset-After, the scope only on a 429, and Via marking it as
            # Discord's own (discord.py takes a 429 without Via for a Cloudflare ban).
            headers.update(
                {
                    "X-RateLimit-Remaining": "0",
                    "X-RateLimit-Scope": "user",
                    "Retry-After": str(math.ceil(reset_after)),
                    "Via": "1.1 google",
                }
            )
            err = DiscordError(429, 0, "You are being rate limited.", headers=headers)
            err.body = {
                "message": "You are being rate limited.",
                "retry_after": round(reset_after, 3),
                "global": False,
            }
            raise err
        hits.append(now)
        headers["X-RateLimit-Remaining"] = str(limit - len(hits))
        return headers

    def _auth(self, request: web.Request) -> None:
        if request.headers.get("Authorization") != f"Bot {self.token}":
            raise DiscordError(401, 0, "401: Unauthorized")

    async def _unknown(self, request: web.Request) -> web.Response:
        call = await self._record(request, "?")
        call.status = 404
        self.unknown.append(call)
        return _json({"message": "404: Not Found", "code": 0}, 404)

    async def _me(self, request: web.Request, call: RestCall) -> tuple[int, Any]:
        return 200, self.bot_user

    async def _app_info(self, request: web.Request, call: RestCall) -> tuple[int, Any]:
        return 200, {
            "id": self.application_id,
            "name": "unrollbot",
            "icon": None,
            "description": "",
            "bot_public": True,
            "bot_require_code_grant": False,
            "verify_key": "0" * 64,
            "owner": self.owner,
            "flags": 0,
            "interactions_endpoint_url": None,
            "bot": self.bot_user,
        }

    async def _gateway_info(self, request: web.Request, call: RestCall) -> tuple[int, Any]:
        per_shard = min(1000, self.max_guilds_per_shard)
        shards = self.recommended_shards or max(1, math.ceil(len(self.guilds) / per_shard))
        return 200, {
            "url": f"ws://127.0.0.1:{self.port}",
            "shards": shards,
            "session_start_limit": {
                "total": 1000,
                "remaining": 999,
                "reset_after": 0,
                "max_concurrency": self.max_concurrency,
            },
        }

    def _check_app(self, app_id: str) -> None:
        if app_id != self.application_id:
            raise DiscordError(403, 50001, "Missing Access")

    async def _get_commands(
        self, request: web.Request, call: RestCall, app_id: str, guild_id: str | None = None
    ) -> tuple[int, Any]:
        self._check_app(app_id)
        if guild_id is None:
            return 200, self.global_commands
        return 200, self.guild_commands.get(guild_id, [])

    async def _put_commands(
        self, request: web.Request, call: RestCall, app_id: str, guild_id: str | None = None
    ) -> tuple[int, Any]:
        self._check_app(app_id)
        if guild_id is not None and guild_id not in self.guilds:
            raise DiscordError(403, 50001, "Missing Access")
        body = call.json
        if not isinstance(body, list):
            raise _invalid("_root", "Expected an array.")
        if len(body) > 100:
            raise _invalid("_root", "Must be 100 or fewer in length.")
        out = []
        for i, cmd in enumerate(body):
            name = cmd.get("name", "")
            kind = int(cmd.get("type", 1))
            if (kind == 1 and not re.fullmatch(r"[-_\w]{1,32}", name)) or (
                name != name.lower() and kind == 1
            ):
                raise _invalid(f"{i}.name", "Command name is invalid")
            if kind == 1 and not 1 <= len(cmd.get("description", "")) <= 100:
                raise _too_long(f"{i}.description", 100)
            if kind != 1 and cmd.get("description"):
                raise _invalid(
                    f"{i}.description", "Context menu commands cannot have a description"
                )
            stored = dict(cmd, id=self.snowflake(), application_id=self.application_id, version="1")
            stored.setdefault("type", 1)
            # Discord fills the fields a client left out.
            stored.setdefault("description", "")
            stored.setdefault("default_member_permissions", None)
            stored.setdefault("nsfw", False)
            stored.setdefault("integration_types", [0])
            if guild_id is not None:
                stored["guild_id"] = guild_id
            out.append(stored)
        if guild_id is None:
            self.global_commands = out
        else:
            self.guild_commands[guild_id] = out
        return 200, out

    # interactions
    def _live(self, token: str) -> InteractionRecord:
        rec = self.interactions.get(token)
        if rec is None or self.now() - rec.created > INTERACTION_TOKEN_TTL_S:
            raise DiscordError(404, 10015, "Unknown Webhook")
        return rec

    def _check_body(self, body: dict[str, Any], *, prefix: str = "") -> None:
        content = body.get("content")
        if content is not None and len(content) > 2000:
            raise _too_long(prefix + "content", 2000)
        embeds = body.get("embeds") or []
        if len(embeds) > 10:
            raise _too_long(prefix + "embeds", 10)
        total = 0
        for i, embed in enumerate(embeds):
            desc = embed.get("description") or ""
            if len(desc) > 4096:
                raise _too_long(f"{prefix}embeds.{i}.description", 4096)
            if len(embed.get("title") or "") > 256:
                raise _too_long(f"{prefix}embeds.{i}.title", 256)
            total += len(desc) + len(embed.get("title") or "")
            total += sum(
                len(f.get("name", "")) + len(f.get("value", "")) for f in embed.get("fields", [])
            )
            total += len((embed.get("footer") or {}).get("text", ""))
            total += len((embed.get("author") or {}).get("name", ""))
        if total > 6000:
            raise _too_long(prefix + "embeds", 6000)
        if (
            content in (None, "")
            and not embeds
            and not body.get("components")
            and not body.get("attachments")
            and not body.get("poll")
        ):
            raise DiscordError(400, 50006, "Cannot send an empty message")

    async def _callback(
        self, request: web.Request, call: RestCall, interaction_id: str, token: str
    ) -> tuple[int, Any]:
        rec = self.interactions.get(token)
        if rec is None or rec.id != interaction_id:
            raise DiscordError(404, 10062, "Unknown interaction")
        if self.now() - rec.created > INTERACTION_DEADLINE_S:
            rec.late_callback = True
            rec.acknowledged.set()
            raise DiscordError(404, 10062, "Unknown interaction")
        if rec.callback is not None:
            raise DiscordError(400, 40060, "Interaction has already been acknowledged.")
        body = call.json or {}
        kind = int(body.get("type", 0))
        data = body.get("data") or {}
        if kind == 4 or kind == 7:
            self._check_body(data, prefix="data.")
        if kind == 9:
            if not data.get("custom_id") or not data.get("title") or not data.get("components"):
                raise _invalid("data", "A modal needs custom_id, title and components")
            if len(data["title"]) > 45:
                raise _too_long("data.title", 45)
        if kind == 8 and len(data.get("choices", [])) > 25:
            raise _too_long("data.choices", 25)
        if kind not in (1, 4, 5, 6, 7, 8, 9):
            raise _invalid("type", "Value is not a valid interaction callback type")
        rec.callback = body
        rec.callback_at = self.now()
        resource: dict[str, Any] = {"type": kind}
        info: dict[str, Any] = {"id": rec.id, "type": rec.type}
        if kind in (4, 5):
            flags = int(data.get("flags") or 0) & EPHEMERAL
            if kind == 5:
                flags |= LOADING
            msg = self._message(
                rec.payload["channel_id"],
                self.bot_user,
                data if kind == 4 else {},
                flags=flags,
                interaction=rec,
            )
            rec.original = msg
            resource["message"] = self.public(msg)
            info.update(
                response_message_id=msg["id"],
                response_message_loading=kind == 5,
                response_message_ephemeral=bool(flags & EPHEMERAL),
            )
        rec.acknowledged.set()
        if kind in (4, 5) and rec.original is not None and not rec.original["flags"] & EPHEMERAL:
            await self.dispatch("MESSAGE_CREATE", self.public(rec.original))
        if request.query.get("with_response") in ("1", "true"):
            return 200, {"interaction": info, "resource": resource}
        return 204, None

    def _original(self, token: str) -> tuple[InteractionRecord, dict[str, Any]]:
        rec = self._live(token)
        if rec.original is None:
            raise DiscordError(404, 10008, "Unknown Message")
        return rec, rec.original

    async def _get_original(
        self, request: web.Request, call: RestCall, app_id: str, token: str
    ) -> tuple[int, Any]:
        return 200, self.public(self._original(token)[1])

    def _apply_edit(self, msg: dict[str, Any], body: dict[str, Any]) -> None:
        merged = {k: msg.get(k) for k in ("content", "embeds", "components")}
        merged.update({k: v for k, v in body.items() if k in merged})
        self._check_body(merged)
        for key in ("content", "embeds", "components"):
            if key in body:
                msg[key] = body[key] if body[key] is not None else ([] if key != "content" else "")
        if "allowed_mentions" in body:
            msg["allowed_mentions"] = body["allowed_mentions"]
        msg["flags"] &= ~LOADING
        msg["edited_timestamp"] = _iso()

    async def _edit_original(
        self, request: web.Request, call: RestCall, app_id: str, token: str
    ) -> tuple[int, Any]:
        rec, msg = self._original(token)
        self._apply_edit(msg, call.json or {})
        rec.original_edits.append(call.json or {})
        return 200, self.public(msg)

    async def _delete_original(
        self, request: web.Request, call: RestCall, app_id: str, token: str
    ) -> tuple[int, Any]:
        rec, msg = self._original(token)
        self.messages.pop(msg["id"], None)
        rec.original = None
        return 204, None

    async def _followup(
        self, request: web.Request, call: RestCall, app_id: str, token: str
    ) -> tuple[int, Any]:
        rec = self._live(token)
        if rec.callback is None:
            raise DiscordError(404, 10015, "Unknown Webhook")
        body = call.json or {}
        self._check_body(body)
        flags = int(body.get("flags") or 0) & EPHEMERAL
        # The first followup after a deferral replaces the "thinking" message.
        if rec.original is not None and rec.original["flags"] & LOADING:
            self._apply_edit(rec.original, body)
            msg = rec.original
        else:
            msg = self._message(
                rec.payload["channel_id"], self.bot_user, body, flags=flags, interaction=rec
            )
            if not flags:
                await self.dispatch("MESSAGE_CREATE", self.public(msg))
        rec.followups.append(msg)
        return 200, self.public(msg)

    async def _edit_followup(
        self, request: web.Request, call: RestCall, app_id: str, token: str, message_id: str
    ) -> tuple[int, Any]:
        self._live(token)
        msg = self.messages.get(message_id)
        if msg is None:
            raise DiscordError(404, 10008, "Unknown Message")
        self._apply_edit(msg, call.json or {})
        return 200, self.public(msg)

    # channels and messages
    def _channel(self, channel_id: str) -> dict[str, Any]:
        channel = self.channels.get(channel_id) or self.threads.get(channel_id)
        if channel is None:
            raise DiscordError(404, 10003, "Unknown Channel")
        return channel

    async def _get_channel(
        self, request: web.Request, call: RestCall, channel_id: str
    ) -> tuple[int, Any]:
        return 200, self._channel(channel_id)

    async def _edit_channel(
        self, request: web.Request, call: RestCall, channel_id: str
    ) -> tuple[int, Any]:
        """Modify Channel, for threads: a new name (1-100 characters) and archiving; an
        archived thread takes other changes only together with ``archived: false``."""
        thread = self.threads.get(channel_id)
        if thread is None:
            self._channel(channel_id)
            raise DiscordError(403, 50013, "Missing Permissions")
        body = call.json or {}
        meta = thread["thread_metadata"]
        if meta["archived"] and body.get("archived") is not False:
            raise DiscordError(400, 50083, "Thread is archived")
        if "name" in body:
            name = body.get("name") or ""
            if not 1 <= len(name) <= 100:
                raise _too_long("name", 100)
            thread["name"] = name
        if "archived" in body:
            meta["archived"] = bool(body["archived"])
            meta["archive_timestamp"] = _iso()
        await self.dispatch("THREAD_UPDATE", thread)
        return 200, thread

    async def _create_message(
        self, request: web.Request, call: RestCall, channel_id: str
    ) -> tuple[int, Any]:
        channel = self._channel(channel_id)
        if channel.get("thread_metadata", {}).get("archived"):
            raise DiscordError(400, 50083, "Thread is archived")
        body = call.json or {}
        self._check_body(dict(body, attachments=call.files or body.get("attachments")))
        nonce = body.get("nonce")
        if nonce is not None and len(str(nonce)) > 25:
            raise _too_long("nonce", 25)
        if nonce is not None and body.get("enforce_nonce"):
            # Discord answers a repeated nonce with the message it already created.
            for earlier in self.messages.values():
                if earlier["channel_id"] == channel_id and earlier.get("nonce") == nonce:
                    return 200, self.public(earlier)
        msg = self._message(channel_id, self.bot_user, body)
        if nonce is not None:
            msg["nonce"] = nonce
        msg["attachments"] = [
            {
                "id": self.snowflake(),
                "filename": f["filename"],
                "size": f["size"],
                "url": f"{self.base_url}/attachments/{f['filename']}",
                "proxy_url": f"{self.base_url}/attachments/{f['filename']}",
            }
            for f in call.files
        ]
        channel["last_message_id"] = msg["id"]
        if "message_count" in channel:
            channel["message_count"] += 1
            channel["total_message_sent"] += 1
        await self.dispatch("MESSAGE_CREATE", self.public(msg))
        return 200, self.public(msg)

    async def _get_message(
        self, request: web.Request, call: RestCall, channel_id: str, message_id: str
    ) -> tuple[int, Any]:
        msg = self.messages.get(message_id)
        if msg is None or msg["channel_id"] != channel_id:
            raise DiscordError(404, 10008, "Unknown Message")
        return 200, self.public(msg)

    async def _edit_message(
        self, request: web.Request, call: RestCall, channel_id: str, message_id: str
    ) -> tuple[int, Any]:
        msg = self.messages.get(message_id)
        if msg is None or msg["channel_id"] != channel_id:
            raise DiscordError(404, 10008, "Unknown Message")
        if msg["author"]["id"] != self.application_id:
            raise DiscordError(403, 50005, "Cannot edit a message authored by another user")
        self._apply_edit(msg, call.json or {})
        await self.dispatch("MESSAGE_UPDATE", self.public(msg))
        return 200, self.public(msg)

    async def _thread(
        self, request: web.Request, call: RestCall, channel_id: str, message_id: str
    ) -> tuple[int, Any]:
        channel = self._channel(channel_id)
        msg = self.messages.get(message_id)
        if msg is None or msg["channel_id"] != channel_id:
            raise DiscordError(404, 10008, "Unknown Message")
        if channel.get("type") != 0:
            raise DiscordError(400, 50024, "Cannot execute action on this channel type")
        if msg.get("thread"):
            raise DiscordError(400, 160004, "A thread has already been created for this message")
        body = call.json or {}
        name = body.get("name") or ""
        if not 1 <= len(name) <= 100:
            raise _too_long("name", 100)
        archive = int(body.get("auto_archive_duration") or 1440)
        if archive not in ARCHIVE_DURATIONS:
            raise _invalid("auto_archive_duration", "Value must be one of (60, 1440, 4320, 10080).")
        thread = {
            "id": message_id,  # Discord gives a thread started from a message that message's id
            "type": 11,
            "guild_id": channel["guild_id"],
            "parent_id": channel_id,
            "owner_id": self.application_id,
            "name": name,
            "last_message_id": None,
            "message_count": 0,
            "total_message_sent": 0,
            "member_count": 1,
            "rate_limit_per_user": 0,
            "flags": 0,
            "thread_metadata": {
                "archived": False,
                "auto_archive_duration": archive,
                "archive_timestamp": _iso(),
                "locked": False,
                "create_timestamp": _iso(),
            },
            "member": {
                "id": message_id,
                "user_id": self.application_id,
                "join_timestamp": _iso(),
                "flags": 0,
            },
        }
        self.threads[thread["id"]] = thread
        msg["thread"] = thread
        await self.dispatch("THREAD_CREATE", dict(thread, newly_created=True))
        return 201, thread

    async def _typing(
        self, request: web.Request, call: RestCall, channel_id: str
    ) -> tuple[int, Any]:
        self._channel(channel_id)
        return 204, None


__all__ = [
    "ADMINISTRATOR",
    "MANAGE_MESSAGES",
    "DiscordError",
    "FakeDiscord",
    "GatewaySession",
    "InteractionRecord",
    "RestCall",
]
