"""Content notes through the whole bot: the app with the content-notes extension, the
local fake Bluesky, the in-memory adapter. Notes appear in unrolls, policies change the
rendering per server, moderator warnings persist, apply in every room and edit posted
copies in place, and only moderators may act."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.adapters.memory import MemoryAdapter
from bot.app import App
from bot.config import Config, ContentNotesConfig, NetworkConfig, StorageConfig, UnrollConfig
from bot.context import Room
from bot.http import HttpClient, HttpSettings
from bot.sources.bluesky import BlueskySource
from cogs.content_notes.repo import NotesRepo
from tests.conftest import Engine
from tests.fakes.bluesky_server import FakeBluesky
from tests.fakes.thread_builder import ThreadBuilder

SERVER_A = Room("memory", "server-a", "channel-1")
SERVER_A_OTHER = Room("memory", "server-a", "channel-2")
SERVER_B = Room("memory", "server-b", "channel-9")


@pytest.fixture
async def bsky() -> AsyncIterator[FakeBluesky]:
    async with FakeBluesky() as server:
        yield server


@pytest.fixture
async def http() -> AsyncIterator[HttpClient]:
    client = HttpClient(HttpSettings(allow_private_addresses=True, retries=1, backoff_base_s=0.01))
    yield client
    await client.close()


def _config(storage: StorageConfig) -> Config:
    return Config(
        storage=storage,
        network=NetworkConfig(allow_private_addresses=True, retries=1),
        unroll=UnrollConfig(max_posts=100, cache_ttl_s=600),
        content_notes=ContentNotesConfig(extra_terms={"substance-use": ["ketamine"]}),
    )


async def _app(engine: Engine, bsky: FakeBluesky, http: HttpClient) -> App:
    app = await App.create(
        _config(engine.storage()),
        sources=[BlueskySource(http, bsky.base_url)],
        extensions=["cogs.content_notes"],
    )
    # These tests pin one chat message per post: the per-post layout, chosen explicitly.
    app.layouts.default = "per-post"
    return app


@pytest.fixture
async def app(engine: Engine, bsky: FakeBluesky, http: HttpClient) -> AsyncIterator[App]:
    application = await _app(engine, bsky, http)
    yield application
    await application.close()


@pytest.fixture
def chat(app: App) -> MemoryAdapter:
    adapter = MemoryAdapter(app.dispatcher)
    app.adapters[adapter.name] = adapter  # so posted copies can be edited
    return adapter


def _thread(
    bsky: FakeBluesky, texts: list[str], labels: dict[int, tuple[str, ...]] | None = None
) -> list[str]:
    b = ThreadBuilder()
    alice = b.author("alice")
    keys: list[str] = []
    parent = None
    for i, text in enumerate(texts):
        parent = b.post(alice, text, parent=parent, labels=(labels or {}).get(i, ()))
        keys.append(parent)
    bsky.add_thread(b.build())
    return keys


MIXED = [
    "A thread about the year I started therapy.",
    "My therapist asked about suicidal thoughts and I told the truth.",
    "Anyway, here is a photo of my cat.",
]


def _posts(chat: MemoryAdapter, room: Room) -> list[object]:
    return [s for s in chat.sent if s.ref.channel == room.channel and s.thread is not None]


async def test_unroll_carries_notes_by_default_policy(
    app: App, chat: MemoryAdapter, bsky: FakeBluesky
) -> None:
    keys = _thread(bsky, MIXED)
    await chat.command(f"unroll {bsky.url(keys[0])}", room=SERVER_A)
    header = chat.sent[0]
    assert "Content note: mental health, suicide" in header.text
    posts = [s.message for s in chat.sent[1:]]
    # Post 1: mental health, a visible note line; post 2: suicide -> behind a spoiler;
    # post 3: nothing.
    assert posts[0].spoiler is None and "Content note: mental health" in chat.sent[1].text
    assert posts[1].spoiler == "Content note: mental health, suicide"
    assert posts[2].spoiler is None and not posts[2].preface


async def test_neutral_thread_gets_no_note(
    app: App, chat: MemoryAdapter, bsky: FakeBluesky
) -> None:
    keys = _thread(bsky, ["Our killer feature ships today.", "It is trauma-free to adopt."])
    await chat.command(f"unroll {bsky.url(keys[0])}", room=SERVER_A)
    assert all("Content note" not in s.text for s in chat.sent)


async def test_bluesky_self_label_is_an_author_note(
    app: App, chat: MemoryAdapter, bsky: FakeBluesky
) -> None:
    keys = _thread(bsky, ["Wound photos from the clinic", "Healing well"], {0: ("graphic-media",)})
    thread = await app.unroller.unroll(bsky.url(keys[0]), scope="server-a")
    assert [(n.category, n.origin, n.reason) for n in thread.content_notes] == [
        ("other", "author", "graphic-media")
    ]
    assert len(thread.post_notes) == 1


async def test_server_extra_terms_apply(app: App, bsky: FakeBluesky) -> None:
    keys = _thread(bsky, ["Ketamine clinics are everywhere now."])
    thread = await app.unroller.unroll(bsky.url(keys[0]))
    assert [n.category for n in thread.content_notes] == ["substance-use"]


async def test_non_moderators_are_refused_and_nothing_changes(
    app: App, chat: MemoryAdapter, bsky: FakeBluesky
) -> None:
    keys = _thread(bsky, MIXED)
    url = bsky.url(keys[0])
    for text in (
        f"cw add {url} trauma",
        f"cw remove {url}",
        "cw policy mental-health hide",
        "cw support Call us",
        "cw list",
    ):
        ctx = await chat.command(text, room=SERVER_A, moderator=False)
        assert ctx.replies[-1].private and "Only moderators" in ctx.replies[-1].text, text
    repo = NotesRepo(app.db)
    assert await repo.recent_warnings() == []
    assert await repo.recent_actions() == []
    assert (await repo.settings("server-a")).actions == {}


async def test_policy_changes_rendering_in_that_server_only(
    app: App, chat: MemoryAdapter, bsky: FakeBluesky
) -> None:
    keys = _thread(bsky, MIXED)
    ctx = await chat.command("cw policy mental-health warn", room=SERVER_A, moderator=True)
    assert ctx.replies[-1].text == "Mental health: warn (this server)."
    ctx = await chat.command("cw policy suicide hide", room=SERVER_A, moderator=True)
    await chat.command(f"unroll {bsky.url(keys[0])}", room=SERVER_A)
    a_posts = [s.message for s in chat.sent[1:]]
    assert a_posts[0].spoiler == "Content note: mental health"
    assert a_posts[1].kind == "notice" and "Hidden" in chat.sent[2].text
    assert MIXED[1] not in chat.sent[2].text
    before = len(chat.sent)
    await chat.command(f"unroll {bsky.url(keys[0])}", room=SERVER_B)
    b_posts = [s.message for s in chat.sent[before + 1 :]]
    assert b_posts[0].spoiler is None  # server B keeps the defaults
    assert b_posts[1].spoiler == "Content note: mental health, suicide"


async def test_support_line_with_suicide_notes(
    app: App, chat: MemoryAdapter, bsky: FakeBluesky
) -> None:
    keys = _thread(bsky, MIXED)
    await chat.command("cw support You can talk to us in #support.", room=SERVER_A, moderator=True)
    await chat.command(f"unroll {bsky.url(keys[0])}", room=SERVER_A)
    texts = [s.text for s in chat.sent]
    assert "You can talk to us in #support." in texts[2]  # the suicide post
    assert "#support" not in texts[1] and "#support" not in texts[3]
    await chat.command("cw support off", room=SERVER_A, moderator=True)
    policy = await NotesRepo(app.db).settings("server-a")
    assert policy.support_line is None


async def test_moderator_warning_applies_everywhere_edits_posted_copies_and_is_logged(
    app: App, chat: MemoryAdapter, bsky: FakeBluesky
) -> None:
    keys = _thread(bsky, ["Part one of my story.", "Part two of my story.", "The end."])
    await chat.command(f"unroll {bsky.url(keys[0])}", room=SERVER_A)
    assert all("Content note" not in s.text for s in chat.sent)
    posted = len(chat.sent)
    # Linked through the middle post; the warning is stored against the thread's root.
    ctx = await chat.command(
        f"cw add {bsky.url(keys[1])} abuse describes a violent household",
        room=SERVER_A,
        user="mod-1",
        moderator=True,
    )
    reply = ctx.replies[-1].text
    assert reply.startswith("Content warning added to") and "abuse" in reply
    assert "Updated 4 posted messages" in reply
    assert len(chat.sent) == posted  # edited in place, nothing new posted
    header = chat.sent[0]
    assert header.edits and "Content note: abuse — moderator: describes a violent household" in (
        header.text
    )
    assert all(s.message.spoiler for s in chat.sent[1:posted])
    # Another server, later: the warning applies there too.
    await chat.command(f"unroll {bsky.url(keys[2])}", room=SERVER_B)
    assert all(s.message.spoiler for s in chat.sent[posted + 1 :])
    # Logged: who, when, what, where.
    actions = await NotesRepo(app.db).recent_actions("server-a")
    assert len(actions) == 1
    a = actions[0]
    assert (a.user_id, a.adapter, a.scope, a.channel, a.action) == (
        "mod-1", "memory", "server-a", "channel-1", "warning-added",
    )  # fmt: skip
    assert "abuse" in a.detail and a.at > 0
    ctx = await chat.command("cw list", room=SERVER_A, moderator=True)
    listing = ctx.replies[-1].text
    assert "abuse (describes a violent household), by mod-1" in listing
    assert "mental-health: note (default)" in listing
    assert "mod-1 (mod-1) in memory:channel-1: warning-added" in listing
    # Removing it edits the copies back.
    ctx = await chat.command(f"cw remove {bsky.url(keys[0])} abuse", room=SERVER_A, moderator=True)
    assert "removed" in ctx.replies[-1].text
    assert "Content note" not in chat.sent[0].text
    assert not any(s.message.spoiler for s in chat.sent[1:posted])
    ctx = await chat.command(f"cw remove {bsky.url(keys[0])}", room=SERVER_A, moderator=True)
    assert "No moderator warning" in ctx.replies[-1].text


async def test_settings_and_warnings_persist_across_restarts(
    engine: Engine, bsky: FakeBluesky, http: HttpClient
) -> None:
    keys = _thread(bsky, ["Plain words here.", "More plain words."])
    url = bsky.url(keys[0])
    first = await _app(engine, bsky, http)
    chat = MemoryAdapter(first.dispatcher)
    await chat.command("cw policy trauma hide", room=SERVER_A, moderator=True)
    await chat.command(f"cw add {url} trauma", room=SERVER_A, moderator=True)
    await first.close()
    second = await _app(engine, bsky, http)
    try:
        await second.start_cogs()
        chat = MemoryAdapter(second.dispatcher)
        await chat.command(f"unroll {url}", room=SERVER_A)
        assert all(s.message.kind == "notice" for s in chat.sent[1:])  # hidden
        assert "Content note: trauma" in chat.sent[0].text
        assert len(await NotesRepo(second.db).recent_actions()) == 2
    finally:
        await second.close()


@pytest.mark.parametrize(
    ("command", "message"),
    [
        ("cw policy bogus warn", "Unknown category 'bogus'"),
        ("cw policy trauma explode", "action must be one of show, note, warn, hide"),
        ("cw add https://example.com/x trauma", "Unsupported link"),
        ("cw add {url} suicde", "Unknown category 'suicde'"),
        ("cw add {url} other", "needs a reason"),
        ("cw remove {url} bogus", "Unknown category 'bogus'"),
        ("cw add", "Missing url"),
    ],
)
async def test_bad_input_gets_a_clear_message_and_changes_nothing(
    app: App, chat: MemoryAdapter, bsky: FakeBluesky, command: str, message: str
) -> None:
    keys = _thread(bsky, ["Plain words."])
    ctx = await chat.command(command.format(url=bsky.url(keys[0])), room=SERVER_A, moderator=True)
    assert ctx.replies[-1].private and message in ctx.replies[-1].text
    repo = NotesRepo(app.db)
    assert await repo.recent_actions() == [] and await repo.recent_warnings() == []


async def test_context_menu_warning_without_a_category(
    app: App, chat: MemoryAdapter, bsky: FakeBluesky
) -> None:
    keys = _thread(bsky, ["Plain words."])
    spec = app.dispatcher.specs["cw add"]
    assert spec.context_menu == "Apply content warning" and spec.moderator
    ctx = await chat.command(f"cw add {bsky.url(keys[0])}", room=SERVER_A, moderator=True)
    assert "other" in ctx.replies[-1].text
    thread = await app.unroller.unroll(bsky.url(keys[0]))
    assert [(n.category, n.origin) for n in thread.content_notes] == [("other", "moderator")]
