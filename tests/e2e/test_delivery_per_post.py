"""A per-post delivery's messages are found by the posts they hold: a post appended
later sits at the end of the outbox's plan wherever the thread shows it, and an edit
(a warning added) still rewrites each message with its own post."""

# The fixtures come from the packed delivery tests and are named as test arguments.
# ruff: noqa: F811

from __future__ import annotations

from collections.abc import Sequence

from bot.adapters.memory import MemoryAdapter
from bot.app import App
from bot.models import Aside, Author, Post, Thread
from bot.render.document import Message
from bot.render.thread_view import thread_messages
from storage.deliveries_repo import DeliveryRecord
from tests.e2e.test_delivery_packed import ROOM, app, bsky  # noqa: F401

ALICE = Author("did:alice", "alice.test", "Alice", "https://bsky.app/profile/alice.test")


def _thread(prefix: str, *, aside: bool) -> Thread:
    posts = tuple(
        Post(pid, f"https://x.test/{pid}", ALICE, "2026-01-01T00:00:00Z", f"{prefix} {pid}")
        for pid in ("p1", "p2", "p3")
    )
    later = Post("b1", "https://x.test/b1", ALICE, "2026-01-02T00:00:00Z", f"{prefix} b1")
    asides = (Aside("p1", (later,)),) if aside else ()
    return Thread("bluesky", posts[0].url, "p1", ALICE, posts, asides=asides)


async def test_an_edit_after_an_append_rewrites_each_message_with_its_own_post(
    app: App,
) -> None:
    chat = MemoryAdapter(app.dispatcher)
    app.adapters[chat.name] = chat
    first = _thread("old", aside=False)
    record = await app.deliverer.deliver(
        chat, ROOM, first, thread_messages(first), layout="per-post"
    )
    # An aside to post 1 arrives later: the plan gets it at the end, the thread shows it
    # right after post 1.
    grown = _thread("old", aside=True)
    new = [m for m in thread_messages(grown)[1:] if m.post_id not in record.planned_keys]
    record = await app.deliverer.append(chat, ROOM, record, new)
    assert [m.post_id for m in record.messages[1:]] == ["p1", "p2", "p3", "b1"]

    async def render(rec: DeliveryRecord) -> Sequence[Message]:
        return thread_messages(_thread("new", aside=True))

    assert await app.deliverer.edit(chat, record, render) == 5
    posts = [s for s in chat.sent if s.message.post_id]
    assert [s.message.post_id for s in posts] == ["p1", "p2", "p3", "b1"]
    for sent in posts:
        assert f"new {sent.message.post_id}" in sent.edits[-1]
        assert sent.edits[-1].count("new ") == 1
