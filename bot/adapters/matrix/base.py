"""What every part of the Matrix adapter shares (the split follows the jobs, as a
client/syncer split does): the session in ``session.py``, rooms and power levels in
``rooms.py``, sending in ``send.py``, and the sync loop with inbound events in
``adapter.py``, which puts them together. This holds their common state and the calls one
part makes on another."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from aiohttp import ClientConnectionError

from bot.errors import ConfigError

if TYPE_CHECKING:
    from contextlib import AsyncExitStack

    from nio import AsyncClient

    from bot.adapters.matrix.rules import Backoff, RoomAuth
    from bot.adapters.matrix.store import MatrixStore
    from bot.config import MatrixConfig
    from bot.context import MessageRef, Room
    from bot.render.document import Capabilities, Message
    from storage.adapter_state_repo import AdapterStateRepo

NAME = "matrix"
TRANSIENT = (ClientConnectionError, TimeoutError, asyncio.TimeoutError)


class MatrixStartupError(ConfigError):
    """The adapter cannot start: a missing secret, an unreachable homeserver, a bad login."""


class MatrixSendError(Exception):
    """A send that failed for good (forbidden, unknown room) or kept failing."""


class MatrixParts:
    """State the parts share (set in ``MatrixAdapter.__init__``) and the cross-part calls."""

    capabilities: Capabilities
    config: MatrixConfig
    client: AsyncClient | None
    store: MatrixStore
    user_id: str
    e2e: bool
    backoff: Backoff
    send_deadline_s: float
    relogins: int
    send_retries: int
    _password: str | None
    _access_token: str | None
    _stopping: asyncio.Event
    _loop_done: asyncio.Event
    _tasks: set[asyncio.Task[None]]
    _login_lock: asyncio.Lock
    _dm_lock: asyncio.Lock
    _thread_tail: dict[str, str]
    _thread_of: dict[str, str]
    _auth: dict[str, RoomAuth]
    _to_join: set[str]
    _full_state_next: bool
    _ready_task: asyncio.Task[object] | None
    # Holding the session (holding.py): the lock's repository (None: this process alone),
    # the held lock, and whether this process may sync and send now.
    sessions: AdapterStateRepo | None
    standing_by: bool
    takeovers: int
    connected: asyncio.Event
    _live: bool
    _lost: asyncio.Event
    _halt: asyncio.Event
    _session: AsyncExitStack | None
    _watch: asyncio.Task[None] | None

    # Sending (send.py)
    async def send(
        self,
        room: Room,
        message: Message,
        *,
        thread: MessageRef | None = None,
        key: str | None = None,
    ) -> list[MessageRef]:
        raise NotImplementedError

    # Rooms (rooms.py)
    async def _direct_room(self, user_id: str, stale: str | None = None) -> str:
        raise NotImplementedError

    # Session (session.py)
    async def _login_again(self, why: object, failed_token: str | None) -> None:
        raise NotImplementedError

    # Holding the session (holding.py)
    def _check_live(self) -> None:
        raise NotImplementedError

    async def _release_session(self) -> None:
        raise NotImplementedError
