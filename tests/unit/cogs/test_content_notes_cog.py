"""The cog's processor and decisions without the rest of the bot: long threads,
continuations, warnings stored under any post's link, and category parsing."""

from __future__ import annotations

from dataclasses import replace

from bot.models import Author, ContentNote, Post, Thread
from cogs.content_notes.categories import parse_category
from cogs.content_notes.cog import ContentNotesCog, _split_categories, normalise_link
from cogs.content_notes.repo import NoteAction, NotesRepo
from storage.db import Database

AUTHOR = Author("did:plc:a", "a.example", "A", "https://bsky.app/profile/a.example")


def _thread(root: str, texts: list[str]) -> Thread:
    posts = tuple(
        Post(f"{root}-{i}", f"https://bsky.app/profile/a.example/post/{root}{i}", AUTHOR, "t", x)
        for i, x in enumerate(texts)
    )
    return Thread("bluesky", posts[0].url, posts[0].id, AUTHOR, posts)


def _log() -> NoteAction:
    return NoteAction(1.0, "m", "M", "memory", "s", "c", "warning-added", "")


async def test_long_thread_and_its_continuation_are_annotated(db: Database) -> None:
    cog = ContentNotesCog(NotesRepo(db))
    texts = ["plain words"] * 70 + ["my psychiatrist says hi"]
    tail = _thread("t2", ["grief is strange"])
    thread = replace(_thread("t1", texts), continuation=tail)
    out = await cog.process(thread)
    assert [n.category for n in out.content_notes] == ["mental-health"]
    assert [pid for pid, _ in out.post_notes] == ["t1-70"]
    assert out.continuation is not None
    assert [n.category for n in out.continuation.content_notes] == ["death-grief"]


async def test_warning_stored_under_a_post_link_applies_to_its_thread(db: Database) -> None:
    repo = NotesRepo(db)
    thread = _thread("t1", ["one", "two", "three"])
    link = normalise_link(thread.posts[2].url + "?ref=share")
    await repo.add_warnings(link, link, ["trauma"], "moderator words", _log())
    out = await ContentNotesCog(repo).process(thread)
    assert out.content_notes == (ContentNote("trauma", "moderator", "moderator words"),)


async def test_decide_uses_the_loaded_policy(db: Database) -> None:
    repo = NotesRepo(db)
    await repo.set_action("s", "trauma", "hide", _log())
    cog = ContentNotesCog(repo)
    note = [ContentNote("trauma", "auto", "ptsd")]
    assert cog.decide("s", note).action == "note"  # not loaded yet: defaults
    await cog.start()
    assert cog.decide("s", note).action == "hide"
    assert (await cog.decide_for("s"))(note).action == "hide"
    assert (await cog.decide_for(None))(note).action == "note"


def test_categories_then_reason() -> None:
    assert _split_categories("suicide, sh mentions a friend") == (
        ["suicide", "self-harm"],
        "mentions a friend",
    )
    assert _split_categories("eating disorders mental health") == (
        ["eating-disorders", "mental-health"],
        "",
    )
    assert _split_categories("graphic photos") == ([], "graphic photos")
    assert parse_category("Death and grief") == "death-grief"  # the display name
    assert parse_category("death-grief") == "death-grief"
    assert parse_category("MH") == "mental-health"


def test_link_keys_ignore_query_fragment_case_and_trailing_slash() -> None:
    assert normalise_link("<HTTPS://BSKY.app/profile/a/post/1/?x=1#y>") == (
        "https://bsky.app/profile/a/post/1"
    )
