"""The real Discord adapter (discord.py) connected to the fake Discord's REST API and
gateway, for tests that drive the bot through it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from bot.adapters.discord.adapter import DiscordAdapter
from bot.app import App
from tests.fakes.discord_server import FakeDiscord


@asynccontextmanager
async def connected(
    app: App, fake: FakeDiscord, *, ready_s: float = 5.0, **options: Any
) -> AsyncIterator[DiscordAdapter]:
    """The adapter, ready (logged in, the fake's guild seen) inside the block; closed on
    the way out, its run task awaited so that its errors surface. ``options`` go to
    ``DiscordAdapter`` (``test_guild_ids``, ``ack_after_s``)."""
    adapter = DiscordAdapter(
        app,
        fake.token,
        api_base_url=fake.base_url,
        gateway_url=fake.gateway_url,
        guild_ready_timeout=0.05,
        **options,
    )
    task = asyncio.create_task(adapter.run())
    try:
        await asyncio.wait_for(adapter.ready.wait(), ready_s)
        yield adapter
    finally:
        await adapter.close()
        await asyncio.wait_for(task, 5)
