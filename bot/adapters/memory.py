"""An in-memory adapter for tests: records everything the bot sends, drives commands as
any user, and formats with the plain renderer (a small message limit exercises chunking)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from bot.context import MessageRef, Room, User
from bot.dispatcher import Dispatcher
from bot.render import plain
from bot.render.document import Capabilities, Message


@dataclass
class Sent:
    ref: MessageRef
    text: str
    message: Message
    thread: str | None
    key: str | None = None
    edits: list[str] = field(default_factory=list)


@dataclass
class Reply:
    text: str
    private: bool


class MemoryAdapter:
    name = "memory"

    def __init__(self, dispatcher: Dispatcher, capabilities: Capabilities | None = None) -> None:
        self.dispatcher = dispatcher
        self.capabilities = capabilities or Capabilities(
            max_length=2000, markup="plain", spoilers=True, threads=True, edits=True
        )
        self.sent: list[Sent] = []
        self.replies: list[Reply] = []
        self.progress: list[str] = []
        self.threads: dict[str, str] = {}  # thread id -> name
        self._ids = itertools.count(1)
        self._by_key: dict[str, list[MessageRef]] = {}

    # ChatAdapter
    async def send(
        self,
        room: Room,
        message: Message,
        *,
        thread: MessageRef | None = None,
        key: str | None = None,
    ) -> list[MessageRef]:
        if key is not None and key in self._by_key:
            return self._by_key[key]  # idempotent like Matrix txn ids
        refs = []
        for chunk in plain.chunks(message, self.capabilities.max_length):
            ref = MessageRef(
                self.name, room.channel, f"m{next(self._ids)}", thread.thread_id if thread else None
            )
            self.sent.append(Sent(ref, chunk, message, ref.thread_id, key))
            refs.append(ref)
        if key is not None:
            self._by_key[key] = refs
        return refs

    async def start_thread(self, room: Room, header: MessageRef, name: str) -> MessageRef:
        thread_id = f"t{header.message_id}"
        self.threads[thread_id] = name
        return MessageRef(self.name, room.channel, thread_id, thread_id)

    async def rename_thread(self, thread: MessageRef, name: str) -> None:
        if thread.thread_id in self.threads:
            self.threads[thread.thread_id] = name

    async def edit(self, refs: list[MessageRef], message: Message) -> list[MessageRef]:
        texts = plain.chunks(message, self.capabilities.max_length)
        by_id = {s.ref.message_id: s for s in self.sent}
        for ref, text in zip(refs, texts, strict=False):
            sent = by_id[ref.message_id]
            sent.edits.append(text)
            sent.text = text
            sent.message = message
        out = list(refs)
        for text in texts[len(refs) :]:
            # Grown past its messages: the rest follows in the same thread, as on Discord.
            last = refs[-1]
            ref = MessageRef(self.name, last.channel, f"m{next(self._ids)}", last.thread_id)
            self.sent.append(Sent(ref, text, message, ref.thread_id))
            out.append(ref)
        return out

    def link_to(self, ref: MessageRef) -> str | None:
        return f"memory://{ref.channel}/{ref.thread_id or ref.message_id}"

    async def run(self) -> None:
        """Nothing to serve: tests drive the bot through ``command``."""

    async def close(self) -> None:
        pass

    # Driving the bot
    async def command(
        self,
        text: str,
        *,
        user: str = "alice",
        moderator: bool = False,
        room: Room | None = None,
    ) -> MemoryContext:
        ctx = MemoryContext(
            self, room or Room(self.name, "scope-1", "channel-1"), User(user, user, moderator)
        )
        handled = await self.dispatcher.handle_text(ctx, text)
        if not handled:
            await ctx.reply("(no command)", private=True)
        return ctx

    def posted_texts(self, thread: str | None = None) -> list[str]:
        return [s.text for s in self.sent if thread is None or s.thread == thread]


class MemoryContext:
    def __init__(self, adapter: MemoryAdapter, room: Room, user: User) -> None:
        self.adapter = adapter
        self.room = room
        self.user = user
        self.replies: list[Reply] = []

    async def reply(self, message: Message | str, *, private: bool = False) -> None:
        text = message if isinstance(message, str) else plain.message_text(message, reveal=False)
        r = Reply(text, private)
        self.replies.append(r)
        self.adapter.replies.append(r)

    async def progress(self, text: str) -> None:
        self.adapter.progress.append(text)
