"""Subscriptions on Matrix: the commands' moderator gate and answers through the whole app."""

from __future__ import annotations

import pytest

from tests.e2e.conftest_matrix import (
    AppFactory,
    PersonFactory,
    body,
    joined,
    notice_from,
    room_with_bot,
    thread_of,
)
from tests.fakes.bluesky_server import FakeBluesky

pytestmark = pytest.mark.synapse


async def test_subscribe_needs_the_moderator_level(
    person: PersonFactory, start_app: AppFactory, bsky: FakeBluesky
) -> None:
    matrix_app = await start_app(("cogs.subscriptions",))
    thread_of(bsky, 2)
    owner = await person("owner")
    guest = await person("guest")
    room = await owner.create_room(invite=(matrix_app.user_id, guest.user_id))
    await owner.wait_for(joined(matrix_app.user_id, room))
    await guest.client.join(room)
    await guest.say(room, "!subscribe mira.example.com")
    await guest.wait_for(notice_from(matrix_app.user_id, "Only moderators"))
    await owner.say(room, "!subscribe mira.example.com")
    [answer] = await owner.wait_for(
        lambda e: (
            notice_from(matrix_app.user_id, "mira.example.com")(e)
            and e["content"].get("m.relates_to", {}).get("m.in_reply_to") is not None
        )
    )
    assert "Only moderators" not in body(answer)
    await owner.say(room, "!subscriptions")
    [listing] = await owner.wait_for(
        lambda e: (
            notice_from(matrix_app.user_id, "mira.example.com")(e)
            and e["event_id"] != answer["event_id"]
        )
    )
    assert listing["room_id"] == room


async def test_backfilled_subscription_posts_a_thread_into_the_room(
    person: PersonFactory, start_app: AppFactory, bsky: FakeBluesky
) -> None:
    matrix_app = await start_app(("cogs.subscriptions",))
    thread_of(bsky, 3)
    owner = await person("owner")
    room = await room_with_bot(owner, matrix_app)
    await owner.say(room, "!subscribe mira.example.com backfill:1")
    [header] = await owner.wait_for(notice_from(matrix_app.user_id, "Thread by Mira"), timeout_s=20)
    posts = await owner.wait_for(
        lambda e: (
            e.get("content", {}).get("m.relates_to", {}).get("event_id") == header["event_id"]
            and e["content"]["m.relates_to"].get("rel_type") == "m.thread"
        ),
        count=3,
    )
    assert [body(p) for p in posts] == [
        "Part 1/3",
        "Part 2/3",
        "Part 3/3",
    ]  # numbered by the author
