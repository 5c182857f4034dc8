"""The Context a Matrix command handler gets: who asked, where, and how to answer."""

from __future__ import annotations

from typing import Protocol

from bot.context import ChatAdapter, MessageRef, Room, User
from bot.render.document import Message, reply


class MatrixReplies(ChatAdapter, Protocol):
    """What a command's context needs from the adapter (``send.py`` implements it)."""

    async def send_direct(self, user_id: str, message: Message) -> list[MessageRef]: ...

    async def send_reply(
        self, room: Room, message: Message, to_event: str, thread_root: str | None
    ) -> list[MessageRef]: ...

    async def set_typing(self, room_id: str, on: bool) -> None: ...


DM_POINTER = "Sent to you in a direct chat (accept my invite if you have not yet)."


class MatrixContext:
    """What a command handler sees for one Matrix command event."""

    def __init__(
        self, adapter: MatrixReplies, room: Room, user: User, event_id: str, thread_root: str | None
    ) -> None:
        self.adapter = adapter
        self.room = room
        self.user = user
        self.event_id = event_id
        self.thread_root = thread_root
        self.typing = False
        self._pointed_to_dm = False

    async def reply(self, message: Message | str, *, private: bool = False) -> None:
        msg = reply(message) if isinstance(message, str) else message
        if private and msg.kind != "reply":
            # Matrix has no ephemeral messages. Short answers (errors, confirmations) stay
            # a reply in the room; content asked for privately goes to a direct chat.
            await self.adapter.send_direct(self.user.id, msg)
            if not self._pointed_to_dm:
                self._pointed_to_dm = True
                note = reply(DM_POINTER)
                await self.adapter.send_reply(self.room, note, self.event_id, self.thread_root)
            return
        await self.adapter.send_reply(self.room, msg, self.event_id, self.thread_root)

    async def progress(self, text: str) -> None:
        self.typing = True
        await self.adapter.set_typing(self.room.channel, True)
