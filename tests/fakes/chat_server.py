"""A chat platform shared by several bot processes: a small HTTP server that logs every
message and deduplicates idempotency keys the way Matrix transaction ids do (the same key
again returns the message ids it got the first time, and posts nothing), and the adapter a
bot process uses to talk to it.

The server runs in the test (or benchmark) process, so its log outlives every bot process
killed with kill -9; a message that reached it counts as posted, whether or not the bot
lived to hear the answer.

    async with FakeChat() as chat:                      # in the test
        ... chat.base_url, chat.messages, chat.deduped
    adapter = HttpChat(dispatcher, chat_url)            # in each bot process
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp import web

from bot.adapters.memory import MemoryAdapter
from bot.context import MessageRef, Room
from bot.dispatcher import Dispatcher
from bot.render import plain
from bot.render.document import Message
from tests.fakes.base import FakeServer, json_response


@dataclass
class ChatMessage:
    id: str
    channel: str
    thread: str | None
    key: str | None
    text: str
    sender: str  # which bot process posted it
    at: float  # server time (time.monotonic) it was posted
    edits: int = 0


class FakeChat(FakeServer):
    def __init__(self) -> None:
        super().__init__()
        self.messages: list[ChatMessage] = []
        self.by_id: dict[str, ChatMessage] = {}
        self.by_key: dict[str, list[str]] = {}
        self.deduped = 0  # sends answered from an earlier one with the same key
        # Called with each new message before the sender gets its answer (a test may kill
        # the sender right there).
        self.on_message: Callable[[ChatMessage], None] | None = None

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/send", self._send)
        app.router.add_post("/edit", self._edit)

    async def _send(self, request: web.Request) -> web.Response:
        body: dict[str, Any] = await request.json()
        key = body.get("key")
        if key is not None and key in self.by_key:
            self.deduped += 1
            return json_response({"ids": self.by_key[key]})
        ids = []
        for text in body["texts"]:
            mid = f"m{len(self.messages) + 1}"
            msg = ChatMessage(
                mid,
                body["channel"],
                body.get("thread"),
                key,
                text,
                body.get("sender", ""),
                time.monotonic(),
            )
            self.messages.append(msg)
            self.by_id[mid] = msg
            ids.append(mid)
            if self.on_message is not None:
                self.on_message(msg)
        if key is not None:
            self.by_key[key] = ids
        return json_response({"ids": ids})

    async def _edit(self, request: web.Request) -> web.Response:
        body: dict[str, Any] = await request.json()
        msg = self.by_id.get(body["id"])
        if msg is None:
            return json_response({"error": "unknown message"}, status=404)
        msg.text = body["text"]
        msg.edits += 1
        return json_response({"ids": [msg.id]})

    # What a test reads.
    def headers(self, channel: str) -> list[ChatMessage]:
        return [m for m in self.messages if m.channel == channel and m.thread is None]

    def thread_of(self, header: ChatMessage) -> list[ChatMessage]:
        return [m for m in self.messages if m.thread == f"t{header.id}"]


class HttpChat(MemoryAdapter):
    """The bot's side: a MemoryAdapter (commands can be driven through it) whose messages
    go to a FakeChat server, with their idempotency keys."""

    def __init__(self, dispatcher: Dispatcher, base_url: str, sender: str = "") -> None:
        super().__init__(dispatcher)
        self.base_url = base_url
        self.sender = sender
        self._session: aiohttp.ClientSession | None = None

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
        return self._session

    async def _post(self, path: str, body: dict[str, Any]) -> list[str]:
        async with self._http().post(self.base_url + path, json=body) as resp:
            resp.raise_for_status()
            data: dict[str, Any] = await resp.json()
        return [str(i) for i in data["ids"]]

    async def send(
        self,
        room: Room,
        message: Message,
        *,
        thread: MessageRef | None = None,
        key: str | None = None,
    ) -> list[MessageRef]:
        tid = thread.thread_id if thread else None
        texts = plain.chunks(message, self.capabilities.max_length)
        body = {"channel": room.channel, "thread": tid, "key": key, "texts": texts}
        ids = await self._post("/send", {**body, "sender": self.sender})
        return [MessageRef(self.name, room.channel, mid, tid) for mid in ids]

    async def edit(self, refs: list[MessageRef], message: Message) -> list[MessageRef]:
        text = plain.chunks(message, self.capabilities.max_length)[0]
        await self._post("/edit", {"id": refs[0].message_id, "text": text})
        return refs

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
