"""The console: a chat in the terminal as a local user (who is a moderator).

Lines starting with "/" are commands (`/unroll URL`, `/help`); a bare supported link is
unrolled. Spoilered content is hidden behind `/reveal N`. With stdin not a terminal, the
lines are run one after another and the console exits at the end of input.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import sys
import threading
from typing import TextIO

from bot.context import MessageRef, Room, User
from bot.dispatcher import Dispatcher
from bot.errors import quoted
from bot.render import plain
from bot.render.document import Capabilities, Message

PROMPT = "> "
SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"


class ConsoleAdapter:
    name = "console"
    capabilities = Capabilities(
        max_length=100_000,
        markup="plain",
        spoilers=True,
        threads=True,
        edits=False,
        reveal_command=True,
    )

    def __init__(
        self,
        dispatcher: Dispatcher,
        stdin: TextIO | None = None,
        stdout: TextIO | None = None,
        stderr: TextIO | None = None,
        interactive: bool | None = None,
    ) -> None:
        self.dispatcher = dispatcher
        self.stdin = stdin or sys.stdin
        self.stdout = stdout or sys.stdout
        self.stderr = stderr or sys.stderr
        self.interactive = self.stdin.isatty() if interactive is None else interactive
        self.room = Room(self.name, "console", "console")
        self.user = User("console", "you", is_moderator=True)
        self._ids = itertools.count(1)
        self.hidden: dict[int, Message] = {}
        self._spinner: asyncio.Task[None] | None = None
        # True while the prompt is the last thing on screen and a line is awaited: output
        # arriving then (a thread still being posted, a subscription) redraws the prompt.
        self._at_prompt = False

    # ChatAdapter
    async def send(
        self,
        room: Room,
        message: Message,
        *,
        thread: MessageRef | None = None,
        key: str | None = None,
    ) -> list[MessageRef]:
        self._stop_spinner()
        text = self._shown(message)
        if thread is not None:
            text = "\n".join("  │ " + line if line else "  │" for line in text.splitlines())
        self._write(text + "\n")
        return [
            MessageRef(
                self.name, room.channel, f"c{next(self._ids)}", thread.thread_id if thread else None
            )
        ]

    def _shown(self, message: Message) -> str:
        """The message as text, warned content replaced by a /reveal hint: each warned post
        (several in a packed message) gets its own number."""
        hints: dict[int, str] = {}
        for part in message.parts or (message,):
            if part.spoiler:
                n = len(self.hidden) + 1
                self.hidden[n] = part
                hints[id(part)] = f"(type /reveal {n} to show it)"
        return plain.message_text(
            message, reveal=False, hint_for=lambda part: hints.get(id(part), "")
        )

    async def start_thread(self, room: Room, header: MessageRef, name: str) -> MessageRef:
        return MessageRef(self.name, room.channel, header.message_id, header.message_id)

    async def rename_thread(self, thread: MessageRef, name: str) -> None:
        return None  # console threads have no title

    async def edit(self, refs: list[MessageRef], message: Message) -> list[MessageRef]:
        return refs

    def link_to(self, ref: MessageRef) -> str | None:
        return None

    # Context
    async def reply(self, message: Message | str, *, private: bool = False) -> None:
        self._stop_spinner()
        # A private answer (unroll private:true) hides warned content like the room does.
        text = message if isinstance(message, str) else self._shown(message)
        self._write(text + "\n")

    async def progress(self, text: str) -> None:
        self._stop_spinner()
        if self.interactive:
            self._spinner = asyncio.create_task(self._spin(text))
        else:
            print(text, file=self.stderr, flush=True)

    async def _spin(self, text: str) -> None:
        try:
            for ch in itertools.cycle(SPINNER):
                self.stderr.write(f"\r{ch} {text}")
                self.stderr.flush()
                await asyncio.sleep(0.1)
        except asyncio.CancelledError:
            self.stderr.write("\r\033[K")
            self.stderr.flush()
            raise

    def _stop_spinner(self) -> None:
        if self._spinner is not None:
            self._spinner.cancel()
            self._spinner = None
            if self.interactive:
                self.stderr.write("\r\033[K")

    def _write(self, text: str) -> None:
        if self._at_prompt:
            text = f"\r\033[K{text}{PROMPT}"
        self.stdout.write(text)
        self.stdout.flush()

    def _prompt(self) -> None:
        if self.interactive:
            self._write(PROMPT)
            self._at_prompt = True

    @property
    def adapter(self) -> ConsoleAdapter:
        return self

    # Loop
    async def handle_line(self, line: str) -> None:
        line = line.strip()
        if not line or line.startswith("#"):
            return
        if line.startswith("/"):
            body = line[1:]
            word, _, rest = body.partition(" ")
            if word.lower() == "reveal":
                await self._reveal(rest.strip())
                return
            if word.lower() in ("quit", "exit"):
                raise EOFError
            if not await self.dispatcher.handle_text(self, body):
                await self.reply("Type /help for the commands.")
            return
        if not await self.dispatcher.handle_passive(self, line):
            await self.reply("Paste a thread link, or type /help for the commands.")

    async def _reveal(self, arg: str) -> None:
        try:
            message = self.hidden[int(arg)]
        except (ValueError, KeyError):
            await self.reply(f"Nothing hidden under {quoted(arg)}. Usage: /reveal N")
            return
        await self.reply(plain.message_text(message, reveal=True))

    async def run(self) -> None:
        if self.interactive:
            self._write("unrollbot console. Paste a thread link or type /help. Ctrl-D quits.\n")
        lines = self._read_lines()
        while True:
            self._prompt()
            line = await lines.get()
            self._at_prompt = False
            if line is None:
                break
            try:
                await self.handle_line(line)
            except EOFError:
                break
        self._stop_spinner()

    def _read_lines(self) -> asyncio.Queue[str | None]:
        """Lines from stdin, read by a daemon thread: a blocking read must never keep the
        process from shutting down on SIGTERM."""
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[str | None] = asyncio.Queue()

        def reader() -> None:
            try:
                for line in iter(self.stdin.readline, ""):
                    loop.call_soon_threadsafe(queue.put_nowait, line)
            except (OSError, ValueError):
                pass
            with contextlib.suppress(RuntimeError):  # the loop may be closed already
                loop.call_soon_threadsafe(queue.put_nowait, None)

        threading.Thread(target=reader, name="console-stdin", daemon=True).start()
        return queue

    async def close(self) -> None:
        self._stop_spinner()
