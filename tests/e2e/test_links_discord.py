"""The links commands on Discord, through the real discord.py client against the fake
Discord: slash commands for moderators only, answered privately, acting on the same index."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.adapters.discord.adapter import DiscordAdapter
from bot.app import App
from tests.e2e.test_links_fixtures import (
    MOVED_POST,
    SEED_URL,
    TARGET_URL,
    open_app,
    seeded_fake,
    x_url,
)
from tests.fakes.discord_bot import connected
from tests.fakes.discord_server import MANAGE_MESSAGES, FakeDiscord, InteractionRecord
from tests.fakes.fxtwitter_server import FxTwitterFake


class Bot:
    def __init__(self, fake: FakeDiscord, app: App, adapter: DiscordAdapter) -> None:
        self.fake, self.app, self.adapter = fake, app, adapter

    async def slash(self, name: str, member: dict[str, Any], **options: Any) -> str:
        rec = await self.fake.slash(name, member, **options)
        await self.fake.wait_acknowledged(rec)
        await asyncio.sleep(0)
        await self.adapter.binder.drain(5.0)
        return answer(rec)


def answer(rec: InteractionRecord) -> str:
    parts = [(rec.callback or {}).get("data", {}).get("content") or ""]
    parts += [e.get("content") or "" for e in rec.original_edits]
    parts += [f.get("content") or "" for f in rec.followups]
    return re.sub(r"\\(.)", r"\1", "\n".join(p for p in parts if p))


@pytest.fixture
async def x() -> AsyncIterator[FxTwitterFake]:
    async with seeded_fake() as server:
        yield server


@pytest.fixture
async def bot(tmp_path: Path, x: FxTwitterFake) -> AsyncIterator[Bot]:
    async with (
        FakeDiscord() as fake,
        open_app(tmp_path / "discord.sqlite3", x) as app,
        connected(app, fake, test_guild_ids=[int(fake.guild_id)], ack_after_s=0.15) as adapter,
    ):
        app.adapters[adapter.name] = adapter
        await app.start_cogs()
        await asyncio.wait_for(adapter.synced.wait(), 5)
        yield Bot(fake, app, adapter)


async def test_links_commands_are_offered_to_moderators(bot: Bot) -> None:
    (sync,) = bot.fake.calls_to("PUT", "/applications/{app_id}/guilds/{guild_id}/commands")
    by_name = {c["name"]: c for c in sync.json if c.get("type", 1) == 1}
    for name in ("link", "unlink", "links", "links-undo"):
        assert int(by_name[name]["default_member_permissions"]) == MANAGE_MESSAGES
        assert all(1 <= len(o["description"]) <= 100 for o in by_name[name]["options"])
    kinds = {o["name"]: o for o in by_name["link"]["options"]}["kind"]
    assert [c["value"] for c in kinds["choices"]] == ["belongs", "context", "continues"]


async def test_a_moderator_unlinks_and_undoes_and_a_member_is_refused(bot: Bot) -> None:
    mod = bot.fake.new_user("mod", moderator=True)
    member = bot.fake.new_user("member")
    listing = await bot.slash("links", mod, url=SEED_URL)
    assert "belongs_to · auto · active" in listing
    refused = await bot.slash("unlink", member, url=x_url(MOVED_POST))
    assert "Only moderators" in refused
    assert "Removed 1 link" in await bot.slash("unlink", mod, url=x_url(MOVED_POST))
    target = await bot.app.unroller.unroll(TARGET_URL)
    assert all(p.status == "ok" for p in target.posts)
    listing = await bot.slash("links", mod, url=SEED_URL)
    assert "change #3: unlink by discord:mod" in listing
    assert "Undid change #3" in await bot.slash("links-undo", mod, change=3)
    target = await bot.app.unroller.unroll(TARGET_URL)
    assert [p.status for p in target.posts].count("moved_in") == 1
