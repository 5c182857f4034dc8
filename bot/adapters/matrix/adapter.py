"""The Matrix adapter on matrix-nio: ``!commands`` in; threads out as ``m.text`` (the
bot's own answers as ``m.notice``, see ``content.msgtype_for``), long output in an
``m.thread`` under a header event. This module holds construction, the sync loop and
inbound events; ``session.py``, ``rooms.py`` and ``send.py`` hold the other jobs.

Life cycle: ``start()`` takes the account's session (standing by while another process holds
it, see ``holding.py``), logs in and (on a first start) syncs once without handling anything,
so history is never replayed; ``run()`` then long-polls ``/sync`` from the stored token. A
command is started before the token that delivered it is stored, and the token only moves
forward after a successful sync, so a server that goes away loses nothing and a reconnect
repeats nothing. Sends carry a transaction id (the caller's idempotency key where given) and
are retried with the same id, which the homeserver deduplicates.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from nio import (
    AsyncClient,
    AsyncClientConfig,
    SyncError,
    SyncResponse,
)
from nio.crypto import ENCRYPTION_ENABLED

from bot.adapters.matrix.base import (
    NAME,
    TRANSIENT,
    MatrixSendError,
    MatrixStartupError,
)
from bot.adapters.matrix.context import MatrixContext
from bot.adapters.matrix.holding import MatrixHolding
from bot.adapters.matrix.rooms import ENCRYPTED_NOTICE, MatrixRooms
from bot.adapters.matrix.rules import (
    Backoff,
    RoomAuth,
    command_text,
    thread_root_of,
)
from bot.adapters.matrix.send import MatrixSender
from bot.adapters.matrix.session import MatrixSession
from bot.adapters.matrix.store import DatabaseStore, FileStore, MatrixStore
from bot.config import Config, MatrixConfig, secret
from bot.context import Room, User
from bot.dispatcher import Dispatcher
from bot.errors import ConfigError
from bot.render import html
from bot.render.document import Capabilities
from storage.leases import process_owner

if TYPE_CHECKING:
    from bot.host import AdapterHost
    from storage.adapter_state_repo import AdapterStateRepo

log = logging.getLogger(__name__)

# No presence; a long timeline per room so a burst of commands while the bot was away is
# not cut off by a "limited" sync.
SYNC_FILTER = {"presence": {"not_types": ["*"]}, "room": {"timeline": {"limit": 100}}}
DEFAULT_BACKOFF = Backoff()
# Longer than a waiting standby's longest pause between tries for the session lock.
PAUSE_AFTER_LOSS_S = 2.0


class MatrixAdapter(MatrixHolding, MatrixSession, MatrixRooms, MatrixSender):
    """The adapter: construction, the sync loop and inbound events; holding the session,
    logging in, rooms and sending come from the parts it is made of."""

    name = NAME
    capabilities = Capabilities(
        max_length=html.DEFAULT_MAX_LENGTH,
        markup="html",
        spoilers=True,
        threads=True,
        edits=True,
    )

    def __init__(
        self,
        config: MatrixConfig,
        dispatcher: Dispatcher,
        *,
        store_dir: str,
        password: str | None = None,
        access_token: str | None = None,
        backoff: Backoff = DEFAULT_BACKOFF,
        sync_timeout_ms: int = 30_000,
        send_deadline_s: float = 600.0,
        max_command_age_s: float = 900.0,
        clock: Callable[[], float] = time.time,
        state: AdapterStateRepo | None = None,
        pause_after_loss_s: float = PAUSE_AFTER_LOSS_S,
    ) -> None:
        if not (password or access_token):
            raise MatrixStartupError("matrix: no password or access token given")
        self.config = config
        self.dispatcher = dispatcher
        # Replies that name a command ("Type !help") use the prefix this room types.
        dispatcher.prefixes[NAME] = config.command_prefix
        self.user_id = config.user_id
        # With the bot's database: the state there, and one process at a time holds the
        # session. On its own: the state in a file under store_dir, this process alone.
        self.sessions = state
        self.pause_after_loss_s = pause_after_loss_s
        self.store: MatrixStore
        if state is not None:
            # Per adapter, not per process: two bots in one process are two owners.
            self.owner = f"{process_owner()}/{uuid.uuid4().hex[:4]}"
            self.store = DatabaseStore(
                store_dir, state, NAME, config.user_id, self.owner, self._taken_by_another
            )
        else:
            self.owner = process_owner()
            self.store = FileStore(store_dir)
        self._password = password
        self._access_token = access_token
        self.backoff = backoff
        self.sync_timeout_ms = sync_timeout_ms
        self.send_deadline_s = send_deadline_s
        self.max_command_age_s = max_command_age_s
        self.clock = clock
        self.client: AsyncClient | None = None
        self._stopping = asyncio.Event()
        # Set to end the sync loop: stop(), or the session lost to another process.
        self._halt = asyncio.Event()
        self._lost = asyncio.Event()
        self._live = False
        self.standing_by = False
        self.takeovers = 0
        self._session: contextlib.AsyncExitStack | None = None
        self._watch: asyncio.Task[None] | None = None
        self._loop_done = asyncio.Event()
        self._loop_done.set()  # no loop running yet
        self._tasks: set[asyncio.Task[None]] = set()
        self._handled: dict[str, None] = {}  # recent command event ids, oldest first
        # Thread root -> latest event the bot sent in it (the in-reply-to fallback target).
        self._thread_tail: dict[str, str] = {}
        # Event the bot sent inside a thread -> that thread's root.
        self._thread_of: dict[str, str] = {}
        self._auth: dict[str, RoomAuth] = {}
        self._to_join: set[str] = set()
        self._dm_lock = asyncio.Lock()
        self._login_lock = asyncio.Lock()
        self.e2e = config.encryption and ENCRYPTION_ENABLED
        self._full_state_next = True
        self.reconnects = 0
        self.send_retries = 0
        self.relogins = 0
        self.connected = asyncio.Event()
        # Called after the first sync of each session this process holds (the app resumes
        # interrupted deliveries).
        self.on_ready: Callable[[MatrixAdapter], Awaitable[object]] | None = None
        self._ready_task: asyncio.Task[object] | None = None

    # -- construction and life cycle ------------------------------------------------

    @classmethod
    def from_host(cls, host: AdapterHost, **kwargs: Any) -> MatrixAdapter:
        """The adapter ``unrollbot run`` starts when ``[matrix] enabled = true``."""
        kwargs.setdefault("state", host.adapter_state)
        adapter = cls.from_config(host.config, host.dispatcher, **kwargs)
        adapter.on_ready = host.resume_pending
        return adapter

    @classmethod
    def from_config(cls, config: Config, dispatcher: Dispatcher, **kwargs: Any) -> MatrixAdapter:
        """Build from ``[matrix]``, reading the secret from the environment variable the
        config names; errors name the key to fix."""
        m = config.matrix
        if not m.homeserver.startswith(("http://", "https://")):
            raise MatrixStartupError(
                f"matrix.homeserver: must be an http(s) URL, got {m.homeserver!r}"
            )
        if not m.user_id.startswith("@") or ":" not in m.user_id:
            raise MatrixStartupError(
                f"matrix.user_id: must look like @bot:example.org, got {m.user_id!r}"
            )
        if not m.command_prefix.strip():
            raise MatrixStartupError("matrix.command_prefix: must not be empty")
        try:
            if m.access_token_env:
                token = secret(m.access_token_env, "matrix.access_token_env")
                kwargs.setdefault("access_token", token)
            elif m.password_env:
                kwargs.setdefault("password", secret(m.password_env, "matrix.password_env"))
            else:
                raise MatrixStartupError(
                    "matrix: set password_env or access_token_env to the name of the "
                    "environment variable holding the bot's secret"
                )
        except ConfigError as exc:
            raise MatrixStartupError(str(exc)) from None
        if m.encryption and not ENCRYPTION_ENABLED:
            log.warning(
                "matrix.encryption = true but matrix-nio's encryption support is not "
                "installed (pip install 'matrix-nio[e2e]'); encrypted rooms are told once "
                "that the bot cannot read them"
            )
        return cls(m, dispatcher, store_dir=config.resolve_path(m.store_path), **kwargs)

    async def start(self) -> None:
        """Take the session (standing by while another process holds it), log in and
        catch up to now without handling old events. Raises MatrixStartupError with a
        clear message when that is impossible."""
        standby = self.sessions is not None and self._session is None
        if standby and not await self._take_session():
            return  # stopped while standing by
        try:
            await self._log_in()
        except BaseException:
            self._live = False
            await self._release_session()
            raise

    async def _log_in(self) -> None:
        try:
            state = await self.store.load()
        except ValueError as exc:
            raise MatrixStartupError(str(exc)) from None
        hs = self.config.homeserver
        crypto_dir = None
        if self.e2e:
            # nio keeps the device's keys and sessions here (SQLite).
            crypto_dir = self.store.dir / "crypto"
            crypto_dir.mkdir(parents=True, exist_ok=True)
        # max_timeouts=0: connection errors come back to us at once; our loops back off.
        client = AsyncClient(
            hs,
            self.config.user_id,
            device_id=state.device_id,
            store_path=str(crypto_dir) if crypto_dir else "",
            config=AsyncClientConfig(
                max_timeouts=0,
                request_timeout=30,
                encryption_enabled=self.e2e,
                store_sync_tokens=False,
            ),
        )
        self.client = client
        try:
            await self._login(client, state.device_id)
            self._live = not self._lost.is_set()
            if self.e2e:
                await self._crypto_upkeep()
            if state.next_batch is None:
                first = await client.sync(timeout=0, full_state=True)
                if not isinstance(first, SyncResponse):
                    raise MatrixStartupError(f"first sync with {hs} failed: {first}")
                # History stays history; only pending invites are acted on.
                await self._handle_invites(first)
                state.next_batch = first.next_batch
            state.device_id = client.device_id
            state.user_id = client.user_id
            await self.store.save()
        except TRANSIENT as exc:
            await client.close()
            self.client = None
            why = str(exc) or type(exc).__name__
            raise MatrixStartupError(
                f"cannot reach the Matrix homeserver at {hs} (matrix.homeserver): {why}"
            ) from None
        except BaseException:
            await client.close()
            self.client = None
            raise
        self.connected.set()
        log.info("matrix: logged in as %s (device %s)", client.user_id, client.device_id)

    async def run(self) -> None:
        """Sync until ``stop()``; reconnects with backoff when the server goes away. With
        several processes on one database: stands by until this one holds the session, and
        again whenever it loses it."""
        self._loop_done.clear()
        try:
            failures = 0
            while not self._stopping.is_set():
                if self.client is None:
                    try:
                        await self.start()
                    except MatrixStartupError as exc:
                        if not self.takeovers:
                            raise  # this process's first start: the operator must act
                        # A standby taking over must not die of a passing problem: let
                        # the session go, wait, and try again (or let another process).
                        failures += 1
                        log.warning("matrix: taking over failed, will retry: %s", exc)
                        await self._stand_down()
                        with contextlib.suppress(TimeoutError):
                            await asyncio.wait_for(
                                self._stopping.wait(), self.backoff.delay(failures)
                            )
                        continue
                    if self.client is None:
                        return  # stopped while standing by
                    failures = 0
                await self._sync_loop()
                if not self._lost.is_set():
                    return
                await self._stand_down()
                # A process that just lost its database connection is the doubtful one:
                # a standby that was waiting gets the first chance at the session.
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), self.pause_after_loss_s)
        finally:
            self._loop_done.set()

    async def _sync_loop(self) -> None:
        failures = 0
        while not self._halt.is_set():
            resp = await self._sync_once()
            if resp is None:
                if self._halt.is_set():
                    return
                failures += 1
                if failures == 1:
                    self.connected.clear()
                    self.reconnects += 1
                delay = self.backoff.delay(failures)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._halt.wait(), delay)
                continue
            if failures:
                log.info("matrix: reconnected after %d failed syncs", failures)
            failures = 0
            self.connected.set()
            if self.e2e:
                await self._crypto_upkeep()
            await self._handle_sync(resp)
            if self._halt.is_set() and self._lost.is_set():
                return  # another process holds the session: its token, not ours
            self.store.state.next_batch = resp.next_batch
            try:
                await self.store.save()
            except Exception as exc:
                # Kept in memory: the next sync continues from it and saves again.
                log.warning("matrix: cannot save the Matrix state, will retry: %r", exc)
            if self.on_ready is not None and self._ready_task is None and not self._halt.is_set():
                self._ready_task = asyncio.create_task(self._run_on_ready(self.on_ready))

    async def _run_on_ready(self, hook: Callable[[MatrixAdapter], Awaitable[object]]) -> object:
        try:
            return await hook(self)
        except Exception:
            log.exception("matrix: start-up hook failed")
            return None

    async def _sync_once(self) -> SyncResponse | None:
        assert self.client is not None
        token = self.client.access_token
        sync = asyncio.ensure_future(
            self.client.sync(
                timeout=self.sync_timeout_ms,
                since=self.store.state.next_batch,
                sync_filter=SYNC_FILTER,
                # The first sync after a start carries every room's state, so the client
                # knows which rooms are encrypted and who is in them.
                full_state=self._full_state_next or None,
            )
        )
        stop = asyncio.ensure_future(self._halt.wait())
        try:
            done, _ = await asyncio.wait({sync, stop}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            # Also when run() itself is cancelled: no request may outlive the loop.
            for fut in (sync, stop):
                if not fut.done():
                    fut.cancel()
        if sync not in done or self._halt.is_set():
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await sync
            return None
        try:
            resp = sync.result()
        except TRANSIENT as exc:
            log.warning("matrix: sync failed, will retry: %r", exc)
            return None
        if isinstance(resp, SyncResponse):
            self._full_state_next = False
        if isinstance(resp, SyncError):
            if resp.status_code in ("M_UNKNOWN_TOKEN", "M_MISSING_TOKEN"):
                await self._login_again(resp, token)
                return None
            log.warning("matrix: sync error, will retry: %s", resp)
            return None
        return resp if isinstance(resp, SyncResponse) else None

    # -- inbound --------------------------------------------------------------------

    async def _handle_sync(self, resp: SyncResponse) -> None:
        await self._handle_invites(resp)
        for room_id, info in resp.rooms.join.items():
            events = [getattr(e, "source", None) or {} for e in info.timeline.events]
            state = [getattr(e, "source", None) or {} for e in info.state]
            self._track_state(room_id, state + events)
            await self._track_direct(room_id, state + events)
            # On the sync that brings a new room, its timeline starts before the bot
            # joined: those commands were not meant for it.
            for i, src in enumerate(events):
                if self._is_own_join(src):
                    events = events[i + 1 :]
                    break
            for src in events:
                try:
                    await self._handle_event(room_id, src)
                except Exception:
                    # One odd event must not stop the bot from reading the rest.
                    log.exception("matrix: cannot handle event %s", src.get("event_id"))
            if not self.e2e and self._is_encrypted(room_id):
                await self._tell_encrypted(room_id)

    async def _handle_event(self, room_id: str, src: dict[str, Any]) -> None:
        event_id = src.get("event_id")
        sender = src.get("sender")
        if not isinstance(event_id, str) or not isinstance(sender, str):
            return
        if sender == self.user_id or event_id in self._handled:
            return
        if src.get("type") == "m.room.encrypted":
            # Still encrypted after nio's decryption: either we have no encryption support
            # (say so once) or the sender has not shared the key with this device.
            if self.e2e:
                log.warning("matrix: cannot decrypt %s in %s", event_id, room_id)
            else:
                await self._tell_encrypted(room_id)
            return
        if src.get("type") != "m.room.message":
            return
        content = src.get("content") or {}
        text = command_text(content, self.config.command_prefix)
        if text is None:
            return
        sent_ms = src.get("origin_server_ts")
        if isinstance(sent_ms, int) and self.clock() - sent_ms / 1000 > self.max_command_age_s:
            log.info("matrix: ignoring a command from %s sent long ago: %r", sender, text)
            return
        self._remember(event_id)
        task = asyncio.create_task(
            self._run_command(room_id, sender, event_id, thread_root_of(content), text)
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _remember(self, event_id: str) -> None:
        self._handled[event_id] = None
        while len(self._handled) > 2000:
            self._handled.pop(next(iter(self._handled)))

    async def _run_command(
        self, room_id: str, sender: str, event_id: str, thread_root: str | None, text: str
    ) -> None:
        level = await self.power_of(room_id, sender)
        is_mod = level >= self.config.moderator_power_level
        assert self.client is not None
        room_obj = self.client.rooms.get(room_id)
        name = room_obj.user_name(sender) if room_obj is not None else None
        ctx = MatrixContext(
            self,
            Room(NAME, room_id, room_id),
            User(sender, name or sender, is_moderator=is_mod),
            event_id,
            thread_root,
        )
        try:
            await self.dispatcher.handle_text(ctx, text)
        except Exception:
            log.exception("matrix: command %r in %s failed", text, room_id)
        finally:
            if ctx.typing:
                await self.set_typing(room_id, False)


__all__ = [
    "ENCRYPTED_NOTICE",
    "Backoff",
    "MatrixAdapter",
    "MatrixContext",
    "MatrixSendError",
    "MatrixStartupError",
]
