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
from bot.models import Thread
from bot.sources.bluesky import BlueskySource
from cogs.content_notes.categories import display_name
from cogs.content_notes.repo import NotesRepo
from tests.conftest import Engine
from tests.content_notes_examples import model_only
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
        f"cw dismiss {url} trauma",
        f"cw dismiss {url}",
        "cw policy mental-health hide",
        "cw support Call us",
        "cw list",
    ):
        ctx = await chat.command(text, room=SERVER_A, moderator=False)
        assert ctx.replies[-1].private and "Only moderators" in ctx.replies[-1].text, text
    repo = NotesRepo(app.db)
    assert await repo.recent_warnings() == [] and await repo.recent_dismissals() == []
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
        ("cw dismiss {url} bogus", "Unknown category 'bogus'"),
        ("cw dismiss https://example.com/x", "Unsupported link"),
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
    assert await repo.recent_dismissals() == []


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


async def test_model_suggestions_show_as_unchecked_labels_until_a_moderator_confirms(
    engine: Engine, bsky: FakeBluesky, http: HttpClient
) -> None:
    app = await _model_app(engine, bsky, http)
    try:
        chat = MemoryAdapter(app.dispatcher)
        app.adapters[chat.name] = chat
        text, category = model_only()
        name = display_name(category)
        # This server puts the category behind a spoiler.
        await chat.command(f"cw policy {category} warn", room=SERVER_A, moderator=True)
        keys = _thread(
            bsky,
            [
                "Some things about the flat I grew up in.",
                text,
                "Anyway, the new place has a garden.",
            ],
        )
        await chat.command(f"unroll {bsky.url(keys[0])}", room=SERVER_A)
        posts = chat.sent[1:4]
        # A suggestion is only a label: no spoiler, whatever the server's policy.
        assert f"Suggested content note (unchecked): {name}" in posts[1].text
        assert posts[1].message.spoiler is None
        assert text in posts[1].text
        assert "Content note" not in posts[0].text and "Content note" not in posts[2].text
        assert f"Suggested content note (unchecked): {name}" in chat.sent[0].text
        # A moderator confirms it: now a warning, and the post goes behind the spoiler.
        await chat.command(
            f"cw add {bsky.url(keys[1])} {category}", room=SERVER_A, user="mod-1", moderator=True
        )
        assert posts[1].message.spoiler == f"Content note: {name}"
        assert "unchecked" not in chat.sent[0].text
    finally:
        await app.close()


async def _model_app(engine: Engine, bsky: FakeBluesky, http: HttpClient) -> App:
    """The app with the model tier on, so unrolls carry unchecked suggestions."""
    config = _config(engine.storage())
    config = Config(
        storage=config.storage,
        network=config.network,
        unroll=config.unroll,
        content_notes=ContentNotesConfig(model=True),
    )
    app = await App.create(
        config, sources=[BlueskySource(http, bsky.base_url)], extensions=["cogs.content_notes"]
    )
    app.layouts.default = "per-post"
    return app


def _suggested(thread: Thread) -> set[str]:
    notes = [*thread.content_notes, *(n for _, ns in thread.post_notes for n in ns)]
    return {n.category for n in notes if n.origin == "model"}


