"""Packed delivery (the default) through the whole bot: the app with content notes, the
local fake Bluesky, the in-memory adapter and the console. The outbox records which posts
each chat message holds, so a crash mid-delivery resumes without repeating or losing a
post, and a warning added later rewrites the messages that hold the posts."""

from __future__ import annotations

import io
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.adapters.console import ConsoleAdapter
from bot.adapters.memory import MemoryAdapter
from bot.app import App
from bot.config import Config, NetworkConfig, UnrollConfig
from bot.context import MessageRef, Room
from bot.http import HttpClient, HttpSettings
from bot.render.document import Capabilities, Message
from bot.sources.bluesky import BlueskySource
from tests.conftest import Engine
from tests.fakes.bluesky_server import FakeBluesky
from tests.fakes.thread_builder import ThreadBuilder

ROOM = Room("memory", "scope-1", "channel-1")
SMALL = Capabilities(max_length=400, markup="plain", spoilers=True, threads=True, edits=True)


@pytest.fixture
async def bsky() -> AsyncIterator[FakeBluesky]:
    async with FakeBluesky() as server:
        yield server


@pytest.fixture
async def app(engine: Engine, bsky: FakeBluesky) -> AsyncIterator[App]:
    http = HttpClient(HttpSettings(allow_private_addresses=True, retries=1, backoff_base_s=0.01))
    application = await App.create(
        Config(
            storage=engine.storage(),
            network=NetworkConfig(allow_private_addresses=True, retries=1),
            unroll=UnrollConfig(max_posts=500, cache_ttl_s=600),
        ),
        sources=[BlueskySource(http, bsky.base_url)],
        extensions=["cogs.content_notes"],
    )
    yield application
    await application.close()
    await http.close()


def chain(bsky: FakeBluesky, texts: list[str]) -> list[str]:
    b = ThreadBuilder()
    alice = b.author("alice")
    keys: list[str] = []
    parent = None
    for text in texts:
        parent = b.post(alice, text, parent=parent)
        keys.append(parent)
    bsky.add_thread(b.build())
    return keys


def sentences(n: int) -> list[str]:
    return [f"Sentence {i} of the story, where the herons wait by the pier." for i in range(n)]


def numbers(texts: list[str], total: int) -> list[int]:
    return [int(n) for t in texts for n in re.findall(rf"^(\d+)/{total} https://", t, re.M)]


async def test_posts_share_messages_each_with_its_number_and_link(
    app: App, bsky: FakeBluesky
) -> None:
    keys = chain(bsky, sentences(25))
    chat = MemoryAdapter(app.dispatcher, SMALL)
    app.adapters[chat.name] = chat
    await chat.command(f"unroll {bsky.url(keys[3])}")
    header, *posted = chat.sent
    assert "25 posts" in header.text and header.thread is None
    assert 3 < len(posted) < 25 and all(s.thread == "tm1" for s in posted)
    assert all(len(s.text) <= 400 for s in posted)
    assert numbers([s.text for s in posted], 25) == list(range(1, 26))
    assert f"1/25 {bsky.url(keys[0])}" in posted[0].text
    # The outbox knows which posts each message holds.
    thread = await app.unroller.unroll(bsky.url(keys[0]))  # from the cache
    [record] = await app.deliveries.for_thread(thread.root_id)
    assert record.layout == "packed"
    held = [list(m.post_ids) for m in record.messages[1:]]
    assert [len(h) for h in held] == [len(s.message.parts) for s in posted]
    assert [k for h in held for k in h] == [p.id for p in thread.posts]
    assert chat.replies[-1].text.startswith("Unrolled 25 posts")


async def test_layout_command_per_post_and_bad_input(app: App, bsky: FakeBluesky) -> None:
    keys = chain(bsky, sentences(6))
    chat = MemoryAdapter(app.dispatcher)
    ctx = await chat.command("layout", moderator=True)
    assert ctx.replies[-1].text.startswith("Layout here: packed (the default)")
    ctx = await chat.command("layout per-post")  # not a moderator
    assert "moderator" in ctx.replies[-1].text.lower()
    ctx = await chat.command("layout sideways", moderator=True)
    assert "packed, per-post" in ctx.replies[-1].text and "sideways" in ctx.replies[-1].text
    assert await app.layouts.get("scope-1") == "packed"
    assert not await app.layouts.is_set("scope-1")
    ctx = await chat.command("layout per-post", moderator=True)
    assert ctx.replies[-1].text.startswith("Layout set to per-post")
    await chat.command(f"unroll {bsky.url(keys[0])}")
    assert len(chat.sent) == 7  # the header and one message per post
    assert [s.text.split()[0] for s in chat.sent[1:]] == [f"{i}/6" for i in range(1, 7)]
    # Another server keeps the default.
    other = Room("memory", "scope-2", "channel-9")
    await chat.command(f"unroll {bsky.url(keys[0])}", room=other)
    assert len([s for s in chat.sent if s.ref.channel == "channel-9"]) == 2
    ctx = await chat.command("help", moderator=True)
    assert "/layout" in ctx.replies[-1].text


