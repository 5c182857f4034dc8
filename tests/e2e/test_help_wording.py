"""Help and the bot's short answers, as a user types them: groups explained by name,
commands named with the prefix of the chat they are read in, the console prompt back
after every answer."""

from __future__ import annotations

import io
import os
import pty
import select
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.adapters.console import ConsoleAdapter
from bot.adapters.memory import MemoryAdapter
from bot.app import App
from bot.config import Config, NetworkConfig, StorageConfig
from bot.render.document import Message, para


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[App]:
    config = Config(
        storage=StorageConfig(str(tmp_path / "bot.sqlite3")),
        network=NetworkConfig(allow_private_addresses=True, retries=0),
    )
    application = await App.create(config, sources=[])  # every feature loaded
    yield application
    await application.close()


async def test_help_explains_a_group_by_its_name(app: App) -> None:
    chat = MemoryAdapter(app.dispatcher)
    text = (await chat.command("help cw")).replies[-1].text
    lines = text.splitlines()
    assert lines[0] == "/cw commands:"
    assert any(line.startswith("  /cw add <url>") for line in lines)
    assert any(line.startswith("  /cw remove") for line in lines)
    assert any(line.startswith("  /cw list") for line in lines)
    assert "No command named" not in text
    # The group typed alone answers the same way, and so does a prefixed or capitalised ask.
    assert (await chat.command("cw")).replies[-1].text == text
    assert (await chat.command("help /CW")).replies[-1].text == text


async def test_help_for_one_command_of_a_group(app: App) -> None:
    chat = MemoryAdapter(app.dispatcher)
    text = (await chat.command("help cw add")).replies[-1].text
    assert text.startswith("/cw add <url>")
    assert "Moderators only." in text
    assert "Examples:\n  /cw add https://" in text


async def test_help_for_an_unknown_name_points_to_the_list(app: App) -> None:
    chat = MemoryAdapter(app.dispatcher)
    reply = (await chat.command("help frobnicate")).replies[-1]
    assert reply.private
    assert reply.text == "No command named 'frobnicate'. Type /help for the list."


async def test_replies_name_commands_with_the_prefix_of_the_chat(app: App) -> None:
    # Matrix rooms type "!" (the adapter registers its configured prefix); set it directly
    # here so the same replies can be read without a homeserver.
    app.prefixes["memory"] = "!"
    chat = MemoryAdapter(app.dispatcher)
    assert (await chat.command("frobnicate")).replies[0].text == (
        "Unknown command 'frobnicate'. Type !help for the commands."
    )
    assert (await chat.command("unroll")).replies[-1].text == (
        "Missing url. Usage: !unroll <url> [private:true] [refresh:true]"
    )
    assert (
        "Usage: !cw add <url> other <reason>"
        in (
            await chat.command(
                "cw add https://bsky.app/profile/a.example/post/3kabcdefghij2 other", moderator=True
            )
        )
        .replies[-1]
        .text
    )
    assert (
        (await chat.command("subscriptions", moderator=True))
        .replies[-1]
        .text.endswith("Use !subscribe <author>.")
    )
    assert (
        (await chat.command("cw list"))
        .replies[-1]
        .text.startswith("Only moderators can use !cw list")
    )
    help_text = (await chat.command("help")).replies[-1].text
    assert "  !unroll <url>" in help_text and "  /unroll" not in help_text
    assert help_text.endswith("Type !help <command> for details, e.g. !help cw.")


# ---- the console prompt ---------------------------------------------------------------------


async def test_output_arriving_while_the_console_waits_redraws_the_prompt(app: App) -> None:
    out = io.StringIO()
    console = ConsoleAdapter(app.dispatcher, stdin=io.StringIO(""), stdout=out, interactive=True)
    console._prompt()
    # A thread still being posted or a subscription delivery lands while the user types.
    await console.send(console.room, Message((para("a post that arrived later"),)))
    assert out.getvalue() == "> \r\x1b[Ka post that arrived later\n> "


class Terminal:
    """The user's side of a pseudo-terminal: what the program has printed so far."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.screen = b""

    def wait_for(self, wanted: bytes, after: int = 0, timeout_s: float = 30.0) -> int:
        """Read until ``wanted`` appears at or after offset ``after``; return where it ends."""
        end = time.monotonic() + timeout_s
        while (at := self.screen.find(wanted, after)) < 0:
            left = end - time.monotonic()
            assert left > 0, f"waited for {wanted!r}, screen: {self.screen[after:]!r}"
            ready, _, _ = select.select([self.fd], [], [], left)
            if ready:
                self.screen += os.read(self.fd, 4096)
        return at + len(wanted)


def test_the_console_prompt_comes_back_after_every_reply(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f'[storage]\npath = "{tmp_path / "bot.sqlite3"}"\n')
    main, child = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "console", "--config", str(config)],
        stdin=child,
        stdout=child,
        stderr=child,
        close_fds=True,
    )
    os.close(child)
    term = Terminal(main)
    try:
        term.wait_for(b"> ", term.wait_for(b"Ctrl-D quits."))
        for line, answer in [
            (b"/help cw\r", b"/cw commands:"),
            (b"/nosuch\r", b"Unknown command 'nosuch'. Type /help for the commands."),
            (b"hello there\r", b"Paste a thread link, or type /help for the commands."),
        ]:
            start = len(term.screen)
            os.write(main, line)
            answered = term.wait_for(answer, start)
            # The prompt comes back on a line of its own once the whole answer is out.
            prompt = term.wait_for(b"\n> ", answered)
            assert term.screen[prompt:] == b""
        os.write(main, b"\x04")  # Ctrl-D
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(main)
