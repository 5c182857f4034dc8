"""Matrix rooms: invites (joined from allowed inviters), power levels (who is a
moderator), encrypted rooms told once, and the direct chats private answers go to."""

from __future__ import annotations

import contextlib
import logging
from typing import Any

from nio import (
    InviteInfo,
    JoinError,
    RoomCreateResponse,
    RoomGetStateResponse,
    RoomPreset,
    SyncResponse,
)

from bot.adapters.matrix.base import NAME, TRANSIENT, MatrixParts, MatrixSendError
from bot.adapters.matrix.rules import RoomAuth, inviter_allowed, user_power
from bot.context import Room
from bot.render.document import reply

log = logging.getLogger(__name__)

ENCRYPTED_NOTICE = (
    "This room is end-to-end encrypted and I cannot read encrypted messages, so I will not "
    "see commands here. Invite me to an unencrypted room to use me."
)


class MatrixRooms(MatrixParts):
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

    async def _direct_room(self, user_id: str, stale: str | None = None) -> str:
        """The direct chat with a user, created (and remembered) on first use."""
        async with self._dm_lock:
            self._check_live()
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