class CrashingAdapter(MemoryAdapter):
    """Loses its connection after ``crash_after`` sends, once."""

    def __init__(self, *args: object, crash_after: int) -> None:
        super().__init__(*args, SMALL)  # type: ignore[arg-type]
        self.crash_after = crash_after

    async def send(self, room: Room, message: Message, **kw: object) -> list[MessageRef]:
        if self.crash_after == 0:
            self.crash_after = -1
            raise ConnectionError("connection lost")
        self.crash_after -= 1
        return await super().send(room, message, **kw)  # type: ignore[arg-type]


async def test_a_crash_mid_delivery_resumes_without_repeating_or_losing_a_post(
    app: App, bsky: FakeBluesky
) -> None:
    keys = chain(bsky, sentences(30))
    chat = CrashingAdapter(app.dispatcher, crash_after=3)  # the header and two messages
    app.adapters[chat.name] = chat
    await chat.command(f"unroll {bsky.url(keys[0])}")
    assert len(chat.sent) == 3
    [pending] = await app.deliveries.pending("memory")
    assert pending.layout == "packed" and len(pending.messages) > 4
    # The bot comes back: the rest goes out, into the same chat thread.
    assert await app.resume_pending(chat) == 1
    texts = [s.text for s in chat.sent[1:]]
    assert numbers(texts, 30) == list(range(1, 31))
    assert {s.thread for s in chat.sent[1:]} == {"tm1"}
    assert await app.deliveries.pending("memory") == []


async def test_a_warning_added_later_rewrites_the_messages_that_hold_the_posts(
    app: App, bsky: FakeBluesky
) -> None:
    keys = chain(bsky, sentences(40))
    chat = MemoryAdapter(app.dispatcher)  # 2,000 characters, as on Discord
    app.adapters[chat.name] = chat
    await chat.command(f"unroll {bsky.url(keys[0])}")
    posted = list(chat.sent)
    assert 2 < len(posted) < 10
    ctx = await chat.command(
        f"cw add {bsky.url(keys[0])} abuse a violent household", moderator=True, user="mod"
    )
    # The spoilers make the posts longer: they are packed again over the same messages,
    # and whatever no longer fits follows them, so the thread still reads in order.
    assert f"Updated {len(chat.sent)} posted messages" in ctx.replies[-1].text
    assert chat.sent[: len(posted)] == posted and len(chat.sent) >= len(posted)
    assert all(len(s.text) <= 2000 and s.thread == "tm1" for s in chat.sent[1:])
    assert all(s.edits for s in posted)
    for sent in chat.sent[1:]:
        assert sent.message.parts
        # Each post is its own spoiler segment, its number still a link, the reason shown.
        assert all(p.spoiler and "abuse" in p.spoiler for p in sent.message.parts)
        assert all(p.url and p.url.startswith("https://bsky.app/") for p in sent.message.parts)
    assert numbers([s.text for s in chat.sent[1:]], 40) == list(range(1, 41))


async def test_console_shows_packed_posts_and_each_warned_post_reveals_on_its_own(
    app: App, bsky: FakeBluesky
) -> None:
    texts = sentences(8)
    texts[2] = "I wrote a suicide note once and never sent it."
    texts[5] = "Thinking about suicide again, and the crisis line helped."
    keys = chain(bsky, texts)
    out = io.StringIO()
    console = ConsoleAdapter(app.dispatcher, stdin=io.StringIO(), stdout=out, interactive=False)
    app.adapters[console.name] = console
    await console.handle_line(f"/unroll {bsky.url(keys[0])}")
    await console.handle_line("/reveal 2")
    shown = out.getvalue()
    unrolled = shown.split("Unrolled 8 posts")[0]
    assert numbers([line.strip(" │") for line in unrolled.splitlines()], 8) == list(range(1, 9))
    assert "(type /reveal 1 to show it)" in shown and "(type /reveal 2 to show it)" in shown
    before_reveal, revealed = shown.split("(type /reveal 2 to show it)", 1)
    assert "suicide note" not in before_reveal and "Thinking about suicide" not in before_reveal
    assert "Thinking about suicide again" in revealed and "suicide note" not in revealed
    assert "Sentence 3 of the story" in before_reveal  # the others stay readable


async def test_deliveries_planned_before_the_upgrade_stay_per_post(tmp_path: Path) -> None:
    import aiosqlite

    from bot.extensions import all_migrations, open_database
    from storage.deliveries_repo import DeliveryRepo
    from storage.sqlite import SqliteDatabase

    path = str(tmp_path / "old.sqlite3")
    conn = await aiosqlite.connect(path, isolation_level=None)
    old = SqliteDatabase(conn, path)
    await old.migrate([m for m in all_migrations() if m[0] < 6])
    await old.execute(
        "INSERT INTO deliveries (adapter, scope, channel, thread_root, thread_url, created_at,"
        " updated_at) VALUES ('memory', 's', 'c', 'root', 'https://x.test/root', 1, 1)"
    )
    await old.execute(
        "INSERT INTO delivery_messages (delivery_id, position, role, post_id) VALUES"
        " (1, 0, 'header', NULL), (1, 1, 'post', 'p1'), (1, 2, 'post', 'p2')"
    )
    await old.close()
    db = await open_database(path)
    try:
        record = await DeliveryRepo(db).get(1)
        assert record is not None and record.layout == "per-post"
        assert [m.post_ids for m in record.messages] == [(), ("p1",), ("p2",)]
        assert record.planned_keys == {"p1", "p2"}
    finally:
        await db.close()
