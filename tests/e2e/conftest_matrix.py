"""Fixtures for the Matrix tests: a real Synapse, a person at a second matrix-nio client,
the adapter on its own (with a probe feature), and the whole app with the adapter and a fake
Bluesky upstream.

``tests/e2e/conftest.py`` offers the fixtures to every end-to-end module; the helpers
(``body``, ``joined``, ``notice_from``, ``room_with_bot``, ``thread_of``, ``ProbeCog``)
are imported. The homeserver is shared by the whole test process (``shared_synapse``):
one server for all the modules.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from nio import AsyncClient, AsyncClientConfig, RoomCreateResponse, SyncResponse

from bot.adapters.matrix.adapter import Backoff, MatrixAdapter
from bot.app import App
from bot.commands import Cog, Param, command
from bot.config import Config, MatrixConfig, NetworkConfig, StorageConfig
from bot.context import Context, MessageRef
from bot.dispatcher import Dispatcher
from bot.http import HttpClient, HttpSettings
from bot.render.document import Message, para
from bot.sources.base import Source
from bot.sources.bluesky import BlueskySource
from cogs.help.cog import HelpCog
from tests.e2e.synapse import Account, Synapse, shared_synapse
from tests.fakes.bluesky_server import FakeBluesky
from tests.fakes.thread_builder import ThreadBuilder


@pytest.fixture
def synapse() -> Synapse:
    return shared_synapse()


@pytest.fixture
def register(synapse: Synapse) -> Callable[[str], Account]:
    """Register a fresh user; names get a unique suffix so tests never share accounts."""

    def make(name: str) -> Account:
        return synapse.register(f"{name}-{uuid.uuid4().hex[:8]}")

    return make


class ProbeCog(Cog):
    """Commands that exercise each adapter path the real cogs use."""

    def __init__(self) -> None:
        self.sent: dict[str, list[MessageRef]] = {}
        self.calls: list[tuple[str, str, bool]] = []

    @command("echo", "Say it back", Param("text", "what", kind="rest"))
    async def echo(self, ctx: Context, text: str) -> None:
        self.calls.append(("echo", ctx.user.id, ctx.user.is_moderator))
        await ctx.reply(text)

    @command("story", "A header and three posts in a thread")
    async def story(self, ctx: Context) -> None:
        await ctx.progress("working")
        header = await ctx.adapter.send(ctx.room, Message((para("Header"),), kind="header"))
        thread = await ctx.adapter.start_thread(ctx.room, header[0], "story")
        refs = list(header)
        for i in range(3):
            refs += await ctx.adapter.send(ctx.room, Message((para(f"post {i}"),)), thread=thread)
        self.sent["story"] = refs

    @command("secret", "A spoilered post", Param("reason", "why", kind="rest"))
    async def secret(self, ctx: Context, reason: str) -> None:
        msg = Message((para("the hidden words"),), spoiler=reason)
        self.sent["secret"] = await ctx.adapter.send(ctx.room, msg)

    @command("warn", "Edit the last story's posts behind a warning", moderator=True)
    async def warn(self, ctx: Context) -> None:
        refs = self.sent["story"]
        for i, ref in enumerate(refs[1:]):
            msg = Message((para(f"post {i}"),), spoiler="spiders")
            await ctx.adapter.edit([ref], msg)
        await ctx.reply("Warning applied.")


def dispatcher_with(*cogs: Cog) -> Dispatcher:
    d = Dispatcher()
    d.prefixes["matrix"] = "!"
    for cog in cogs:
        d.register(cog)
    d.register(HelpCog(d))
    return d


PERSON_FILTER = {"room": {"timeline": {"limit": 200}}}


class Person:
    """A human at a real matrix-nio client: sends text, watches the room's timeline."""

    def __init__(self, client: AsyncClient) -> None:
        self.client = client
        self.events: list[dict[str, Any]] = []  # raw event dicts, every joined room
        self._seen: set[str] = set()

    @property
    def user_id(self) -> str:
        return str(self.client.user_id)

    async def sync(self, timeout_ms: int = 0) -> None:
        # A long timeline: a burst of bot events between two syncs must not be cut off.
        resp = await self.client.sync(timeout=timeout_ms, sync_filter=PERSON_FILTER)
        assert isinstance(resp, SyncResponse), resp
        if self.client.olm is not None:
            await crypto_upkeep(self.client)
        for room_id, info in resp.rooms.join.items():
            for ev in info.timeline.events:
                src = dict(ev.source)
                if src.get("event_id") in self._seen:
                    continue
                self._seen.add(src["event_id"])
                src["room_id"] = room_id
                self.events.append(src)

    async def create_room(
        self,
        invite: tuple[str, ...] = (),
        power: dict[str, int] | None = None,
        encrypted: bool = False,
    ) -> str:
        state: list[dict[str, Any]] = []
        if encrypted:
            state.append(
                {
                    "type": "m.room.encryption",
                    "state_key": "",
                    "content": {"algorithm": "m.megolm.v1.aes-sha2"},
                }
            )
        # The creator is not listed: from room version 12 on creators outrank all levels.
        override = {"users": power} if power else None
        resp = await self.client.room_create(
            invite=invite, initial_state=state, power_level_override=override
        )
        assert isinstance(resp, RoomCreateResponse), resp
        return str(resp.room_id)

    async def say(self, room_id: str, body: str, **extra: Any) -> str:
        content = {"msgtype": "m.text", "body": body, **extra}
        resp = await self.client.room_send(
            room_id, "m.room.message", content, ignore_unverified_devices=True
        )
        event_id = getattr(resp, "event_id", None)
        assert event_id, resp
        return str(event_id)

    async def wait_for(
        self,
        match: Callable[[dict[str, Any]], bool],
        count: int = 1,
        timeout_s: float = 10.0,
    ) -> list[dict[str, Any]]:
        """Sync until ``count`` events satisfy ``match``; returns them in timeline order."""
        deadline = time.monotonic() + timeout_s
        while True:
            found = [e for e in self.events if match(e)]
            if len(found) >= count:
                return found
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(
                    f"saw {len(found)} of {count} expected events; timeline: "
                    f"{[(e.get('sender'), e.get('content', {}).get('body')) for e in self.events]}"
                )
            await self.sync(timeout_ms=int(min(left, 1.0) * 1000))

    def from_user(self, user_id: str, room_id: str | None = None) -> list[dict[str, Any]]:
        return [
            e
            for e in self.events
            if e.get("sender") == user_id
            and e.get("type") == "m.room.message"
            and (room_id is None or e["room_id"] == room_id)
        ]


