"""Moderators over the index through the chat commands (the in-memory adapter drives the
real dispatcher): decisions beat detection, every change is recorded and undoable, and
everyone else is refused without anything changing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest

from bot.adapters.memory import MemoryAdapter
from bot.app import App
from bot.config import XConfig
from tests.conftest import Engine
from tests.e2e.test_links_fixtures import (
    BELONGS_TARGET,
    CONTEXT_URL,
    MOVED_POST,
    SEED_URL,
    TARGET_ROOT,
    TARGET_URL,
    config,
    mod,
    open_app,
    rendered,
    seeded_fake,
    x_url,
)
from tests.fakes.fxtwitter_server import FxTwitterFake

MOVED_URL = x_url(MOVED_POST)
OTHER_TARGET = x_url("1338232404897656834")  # the context thread, as another place to move to


@pytest.fixture
async def fake() -> AsyncIterator[FxTwitterFake]:
    async with seeded_fake() as server:
        yield server


@pytest.fixture
async def app(engine: Engine, fake: FxTwitterFake) -> AsyncIterator[App]:
    async with open_app(engine.storage(), fake) as a:
        yield a


@pytest.fixture
def chat(app: App) -> MemoryAdapter:
    return MemoryAdapter(app.dispatcher)


async def moved_in(app: App, url: str) -> list[str]:
    thread = await app.unroller.unroll(url)
    return [p.id for p in thread.posts if p.status == "moved_in"]


async def test_links_lists_origin_evidence_and_changes(app: App, chat: MemoryAdapter) -> None:
    text = await mod(chat, f"links {SEED_URL}")
    assert f"Links of {SEED_URL}:" in text
    assert "context · auto · active" in text
    assert "belongs_to · auto · active · left in place by the author" in text
    assert f"to   {CONTEXT_URL}" in text and f"to   {TARGET_URL}" in text
    assert "evidence: “earlier thread” in" in text
    assert "“right above”" in text and "“this is where it belonged”" in text
    assert "change #1: detect by detection" in text


async def test_unlink_of_an_auto_link_stays_unlinked_and_undo_restores_it(
    app: App, chat: MemoryAdapter
) -> None:
    await app.unroller.unroll(SEED_URL)
    assert await moved_in(app, TARGET_URL) == [f"x:{MOVED_POST}"]
    reply = await mod(chat, f"unlink {MOVED_URL} belongs")
    assert reply.startswith("Removed 1 link (change #3)")
    for refresh in (False, True):  # re-detection from the cache and from upstream
        seed = await app.unroller.unroll(SEED_URL, refresh=refresh)
        assert f"x:{MOVED_POST}" not in dict(seed.marks)
        assert [link.kind for link in seed.links] == ["context"]
        assert await moved_in(app, TARGET_URL) == []
    listing = await mod(chat, f"links {SEED_URL}")
    assert "belongs_to · auto · removed" in listing
    assert "change #3: unlink by memory:mo" in listing
    assert "Undid change #3" in await mod(chat, "links-undo 3")
    assert await moved_in(app, TARGET_URL) == [f"x:{MOVED_POST}"]
    assert "already undone" in await mod(chat, "links-undo 3")
    # The undo is a change too, and can itself be undone.
    assert "Undid change #4" in await mod(chat, "links-undo 4")
    assert await moved_in(app, TARGET_URL) == []


async def test_a_moderator_link_beats_the_detected_one(app: App, chat: MemoryAdapter) -> None:
    await app.unroller.unroll(SEED_URL)
    reply = await mod(chat, f"link {MOVED_URL} belongs {OTHER_TARGET}")
    assert reply.startswith("Linked (change #3)")
    seed = await app.unroller.unroll(SEED_URL)
    moved = next(p for p in seed.posts if p.id == f"x:{MOVED_POST}")
    assert moved.status == "moved_out"  # a moderator's move takes the post out
    assert dict(seed.marks)[moved.id] == f"moved to {OTHER_TARGET}"
    assert [(lk.kind, lk.origin, lk.target) for lk in seed.links] == [
        ("context", "auto", CONTEXT_URL),
        ("belongs_to", "moderator", OTHER_TARGET),
    ]
    assert f"↪ moved to {OTHER_TARGET}" in rendered(seed)
    assert await moved_in(app, OTHER_TARGET) == [f"x:{MOVED_POST}"]
    assert await moved_in(app, TARGET_URL) == []  # the detected place lost
    await app.unroller.unroll(SEED_URL, refresh=True)  # detection again changes nothing
    assert await moved_in(app, TARGET_URL) == []
    await mod(chat, "links-undo 3")
    assert await moved_in(app, TARGET_URL) == [f"x:{MOVED_POST}"]
    assert await moved_in(app, OTHER_TARGET) == []


async def test_moderator_context_and_continuation(app: App, chat: MemoryAdapter) -> None:
    reply = await mod(chat, f"link {TARGET_URL} context {CONTEXT_URL}")
    assert "has context" in reply
    target = await app.unroller.unroll(x_url(BELONGS_TARGET))
    assert f"Context: {CONTEXT_URL}" in rendered(target)
    await mod(chat, f"link {CONTEXT_URL} continues {SEED_URL}")
    ctx_thread = await app.unroller.unroll(CONTEXT_URL)
    assert ctx_thread.continuation is not None
    assert ctx_thread.continuation.root_id == f"x:{SEED_URL.rsplit('/', 1)[1]}"
    assert "Removed 1 link" in await mod(chat, f"unlink {CONTEXT_URL} continues")
    assert (await app.unroller.unroll(CONTEXT_URL)).continuation is None


async def test_a_second_moderator_continuation_replaces_the_first(
    app: App, chat: MemoryAdapter
) -> None:
    await mod(chat, f"link {CONTEXT_URL} continues {TARGET_URL}")
    await mod(chat, f"link {CONTEXT_URL} continues {SEED_URL}")
    thread = await app.unroller.unroll(CONTEXT_URL)
    assert thread.continuation is not None
    assert thread.continuation.url == SEED_URL
    assert thread.continuation.continuation is None


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        (
            "link https://news.example.com/a belongs https://x.com/a/status/1",
            "must be a link to a post",
        ),
        (f"link {MOVED_URL} moves {TARGET_URL}", "kind must be one of"),
        (f"link {MOVED_URL} belongs", "Missing target"),
        (f"link {SEED_URL} context {x_url(MOVED_POST)}", "cannot link to itself"),
        (f"link {MOVED_URL} belongs {SEED_URL}", "already in that thread"),
        (f"unlink {TARGET_URL}", "No active link starts from"),
        ("links-undo 99", "There is no change #99"),
        ("links-undo soon", "must be a whole number"),
    ],
)
async def test_bad_input_gets_a_clear_message_and_changes_nothing(
    app: App, chat: MemoryAdapter, command: str, expected: str
) -> None:
    await app.unroller.unroll(SEED_URL)
    before = await mod(chat, f"links {SEED_URL}")
    assert expected in await mod(chat, command)
    assert await mod(chat, f"links {SEED_URL}") == before


@pytest.mark.parametrize(
    "command",
    [
        f"link {MOVED_URL} belongs {OTHER_TARGET}",
        f"unlink {MOVED_URL}",
        f"links {SEED_URL}",
        "links-undo 1",
    ],
)
async def test_non_moderators_are_refused(app: App, chat: MemoryAdapter, command: str) -> None:
    await app.unroller.unroll(SEED_URL)
    before = await mod(chat, f"links {SEED_URL}")
    ctx = await chat.command(command, user="visitor", moderator=False)
    assert [r.text.split(" (")[0] for r in ctx.replies] == [
        f"Only moderators can use /{command.split()[0]}"
    ]
    assert await mod(chat, f"links {SEED_URL}") == before


async def test_links_of_a_deleted_post_list_what_points_at_it(
    app: App, chat: MemoryAdapter, fake: FxTwitterFake
) -> None:
    await app.unroller.unroll(SEED_URL)
    fake.remove(BELONGS_TARGET)
    text = await mod(chat, f"links https://twitter.com/crys_tom/status/{BELONGS_TARGET}")
    assert "belongs_to · auto · active" in text
    assert "No links for" in await mod(chat, "links https://x.com/nobody/status/5")


async def test_unlink_without_a_kind_takes_the_moved_posts_link_only(
    app: App, chat: MemoryAdapter
) -> None:
    await app.unroller.unroll(SEED_URL)
    assert "Removed 1 link" in await mod(chat, f"unlink {MOVED_URL}")
    assert [lk.kind for lk in (await app.unroller.unroll(SEED_URL)).links] == ["context"]
    assert "Removed 1 link" in await mod(chat, f"unlink {SEED_URL}")
    assert (await app.unroller.unroll(SEED_URL)).links == ()


async def test_an_undo_waits_for_later_changes_to_the_same_link(
    app: App, chat: MemoryAdapter
) -> None:
    await app.unroller.unroll(SEED_URL)
    await mod(chat, f"unlink {MOVED_URL}")  # change 3: the detected move is switched off
    await mod(chat, f"link {MOVED_URL} belongs {TARGET_URL}")  # 4: a moderator sets it again
    seed = await app.unroller.unroll(SEED_URL)
    assert dict(seed.marks)[f"x:{MOVED_POST}"] == f"moved to {TARGET_URL}"
    assert "came after #3 on the same link; undo #4 first" in await mod(chat, "links-undo 3")
    assert "Undid change #4" in await mod(chat, "links-undo 4")
    assert await moved_in(app, TARGET_URL) == []  # back to switched off
    assert "Undid change #3" in await mod(chat, "links-undo 3")
    assert await moved_in(app, TARGET_URL) == [f"x:{MOVED_POST}"]
    seed = await app.unroller.unroll(SEED_URL)  # and back to the author's own words
    assert dict(seed.marks)[f"x:{MOVED_POST}"].endswith("left here by the author")


async def test_a_move_to_a_threads_first_post_goes_to_its_end(
    app: App, chat: MemoryAdapter
) -> None:
    await app.unroller.unroll(SEED_URL)
    await mod(chat, f"unlink {MOVED_URL}")
    await mod(chat, f"link {MOVED_URL} belongs {x_url(TARGET_ROOT)}")
    target = await app.unroller.unroll(TARGET_URL)
    assert [p.id for p in target.posts][-1] == f"x:{MOVED_POST}"
    assert target.posts[-1].status == "moved_in"


async def test_unlink_before_anyone_unrolled_the_thread_still_holds(
    app: App, chat: MemoryAdapter
) -> None:
    assert "Removed 1 link" in await mod(chat, f"unlink {MOVED_URL}")
    seed = await app.unroller.unroll(SEED_URL)
    assert [lk.kind for lk in seed.links] == ["context"]


async def test_links_between_sites_we_cannot_fetch_are_still_recorded(tmp_path: Path) -> None:
    cfg = config(tmp_path / "nofetch.sqlite3", "http://127.0.0.1:9")
    cfg = replace(cfg, sources=replace(cfg.sources, x=XConfig(enabled=False)))
    app = await App.create(cfg, extensions=["cogs.links"])
    try:
        chat = MemoryAdapter(app.dispatcher)
        reply = await mod(chat, f"link {SEED_URL} context https://twitter.com/crys_tom/status/1")
        assert reply.startswith("Linked (change #1)")
        listing = await mod(chat, f"links {SEED_URL}")
        assert "context · moderator · active" in listing
        assert "to   https://x.com/crys_tom/status/1" in listing
        # Moving a post needs its words once; an unfetchable post gets a clear answer.
        assert "Could not fetch" in await mod(chat, f"link {MOVED_URL} belongs {TARGET_URL}")
    finally:
        await app.close()