async def test_a_dismissed_suggestion_disappears_everywhere_until_a_moderator_warns(
    engine: Engine, bsky: FakeBluesky, http: HttpClient
) -> None:
    app = await _model_app(engine, bsky, http)
    try:
        chat = MemoryAdapter(app.dispatcher)
        app.adapters[chat.name] = chat
        text, category = model_only()
        name = display_name(category)
        warned = next(c for c in ("death-grief", "substance-use") if c != category)
        await chat.command(f"cw policy {category} warn", room=SERVER_A, moderator=True)
        keys = _thread(bsky, [MIXED[0], text, "Anyway, the new place has a garden."])
        url = bsky.url(keys[0])
        # The lexicon notes post 1, a moderator warns the thread, the model suggests post 2.
        await chat.command(f"cw add {url} {warned}", room=SERVER_A, moderator=True)
        assert _suggested(await app.unroller.unroll(url)) == {category}
        await chat.command(f"unroll {url}", room=SERVER_A)
        posted = len(chat.sent)
        header = chat.sent[0]
        assert f"suggested (unchecked): {name}" in header.text
        assert f"unchecked): {name}" in chat.sent[2].text
        assert chat.sent[2].message.spoiler is None
        checked = header.text.split(";")[0]
        assert display_name(warned) in checked and "mental health" in checked

        # Not a moderator: refused, the suggestion stays.
        ctx = await chat.command(f"cw dismiss {url} {category}", room=SERVER_A)
        assert "Only moderators" in ctx.replies[-1].text
        assert "unchecked" in chat.sent[0].text
        # A wrong category: the clear message cw add gives, nothing stored.
        ctx = await chat.command(f"cw dismiss {url} abuze", room=SERVER_A, moderator=True)
        assert "Unknown category 'abuze'" in ctx.replies[-1].text
        repo = NotesRepo(app.db)
        assert await repo.recent_dismissals() == []

        # A moderator dismisses it through the middle post's link.
        ctx = await chat.command(
            f"cw dismiss {bsky.url(keys[1])} {category}",
            room=SERVER_A,
            user="mod-2",
            moderator=True,
        )
        reply = ctx.replies[-1]
        assert reply.private
        assert reply.text.startswith(f"Suggestion dismissed on {url}: {name}. Updated ")
        assert len(chat.sent) == posted  # edited in place, nothing new posted
        assert header.edits and chat.sent[2].edits
        assert not any("unchecked" in s.text for s in chat.sent)
        assert text in chat.sent[2].text
        # The lexicon's and the moderator's notes stay.
        assert display_name(warned) in header.text and "mental health" in header.text
        assert "Content note: mental health" in chat.sent[1].text
        actions = await repo.recent_actions("server-a")
        assert (actions[0].action, actions[0].user_id) == ("suggestion-dismissed", "mod-2")
        assert category in actions[0].detail
        listing = (await chat.command("cw list", room=SERVER_A, moderator=True)).replies[-1].text
        assert f"Dismissed suggestions:\n  {url}: {category}, by mod-2" in listing

        # Another server, later: no suggestion there either.
        await chat.command(f"unroll {bsky.url(keys[2])}", room=SERVER_B)
        later = chat.sent[posted:]
        assert later and not any("unchecked" in s.text for s in later)
        assert display_name(warned) in later[0].text
        # Removing the moderator's warning leaves the dismissal alone.
        await chat.command(f"cw remove {url} {warned}", room=SERVER_A, moderator=True)
        assert _suggested(await app.unroller.unroll(url)) == set()

        # The moderator changes their mind: the warning applies, behind this server's spoiler.
        ctx = await chat.command(f"cw add {url} {category}", room=SERVER_A, moderator=True)
        assert ctx.replies[-1].text.startswith(f"Content warning added to {url}: {name}.")
        assert await repo.recent_dismissals() == []
        assert f"Content note: {name}" in chat.sent[2].message.spoiler
        assert "unchecked" not in chat.sent[0].text and name in chat.sent[0].text
    finally:
        await app.close()


async def test_dismissing_before_a_suggestion_is_shown_and_every_suggestion_at_once(
    engine: Engine, bsky: FakeBluesky, http: HttpClient
) -> None:
    text, category = model_only()
    name = display_name(category)
    b = ThreadBuilder()
    alice = b.author("alice")
    roots = []
    for opening in ("Some things about the flat I grew up in.", "Where I grew up, briefly."):
        roots.append(b.post(alice, opening))
        b.post(alice, text, parent=roots[-1])
    bsky.add_thread(b.build())
    early, late = (bsky.url(r) for r in roots)
    # Without the model nothing is suggested; a dismissal is stored all the same.
    first = await _app(engine, bsky, http)
    try:
        chat = MemoryAdapter(first.dispatcher)
        ctx = await chat.command(f"cw dismiss {early} {category}", room=SERVER_A, moderator=True)
        assert ctx.replies[-1].text == (
            f"No suggestion of {name} is shown on {early} now; it will not be suggested there"
            " later."
        )
        ctx = await chat.command(f"cw dismiss {late}", room=SERVER_A, moderator=True)
        assert ctx.replies[-1].text == f"No suggestion to dismiss on {late}."
        dismissed = await NotesRepo(first.db).recent_dismissals()
        assert [(d.thread_url, d.category) for d in dismissed] == [(early, category)]
    finally:
        await first.close()
    # The model turned on later: that thread shows no suggestion of the category.
    second = await _model_app(engine, bsky, http)
    try:
        chat = MemoryAdapter(second.dispatcher)
        await chat.command(f"unroll {early}", room=SERVER_A)
        assert chat.sent and not any("unchecked" in s.text for s in chat.sent)
        # No category: every suggestion shown on the thread goes.
        shown = _suggested(await second.unroller.unroll(late))
        assert category in shown
        ctx = await chat.command(f"cw dismiss {late}", room=SERVER_A, moderator=True)
        reply = ctx.replies[-1].text
        assert reply.startswith(
            (f"Suggestion dismissed on {late}: ", f"Suggestions dismissed on {late}: ")
        )
        assert all(display_name(c) in reply for c in shown)
        assert _suggested(await second.unroller.unroll(late)) == set()
        ctx = await chat.command(f"cw dismiss {late}", room=SERVER_A, moderator=True)
        assert ctx.replies[-1].text == f"No suggestion to dismiss on {late}."
    finally:
        await second.close()
