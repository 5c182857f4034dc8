"""What a command handler sees: who called, where, and how to answer.

Adapters implement ChatAdapter; the dispatcher builds a Context for each invocation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from bot.render.document import Capabilities, Message


@dataclass(frozen=True)
class Room:
    """A place messages go: adapter name, a scope for settings (Discord guild, Matrix
    room), and the channel/room id messages are sent to."""

    adapter: str
    scope: str
    channel: str


@dataclass(frozen=True)
class User:
    id: str
    name: str
    is_moderator: bool = False


@dataclass(frozen=True)
class MessageRef:
    """A message the bot sent, enough to edit it or reply in its thread later."""

    adapter: str
    channel: str
    message_id: str
    thread_id: str | None = None


class ChatAdapter(Protocol):
    name: str
    capabilities: Capabilities

    async def send(
        self,
        room: Room,
        message: Message,
        *,
        thread: MessageRef | None = None,
        key: str | None = None,
    ) -> list[MessageRef]:
        """Send one Message (split into several chunks if needed); refs in order.
        ``key`` is an idempotency key: sending the same key twice (after a crash) must not
        post twice where the platform supports it (Matrix txn ids, Discord nonces)."""
        ...

    async def start_thread(self, room: Room, header: MessageRef, name: str) -> MessageRef:
        """Start a chat thread from a header message; returns a ref to send into (the
        header itself when the platform has no threads)."""
        ...

    async def rename_thread(self, thread: MessageRef, name: str) -> None:
        """Retitle a chat thread the bot started for a delivery (a content warning added
        later must not stay readable in its title). A no-op where threads have no title,
        and for a thread the bot did not start."""
        ...

    async def edit(self, refs: list[MessageRef], message: Message) -> list[MessageRef]:
        """Replace what ``refs`` (the chunks of one sent Message) show with ``message``:
        edit in place, send extra chunks into the same thread if it grew, blank leftovers.
        Only called when capabilities.edits."""
        ...

    def link_to(self, ref: MessageRef) -> str | None:
        """A link users can click to reach a sent message or chat thread, if any."""
        ...


class Context(Protocol):
    @property
    def room(self) -> Room: ...

    @property
    def user(self) -> User: ...

    @property
    def adapter(self) -> ChatAdapter: ...

    async def reply(self, message: Message | str, *, private: bool = False) -> None:
        """Answer the caller (ephemeral when private and the platform allows)."""
        ...

    async def progress(self, text: str) -> None:
        """Show that work is under way (typing, a reaction, a status line)."""
        ...
