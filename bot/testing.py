"""The test harness: the whole bot in one process, driven like a chat, one line per
exchange (as errbot's ``testbot`` does). Features' own tests and the project's use it::

    async with TestBot(sources=[BlueskySource(http, fake.base_url)]) as bot:
        assert (await bot.say(f"/unroll {url}")).startswith("Unrolled 3 posts")
        assert "already unrolled here" in await bot.say(url)        # a bare link
        assert "Moderators only." in await bot.say("/help link")

``/name ...`` runs a command; any other line is a plain message (a bare supported link
unrolls). ``say`` answers with what the bot replied, one reply per line; ``posted`` lists
what it posted in the channel. Everything runs on a fresh database in a temporary folder
unless a config names one.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

from bot.adapters.memory import MemoryAdapter, MemoryContext
from bot.app import App
from bot.config import Config, NetworkConfig, StorageConfig
from bot.context import Room, User
from bot.sources.base import Source

CHANNEL = Room("memory", "scope-1", "channel-1")


class TestBot:
    __test__ = False  # a harness, not a test class

    def __init__(
        self,
        config: Config | None = None,
        *,
        sources: Sequence[Source] | None = None,
        extensions: Sequence[str] | None = None,
    ) -> None:
        self._config = config
        self._sources = sources
        self._extensions = extensions
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._app: App | None = None
        self._chat: MemoryAdapter | None = None

    @property
    def app(self) -> App:
        assert self._app is not None, "use TestBot in `async with`"
        return self._app

    @property
    def chat(self) -> MemoryAdapter:
        assert self._chat is not None, "use TestBot in `async with`"
        return self._chat

    async def __aenter__(self) -> TestBot:
        config = self._config
        if config is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="unrollbot-test-")
            config = Config(
                storage=StorageConfig(str(Path(self._tmp.name) / "bot.sqlite3")),
                network=NetworkConfig(allow_private_addresses=True, retries=1),
            )
        self._app = await App.create(config, sources=self._sources, extensions=self._extensions)
        self._chat = MemoryAdapter(self._app.dispatcher)
        self._app.adapters[self._chat.name] = self._chat
        await self._app.start_cogs()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._app is not None:
            await self._app.close()
        if self._tmp is not None:
            self._tmp.cleanup()

    async def say(
        self,
        line: str,
        *,
        user: str = "alice",
        moderator: bool = False,
        room: Room | None = None,
    ) -> str:
        """Send one chat line; the bot's replies to it, one per line ("" when none)."""
        if line.startswith("/"):
            ctx = await self.chat.command(line[1:], user=user, moderator=moderator, room=room)
        else:
            ctx = MemoryContext(self.chat, room or CHANNEL, User(user, user, moderator))
            await self.app.dispatcher.handle_passive(ctx, line)
        return "\n".join(r.text for r in ctx.replies)

    def posted(self, thread: str | None = None) -> list[str]:
        """What the bot posted in the chat so far (in one chat thread, if named)."""
        return self.chat.posted_texts(thread)
