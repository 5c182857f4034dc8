"""No double numbering and one post count: when the author numbered a post the bot adds
no number of its own, and the header, the labels and the unroll reply count alike."""

# Fixtures are imported from tests/e2e/test_e2e_memory.py and named as test arguments.
# ruff: noqa: F811

from __future__ import annotations

import pytest

from bot.adapters.memory import MemoryAdapter
from bot.app import App
from bot.models import Aside, Author, ContentNote, Post, Thread
from bot.render import plain
from bot.render.numbering import author_number
from bot.render.thread_view import NoteDecision, thread_messages
from tests.e2e.test_e2e_memory import app, bsky  # noqa: F401
from tests.fakes.bluesky_server import FakeBluesky
from tests.fakes.thread_builder import ThreadBuilder

ALICE = Author("did:alice", "alice.test", "Alice", "https://bsky.app/profile/alice.test")


def _post(pid: str, text: str) -> Post:
    return Post(pid, f"https://x.test/{pid}", ALICE, "2026-01-01T00:00:00Z", text)


@pytest.mark.parametrize(
    ("text", "index"),
    [
        ("1/ Here is a story", 1),
        ("2/12 and then", 2),
        ("(3/5) more", 3),
        ("[4/5] more", 4),
        ("1/🧵 starting", 1),
        ("🧵 1/ starting", 1),
        ("3/n the middle", 3),
        ("and so it ended. 5/5", 5),
        ("and so it ended (5/5)", 5),
        ("the last one 6/6 🧵", 6),
    ],
)
def test_an_author_number_is_recognised(text: str, index: int) -> None:
    assert author_number(text, index, 6) == index


@pytest.mark.parametrize(
    ("text", "index"),
    [
        ("24/7 support matters", 1),
        ("2024/25 was a long season", 2),
        ("10/10 would read again", 1),
        ("about half, 1/2", 4),
        ("nothing numbered here", 1),
    ],
)
def test_prose_with_a_slash_is_not_numbering(text: str, index: int) -> None:
    assert author_number(text, index, 6) is None


def test_numbered_posts_get_no_second_number_and_counts_agree() -> None:
    posts = (
        _post("p1", "1/ the start"),
        _post("p2", "plain middle"),
        _post("p3", "the end (3/3)"),
    )
    aside = Aside("p2", (_post("b1", "a side remark"), _post("b2", "another")))
    thread = Thread("bluesky", posts[0].url, "p1", ALICE, posts, asides=(aside,))
    texts = [plain.message_text(m) for m in thread_messages(thread)]
    assert texts[0].startswith("🧵 Thread by Alice (@alice.test) · 3 posts + 2 asides")
    assert texts[1] == "1/ the start"
    assert texts[2] == "2/3\nplain middle"
    assert texts[3].startswith("↳ aside to 2/3") and texts[4].startswith("↳ aside to 2/3")
    assert texts[5] == "the end (3/3)"


async def test_the_unroll_reply_counts_like_the_header(app: App, bsky: FakeBluesky) -> None:
    b = ThreadBuilder()
    alice = b.author("alice")
    keys = b.chain(alice, 4, numbered=False)
    b.reply(alice, keys[1], "a short branch")
    bsky.add_thread(b.build())
    chat = MemoryAdapter(app.dispatcher)
    await chat.command(f"unroll {bsky.url(keys[0])}")
    header, *posts = chat.sent
    assert "4 posts + 1 aside" in header.text
    assert [p.text.split("\n")[0] for p in posts] == ["1/4", "2/4", "↳ aside to 2/4", "3/4", "4/4"]
    assert chat.replies[-1].text.startswith("Unrolled 4 posts + 1 aside")


def test_a_hidden_post_keeps_a_number_when_its_own_is_hidden_with_the_text() -> None:
    posts = (_post("p1", "1/ calm"), _post("p2", "2/ the hard part"), _post("p3", "3/ calm"))
    note = ContentNote("self-harm", "auto", "self-harm")
    thread = Thread("bluesky", posts[0].url, "p1", ALICE, posts, post_notes=(("p2", (note,)),))

    def decide(notes):  # type: ignore[no-untyped-def]
        return NoteDecision("warn", "Content note: self-harm") if notes else NoteDecision()

    texts = [plain.message_text(m, reveal=False) for m in thread_messages(thread, decide)]
    assert texts[1:] == ["1/ calm", "2/3\n⚠ Content note: self-harm\n\n[hidden]", "3/ calm"]
