"""The Matrix adapter on matrix-nio: ``!commands`` in, ``m.notice`` events out, long output
in an ``m.thread`` under a header event.

Life cycle: ``start()`` logs in and (on a first start) syncs once without handling anything,
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

from aiohttp import ClientConnectionError
from nio import (
    AsyncClient,
    AsyncClientConfig,
    InviteInfo,
    JoinError,
    LoginResponse,
    RoomCreateResponse,
    RoomGetStateResponse,
    RoomPreset,
    RoomSendResponse,
    SyncError,
    SyncResponse,
    WhoamiResponse,
)
from nio.crypto import ENCRYPTION_ENABLED
from nio.exceptions import LocalProtocolError, SendRetryError

from bot.adapters.matrix.content import (
    blank_chunk,
    notice_content,
    replacement,
    thread_relation,
)
from bot.adapters.matrix.context import MatrixContext
from bot.adapters.matrix.rules import (
    Backoff,
    RoomAuth,
    command_text,
    inviter_allowed,
    server_of,
    thread_root_of,
    user_power,
)
from bot.adapters.matrix.store import MatrixStore
from bot.config import Config, MatrixConfig, secret
from bot.context import MessageRef, Room, User
from bot.dispatcher import Dispatcher
from bot.errors import ConfigError
from bot.render import html
from bot.render.document import Capabilities, Message, reply

if TYPE_CHECKING:
    from bot.host import AdapterHost

log = logging.getLogger(__name__)

NAME = "matrix"
ENCRYPTED_NOTICE = (
    "This room is end-to-end encrypted and I cannot read encrypted messages, so I will not "
    "see commands here. Invite me to an unencrypted room to use me."
)
# No presence; a long timeline per room so a burst of commands while the bot was away is
# not cut off by a "limited" sync.
SYNC_FILTER = {"presence": {"not_types": ["*"]}, "room": {"timeline": {"limit": 100}}}
DEFAULT_BACKOFF = Backoff()
TRANSIENT = (ClientConnectionError, TimeoutError, asyncio.TimeoutError)


class MatrixStartupError(ConfigError):
    """The adapter cannot start: a missing secret, an unreachable homeserver, a bad login."""


class MatrixSendError(Exception):
    """A send that failed for good (forbidden, unknown room) or kept failing."""


class MatrixAdapter:
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
    ) -> None:
        if not (password or access_token):
            raise MatrixStartupError("matrix: no password or access token given")
        self.config = config
        self.dispatcher = dispatcher
        # Replies that name a command ("Type !help") use the prefix this room types.
        dispatcher.prefixes[NAME] = config.command_prefix
        self.store = MatrixStore(store_dir)
        self._password = password
        self._access_token = access_token
        self.backoff = backoff
        self.sync_timeout_ms = sync_timeout_ms
        self.send_deadline_s = send_deadline_s
        self.max_command_age_s = max_command_age_s
        self.clock = clock
        self.client: AsyncClient | None = None
        self.user_id = config.user_id
        self._stopping = asyncio.Event()
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
        # Called once after the first sync (the app resumes interrupted deliveries).
        self.on_ready: Callable[[MatrixAdapter], Awaitable[object]] | None = None
        self._ready_task: asyncio.Task[object] | None = None

    # -- construction and life cycle ------------------------------------------------

    @classmethod
    def from_host(cls, host: AdapterHost, **kwargs: Any) -> MatrixAdapter:
        """The adapter ``unrollbot run`` starts when ``[matrix] enabled = true``."""
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
        """Log in and catch up to now without handling old events. Raises
        MatrixStartupError with a clear message when that is impossible."""
        try:
            state = self.store.load()
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
            why = str(exc) or type(exc).__name__
            raise MatrixStartupError(
                f"cannot reach the Matrix homeserver at {hs} (matrix.homeserver): {why}"
            ) from None
        except BaseException:
            await client.close()
            raise
        self.connected.set()
        log.info("matrix: logged in as %s (device %s)", client.user_id, client.device_id)

    async def _login(self, client: AsyncClient, device_id: str | None) -> None:
        if self._access_token:
            client.access_token = self._access_token
            who = await client.whoami()
            if not isinstance(who, WhoamiResponse):
                raise MatrixStartupError(
                    f"matrix: the access token was refused by {self.config.homeserver}: {who}"
                )
            if who.user_id != self.config.user_id:
                raise MatrixStartupError(
                    f"matrix.user_id is {self.config.user_id} but the access token belongs "
                    f"to {who.user_id}"
                )
            client.user_id = who.user_id
            client.device_id = who.device_id or device_id or ""
            if self.e2e:
                if not who.device_id:
                    raise MatrixStartupError(
                        "matrix.encryption needs a device: the access token has none"
                    )
                client.restore_login(who.user_id, who.device_id, self._access_token)
            return
        assert self._password is not None
        res = await client.login(self._password, device_name=self.config.device_name)
        if not isinstance(res, LoginResponse):
            raise MatrixStartupError(
                f"matrix: login as {self.config.user_id} failed: {res} "
                "(check matrix.user_id and the password variable)"
            )
        self.user_id = res.user_id

    async def run(self) -> None:
        """Sync until ``stop()``; reconnects with backoff when the server goes away."""
        if self.client is None:
            await self.start()
        self._loop_done.clear()
        try:
            await self._sync_loop()
        finally:
            self._loop_done.set()

    async def _sync_loop(self) -> None:
        failures = 0
        while not self._stopping.is_set():
            resp = await self._sync_once()
            if resp is None:
                if self._stopping.is_set():
                    return
                failures += 1
                if failures == 1:
                    self.connected.clear()
                    self.reconnects += 1
                delay = self.backoff.delay(failures)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), delay)
                continue
            if failures:
                log.info("matrix: reconnected after %d failed syncs", failures)
            failures = 0
            self.connected.set()
            if self.e2e:
                await self._crypto_upkeep()
            await self._handle_sync(resp)
            self.store.state.next_batch = resp.next_batch
            await self.store.save()
            if self.on_ready is not None and self._ready_task is None:
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
        stop = asyncio.ensure_future(self._stopping.wait())
        try:
            done, _ = await asyncio.wait({sync, stop}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            # Also when run() itself is cancelled: no request may outlive the loop.
            for fut in (sync, stop):
                if not fut.done():
                    fut.cancel()
        if sync not in done or self._stopping.is_set():
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

    async def _login_again(self, why: object, failed_token: str | None) -> None:
        """The token was revoked (logout, password change). With a password the bot logs
        in again on the same device; with a fixed access token it cannot, and stops."""
        if self._password is None:
            raise MatrixStartupError(
                f"matrix: the homeserver no longer accepts the access token: {why}"
            )
        assert self.client is not None
        async with self._login_lock:
            # A login on a device revokes its other tokens: log in once, not per caller.
            if self.client.access_token != failed_token:
                return
            log.warning("matrix: the homeserver logged the bot out (%s); logging in again", why)
            try:
                await self._login(self.client, self.client.device_id)
            except TRANSIENT as exc:
                log.warning("matrix: logging in again failed, will retry: %r", exc)
                return
            self.relogins += 1
        if self.e2e:
            await self._crypto_upkeep()

    async def _crypto_upkeep(self) -> None:
        """What nio's sync_forever does for encryption between syncs: publish our keys,
        learn others' devices, open sessions and send the queued room keys."""
        client = self.client
        assert client is not None
        try:
            if client.should_upload_keys:
                await client.keys_upload()
            if client.should_query_keys:
                await client.keys_query()
            if client.should_claim_keys:
                await client.keys_claim(client.get_users_for_key_claiming())
            await client.send_to_device_messages()
        except TRANSIENT as exc:
            log.warning("matrix: key upkeep failed, will retry after the next sync: %r", exc)

    async def close(self) -> None:
        await self.stop()

    async def stop(self, grace_s: float = 10.0) -> None:
        """Stop syncing, let running commands finish (up to ``grace_s``), log out of
        nothing (the device and token stay for the next start)."""
        if self._stopping.is_set():
            return
        self._stopping.set()
        # The sync loop ends first, so no request starts on a closed session.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._loop_done.wait(), grace_s)
        if self._tasks:
            _, pending = await asyncio.wait(set(self._tasks), timeout=grace_s)
            for task in pending:
                task.cancel()
        if self.client is not None:
            await self.client.close()

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

    async def _handle_invites(self, resp: SyncResponse) -> None:
        assert self.client is not None
        for room_id, info in resp.rooms.invite.items():
            inviter = self._inviter(info)
            if not self.config.auto_join:
                # Left pending: an operator may still accept it by hand.
                log.info("matrix: invite to %s from %s (auto_join is off)", room_id, inviter)
                continue
            if not inviter_allowed(inviter or "", self.config.allowed_inviters, self.user_id):
                log.info("matrix: declining invite to %s from %s", room_id, inviter)
                with contextlib.suppress(*TRANSIENT):
                    await self.client.room_leave(room_id)
                continue
            log.info("matrix: joining %s (invited by %s)", room_id, inviter)
            self._to_join.add(room_id)
        for room_id in sorted(self._to_join):
            try:
                res = await self.client.join(room_id)
            except TRANSIENT as exc:
                # An invite shows up in one sync only: keep it and try after the next one.
                log.warning("matrix: joining %s failed, will retry: %r", room_id, exc)
                continue
            self._to_join.discard(room_id)
            if isinstance(res, JoinError):
                log.warning("matrix: cannot join %s: %s", room_id, res)

    def _is_own_join(self, src: dict[str, Any]) -> bool:
        if src.get("type") != "m.room.member" or src.get("state_key") != self.user_id:
            return False
        prev = ((src.get("unsigned") or {}).get("prev_content") or {}).get("membership")
        return (src.get("content") or {}).get("membership") == "join" and prev != "join"

    def _inviter(self, info: InviteInfo) -> str | None:
        for event in info.invite_state:
            # nio keeps the membership as an attribute, not in the stripped ``source``.
            src = getattr(event, "source", None) or {}
            membership = getattr(event, "membership", None) or (src.get("content") or {}).get(
                "membership"
            )
            if (
                src.get("type") == "m.room.member"
                and src.get("state_key") == self.user_id
                and membership == "invite"
            ):
                sender = src.get("sender")
                return sender if isinstance(sender, str) else None
        return None

    def _is_encrypted(self, room_id: str) -> bool:
        assert self.client is not None
        room = self.client.rooms.get(room_id)
        return bool(room and room.encrypted)

    async def _tell_encrypted(self, room_id: str) -> None:
        told = self.store.state.told_encrypted
        if room_id in told:
            return
        told.append(room_id)
        await self.store.save()
        room = Room(NAME, room_id, room_id)
        try:
            await self.send(room, reply(ENCRYPTED_NOTICE), key=f"encrypted-notice-{room_id}")
        except MatrixSendError as exc:
            log.warning("matrix: cannot tell %s that it is encrypted: %s", room_id, exc)

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

    async def power_of(self, room_id: str, user_id: str) -> int:
        """A member's power level as the room's current state says. The state is read
        from the server once per room (after a restart an incremental sync carries none)
        and then kept current from the power-level events that sync delivers."""
        auth = self._auth.get(room_id) or await self._load_auth(room_id)
        if auth is None:
            return user_power(None, user_id)
        return user_power(auth.levels, user_id, creators=auth.creators, room_version=auth.version)

    async def _load_auth(self, room_id: str) -> RoomAuth | None:
        assert self.client is not None
        try:
            res = await self.client.room_get_state(room_id)
        except TRANSIENT:
            return None
        if not isinstance(res, RoomGetStateResponse):
            log.warning("matrix: cannot read the state of %s: %s", room_id, res)
            return None
        auth = RoomAuth()
        for event in res.events:
            if isinstance(event, dict):
                auth.apply(event)
        self._auth[room_id] = auth
        return auth

    async def _track_direct(self, room_id: str, events: list[dict[str, Any]]) -> None:
        """Forget a direct chat the person left, so the next private answer opens a new one
        instead of going where nobody reads it."""
        dms = self.store.state.direct_rooms
        for event in events:
            user = event.get("state_key")
            membership = (event.get("content") or {}).get("membership")
            if (
                event.get("type") == "m.room.member"
                and isinstance(user, str)
                and dms.get(user) == room_id
                and membership in ("leave", "ban")
            ):
                del dms[user]
                await self.store.save()
                assert self.client is not None
                with contextlib.suppress(*TRANSIENT):
                    await self.client.room_leave(room_id)

    def _track_state(self, room_id: str, events: list[dict[str, Any]]) -> None:
        auth = self._auth.get(room_id)
        if auth is None:
            return  # read in full when first needed
        for event in events:
            auth.apply(event)

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

    # -- outbound -------------------------------------------------------------------

    async def set_typing(self, room_id: str, on: bool) -> None:
        if self.client is None:
            return
        with contextlib.suppress(*TRANSIENT):
            await self.client.room_typing(room_id, on, timeout=30_000)

    async def send(
        self,
        room: Room,
        message: Message,
        *,
        thread: MessageRef | None = None,
        key: str | None = None,
    ) -> list[MessageRef]:
        root = (thread.thread_id or thread.message_id) if thread else None
        refs: list[MessageRef] = []
        for i, chunk in enumerate(html.render(message, self.capabilities.max_length)):
            content = notice_content(chunk)
            if root is not None:
                tail = self._thread_tail.get(root, root)
                content["m.relates_to"] = thread_relation(root, tail, falling_back=True)
            txn = f"{key}-{i}" if key else None
            event_id = await self._send_event(room.channel, content, txn)
            if root is not None:
                self._thread_tail[root] = event_id
                self._thread_of[event_id] = root
            refs.append(MessageRef(NAME, room.channel, event_id, root))
        return refs

    async def send_reply(
        self, room: Room, message: Message, to_event: str, thread_root: str | None
    ) -> list[MessageRef]:
        """Answer a command: a rich reply, inside the command's thread when it had one."""
        refs: list[MessageRef] = []
        for chunk in html.render(message, self.capabilities.max_length):
            content = notice_content(chunk)
            if thread_root is not None:
                content["m.relates_to"] = thread_relation(thread_root, to_event, falling_back=False)
            else:
                content["m.relates_to"] = {"m.in_reply_to": {"event_id": to_event}}
            event_id = await self._send_event(room.channel, content, None)
            refs.append(MessageRef(NAME, room.channel, event_id, thread_root))
        return refs

    async def start_thread(self, room: Room, header: MessageRef, name: str) -> MessageRef:
        # A thread's root may not sit in another thread: stay in the header's thread then.
        root = header.thread_id or self._thread_of.get(header.message_id) or header.message_id
        self._thread_tail.setdefault(root, header.message_id)
        return MessageRef(NAME, header.channel, header.message_id, root)

    async def edit(self, refs: list[MessageRef], message: Message) -> list[MessageRef]:
        chunks = html.render(message, self.capabilities.max_length)
        out: list[MessageRef] = []
        for ref, chunk in zip(refs, chunks, strict=False):
            await self._send_event(ref.channel, replacement(ref.message_id, chunk), None)
            out.append(ref)
        if len(chunks) > len(refs) and refs:
            # The message grew: the rest goes after it, in the same thread.
            last = refs[-1]
            previous = last.message_id
            for chunk in chunks[len(refs) :]:
                content = notice_content(chunk)
                if last.thread_id:
                    content["m.relates_to"] = thread_relation(
                        last.thread_id, previous, falling_back=True
                    )
                previous = await self._send_event(last.channel, content, None)
                out.append(MessageRef(NAME, last.channel, previous, last.thread_id))
        for ref in refs[len(chunks) :]:
            await self._send_event(ref.channel, replacement(ref.message_id, blank_chunk()), None)
            out.append(ref)
        return out

    async def send_direct(self, user_id: str, message: Message) -> list[MessageRef]:
        room_id = await self._direct_room(user_id)
        try:
            return await self.send(Room(NAME, room_id, room_id), message)
        except MatrixSendError:
            # The person left or the room is gone: open a new direct chat once.
            room_id = await self._direct_room(user_id, stale=room_id)
            return await self.send(Room(NAME, room_id, room_id), message)

    async def _direct_room(self, user_id: str, stale: str | None = None) -> str:
        """The direct chat with a user, created (and remembered) on first use."""
        async with self._dm_lock:
            assert self.client is not None
            known = self.store.state.direct_rooms.get(user_id)
            if known and known != stale:
                return known
            res = await self.client.room_create(
                is_direct=True, invite=(user_id,), preset=RoomPreset.trusted_private_chat
            )
            if not isinstance(res, RoomCreateResponse):
                raise MatrixSendError(f"cannot open a direct chat with {user_id}: {res}")
            self.store.state.direct_rooms[user_id] = res.room_id
            await self.store.save()
            return str(res.room_id)

    def link_to(self, ref: MessageRef) -> str | None:
        # "via" names a server that can route the link (room ids carry none from v12 on).
        via = server_of(self.user_id)
        return f"https://matrix.to/#/{ref.channel}/{ref.message_id}?via={via}"

    async def _send_event(self, room_id: str, content: dict[str, Any], txn: str | None) -> str:
        """Send one event, retrying transient failures with the same transaction id, so a
        send that reached the server before the connection broke is not posted twice."""
        assert self.client is not None
        txn = txn or uuid.uuid4().hex
        deadline = time.monotonic() + self.send_deadline_s
        attempt = 0
        while True:
            attempt += 1
            token = self.client.access_token
            try:
                # Bots cannot verify devices interactively: trust on first use.
                resp = await self.client.room_send(
                    room_id, "m.room.message", content, tx_id=txn, ignore_unverified_devices=True
                )
            except (*TRANSIENT, SendRetryError) as exc:
                problem = repr(exc)
            except LocalProtocolError as exc:
                raise MatrixSendError(f"sending to {room_id} failed: {exc}") from None
            else:
                if isinstance(resp, RoomSendResponse):
                    return str(resp.event_id)
                if getattr(resp, "status_code", None) == "M_UNKNOWN_TOKEN" and attempt < 3:
                    await self._login_again(resp, token)
                    continue
                status = getattr(getattr(resp, "transport_response", None), "status", 0) or 0
                if status < 500:
                    raise MatrixSendError(f"sending to {room_id} failed: {resp}")
                problem = str(resp)
            if time.monotonic() > deadline or (self._stopping.is_set() and attempt > 3):
                raise MatrixSendError(f"sending to {room_id} kept failing: {problem}")
            log.warning("matrix: send to %s failed (%s), retrying", room_id, problem)
            self.send_retries += 1
            await asyncio.sleep(self.backoff.delay(attempt))


__all__ = ["Backoff", "MatrixAdapter", "MatrixContext", "MatrixSendError", "MatrixStartupError"]
