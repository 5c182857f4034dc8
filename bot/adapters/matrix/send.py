"""Sending to Matrix: notices in threads, rich replies, edits in place, direct chats;
every event carries a transaction id and is retried with it, so the homeserver drops a
repeat."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from typing import Any

from nio import RoomSendResponse
from nio.exceptions import LocalProtocolError, SendRetryError

from bot.adapters.matrix.base import NAME, TRANSIENT, MatrixParts, MatrixSendError
from bot.adapters.matrix.content import (
    blank_chunk,
    msgtype_for,
    notice_content,
    replacement,
    thread_relation,
)
from bot.adapters.matrix.rules import server_of
from bot.context import MessageRef, Room
from bot.render import html
from bot.render.document import Message

log = logging.getLogger(__name__)


class MatrixSender(MatrixParts):
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
        msgtype = msgtype_for(message)
        for i, chunk in enumerate(html.render(message, self.capabilities.max_length)):
            content = notice_content(chunk, msgtype)
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

    async def rename_thread(self, thread: MessageRef, name: str) -> None:
        return None  # a Matrix thread has no title: its root (the header) is what shows

    async def edit(self, refs: list[MessageRef], message: Message) -> list[MessageRef]:
        chunks = html.render(message, self.capabilities.max_length)
        msgtype = msgtype_for(message)
        out: list[MessageRef] = []
        for ref, chunk in zip(refs, chunks, strict=False):
            await self._send_event(ref.channel, replacement(ref.message_id, chunk, msgtype), None)
            out.append(ref)
        if len(chunks) > len(refs) and refs:
            # The message grew: the rest goes after it, in the same thread.
            last = refs[-1]
            previous = last.message_id
            for chunk in chunks[len(refs) :]:
                content = notice_content(chunk, msgtype)
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

    def link_to(self, ref: MessageRef) -> str | None:
        # "via" names a server that can route the link (room ids carry none from v12 on).
        via = server_of(self.user_id)
        return f"https://matrix.to/#/{ref.channel}/{ref.message_id}?via={via}"

    async def _send_event(self, room_id: str, content: dict[str, Any], txn: str | None) -> str:
        """Send one event, retrying transient failures with the same transaction id, so a
        send that reached the server before the connection broke is not posted twice."""
        txn = txn or uuid.uuid4().hex
        deadline = time.monotonic() + self.send_deadline_s
        attempt = 0
        while True:
            attempt += 1
            self._check_live()  # lost the session while retrying: the holder sends now
            assert self.client is not None
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