PersonFactory = Callable[..., Awaitable[Person]]


def body(e: dict[str, Any]) -> str:
    return str(e.get("content", {}).get("body", ""))


def joined(user_id: str, room_id: str | None = None) -> Callable[[dict[str, Any]], bool]:
    return lambda e: (
        (room_id is None or e["room_id"] == room_id)
        and e.get("type") == "m.room.member"
        and e.get("state_key") == user_id
        and e.get("content", {}).get("membership") == "join"
    )


def notice_from(user_id: str, text: str = "") -> Callable[[dict[str, Any]], bool]:
    """A message from the bot: its own answers are notices, thread content is m.text."""
    return lambda e: (
        e.get("sender") == user_id
        and e.get("type") == "m.room.message"
        and e["content"].get("msgtype") in ("m.notice", "m.text")
        and text in body(e)
    )


async def room_with_bot(human: Person, bot: RunningBot | RunningApp, **kw: Any) -> str:
    """A room ``human`` creates and invites the bot to, once the bot has joined it."""
    room = await human.create_room(invite=(bot.user_id,), **kw)
    await human.wait_for(joined(bot.user_id, room))
    return room


async def connect(
    synapse: Synapse, account: Account, crypto_dir: Path | None = None
) -> AsyncClient:
    """A client for ``account``; with ``crypto_dir`` it reads and writes encrypted rooms."""
    client = AsyncClient(
        synapse.url,
        account.user_id,
        device_id=account.device_id,
        store_path=str(crypto_dir or ""),
        config=AsyncClientConfig(
            max_timeouts=2, request_timeout=15, encryption_enabled=crypto_dir is not None
        ),
    )
    if crypto_dir is not None:
        await asyncio.to_thread(crypto_dir.mkdir, parents=True, exist_ok=True)
        client.restore_login(account.user_id, account.device_id, account.access_token)
        await crypto_upkeep(client)
    else:
        client.access_token = account.access_token
        client.user_id = account.user_id
    return client


async def crypto_upkeep(client: AsyncClient) -> None:
    if client.should_upload_keys:
        await client.keys_upload()
    if client.should_query_keys:
        await client.keys_query()
    if client.should_claim_keys:
        await client.keys_claim(client.get_users_for_key_claiming())
    await client.send_to_device_messages()


@pytest.fixture
async def person(
    synapse: Synapse, register: Callable[[str], Account], tmp_path: Path
) -> AsyncIterator[Callable[..., Awaitable[Person]]]:
    """Factory: a logged-in human, synced once so only new events are collected;
    ``e2e=True`` gives the person encryption keys."""
    clients: list[AsyncClient] = []

    async def make(name: str = "human", e2e: bool = False) -> Person:
        account = register(name)
        crypto = tmp_path / f"crypto-{account.localpart}" if e2e else None
        client = await connect(synapse, account, crypto)
        clients.append(client)
        p = Person(client)
        await client.sync(timeout=0)
        return p

    yield make
    await asyncio.gather(*(c.close() for c in clients))


class RunningBot:
    """A MatrixAdapter running its sync loop as a task, with its account and store."""

    def __init__(self, adapter: MatrixAdapter, account: Account, store_dir: Path) -> None:
        self.adapter = adapter
        self.account = account
        self.store_dir = store_dir
        self.task: asyncio.Task[None] | None = None

    @property
    def user_id(self) -> str:
        return self.account.user_id

    async def start(self) -> None:
        await self.adapter.start()
        self.task = asyncio.create_task(self.adapter.run())

    async def stop(self) -> None:
        await self.adapter.stop()
        if self.task is not None:
            await asyncio.wait_for(self.task, 10)
            self.task = None


BotFactory = Callable[..., Awaitable[RunningBot]]
FAST_BACKOFF = Backoff(initial_s=0.05, max_s=0.5)


def matrix_config(synapse: Synapse, account: Account, **overrides: Any) -> MatrixConfig:
    return MatrixConfig(
        enabled=True,
        homeserver=synapse.url,
        user_id=account.user_id,
        password_env="UNROLLBOT_TEST_MATRIX_PASSWORD",
        **overrides,
    )


@pytest.fixture
async def matrix_bot(
    synapse: Synapse, register: Callable[[str], Account], tmp_path: Path
) -> AsyncIterator[Callable[..., Awaitable[RunningBot]]]:
    """Factory: start a bot on the real homeserver with a given dispatcher.

    ``account`` and ``store_dir`` may be passed again to restart the same bot."""
    bots: list[RunningBot] = []

    async def make(
        dispatcher: Dispatcher,
        account: Account | None = None,
        store_dir: Path | None = None,
        **overrides: Any,
    ) -> RunningBot:
        account = account or register("bot")
        store_dir = store_dir or tmp_path / f"store-{len(bots)}"
        adapter_kwargs: dict[str, Any] = {
            k: overrides.pop(k)
            for k in ("backoff", "sync_timeout_ms", "send_deadline_s", "max_command_age_s")
            if k in overrides
        }
        adapter_kwargs.setdefault("backoff", FAST_BACKOFF)
        adapter_kwargs.setdefault("sync_timeout_ms", 2000)
        adapter = MatrixAdapter(
            matrix_config(synapse, account, **overrides),
            dispatcher,
            store_dir=str(store_dir),
            password=account.password,
            **adapter_kwargs,
        )
        bot = RunningBot(adapter, account, store_dir)
        bots.append(bot)
        await bot.start()
        return bot

    yield make
    for bot in bots:
        if bot.task is not None:
            await bot.stop()


@dataclass
class RunningApp:
    app: App
    adapter: MatrixAdapter
    account: Account
    task: asyncio.Task[None]

    @property
    def user_id(self) -> str:
        return self.account.user_id


def thread_of(bsky: FakeBluesky, n: int, **first: Any) -> list[str]:
    """A thread of ``n`` posts by Mira on the fake Bluesky (``first`` changes the first)."""
    b = ThreadBuilder()
    mira = b.author("mira", handle="mira.example.com", name="Mira")
    keys = b.chain(mira, n)
    if first:
        b.update(keys[0], **first)
    bsky.add_thread(b.build())
    return keys


@pytest.fixture
async def bsky() -> AsyncIterator[FakeBluesky]:
    async with FakeBluesky(latency_s=0.01) as server:
        yield server


AppFactory = Callable[..., Awaitable[RunningApp]]


@pytest.fixture
async def start_app(
    tmp_path: Path,
    bsky: FakeBluesky,
    synapse: Synapse,
    register: Callable[[str], Account],
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[AppFactory]:
    """Factory: the app with the given features and the Matrix adapter from config,
    running as ``unrollbot run`` runs it."""
    started: list[tuple[RunningApp, HttpClient]] = []

    async def start(
        extensions: tuple[str, ...] = ("cogs.content_notes", "cogs.links"),
        more_sources: Callable[[HttpClient], list[Source]] = lambda http: [],
        layout: str = "per-post",
    ) -> RunningApp:
        account = register("unrollbot")
        monkeypatch.setenv("TEST_MATRIX_BOT_PASSWORD", account.password)
        config = Config(
            storage=StorageConfig(str(tmp_path / "bot.sqlite3")),
            network=NetworkConfig(allow_private_addresses=True, retries=1),
            matrix=MatrixConfig(
                enabled=True,
                homeserver=synapse.url,
                user_id=account.user_id,
                password_env="TEST_MATRIX_BOT_PASSWORD",
                store_path=str(tmp_path / "matrix"),
            ),
        )
        http = HttpClient(
            HttpSettings(allow_private_addresses=True, retries=1, backoff_base_s=0.01)
        )
        app = await App.create(
            config,
            sources=[BlueskySource(http, bsky.base_url), *more_sources(http)],
            extensions=list(extensions),
        )
        # Most Matrix tests pin one event per post; packed tests ask for it.
        app.layouts.default = layout
        adapter = MatrixAdapter.from_host(app, sync_timeout_ms=2000)
        task = asyncio.create_task(app.run([adapter]))
        await asyncio.wait_for(adapter.connected.wait(), 20)
        running = RunningApp(app, adapter, account, task)
        started.append((running, http))
        return running

    yield start
    for running, http in started:
        running.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await running.task
        await running.app.close()
        await http.close()


@pytest.fixture
async def matrix_app(start_app: AppFactory) -> RunningApp:
    return await start_app()
