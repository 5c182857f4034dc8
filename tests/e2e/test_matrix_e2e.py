"""The whole bot on Matrix: the app (dispatcher, unroll, content notes, links, storage,
delivery) with the Matrix adapter built from config, a real Synapse, the local fake Bluesky
AppView as upstream, and a person at a second matrix-nio client."""

from __future__ import annotations

import re

import pytest

from bot.sources.mastodon import MastodonSource
from tests.e2e.conftest_matrix import (
    AppFactory,
    PersonFactory,
    RunningApp,
    body,
    joined,
    notice_from,
    room_with_bot,
    thread_of,
)
from tests.fakes.bluesky_server import FakeBluesky
from tests.fakes.mastodon_server import FakeMastodon
from tests.fakes.thread_builder import SynthImage

pytestmark = pytest.mark.synapse


async def test_unroll_posts_header_and_thread_with_fallbacks(
    person: PersonFactory, matrix_app: RunningApp, bsky: FakeBluesky
) -> None:
    keys = thread_of(bsky, 12, images=(SynthImage(alt="a heron in the reeds"),))
    human = await person()
    room = await room_with_bot(human, matrix_app)

    await human.say(room, f"!unroll {bsky.url(keys[4])}")
    done = await human.wait_for(notice_from(matrix_app.user_id, "Unrolled 12 posts"))
    header, *posts = [
        e for e in human.from_user(matrix_app.user_id, room) if e["event_id"] != done[0]["event_id"]
    ]
    assert "Thread by Mira (@mira.example.com) · 12 posts" in body(header)
    assert bsky.url(keys[0]) in body(header)
    assert "m.relates_to" not in header["content"]
    assert len(posts) == 12
    previous = header["event_id"]
    for i, post in enumerate(posts, start=1):
        rel = post["content"]["m.relates_to"]
        assert rel["rel_type"] == "m.thread" and rel["event_id"] == header["event_id"]
        assert rel["is_falling_back"] is True
        assert rel["m.in_reply_to"] == {"event_id": previous}
        # The author numbered the posts ("Part 3/12"): no second number from the bot.
        assert body(post).startswith(f"Part {i}/12") and body(post).count(f"{i}/12") == 1
        # Thread content reads as normal text in Element, not as a grey notice.
        assert post["content"]["msgtype"] == "m.text"
        previous = post["event_id"]
    assert header["content"]["msgtype"] == "m.text"
    assert done[0]["content"]["msgtype"] == "m.notice"  # the bot's own answer
    first = posts[0]["content"]
    # The image is listed once: a link named by its alt text, in body and in HTML.
    assert first["body"].count("a heron in the reeds") == 1
    assert first["formatted_body"].count("a heron in the reeds") == 1
    assert re.search(r'<a href="[^"]+">Image: a heron in the reeds</a>', first["formatted_body"])
    # The closing reply links to the header and answers the command.
    assert f"https://matrix.to/#/{room}/{header['event_id']}?via=localhost" in body(done[0])


async def test_moderator_warning_edits_posted_thread_without_leaking(
    person: PersonFactory, matrix_app: RunningApp, bsky: FakeBluesky
) -> None:
    keys = thread_of(bsky, 3)
    owner = await person("owner")
    guest = await person("guest")
    room = await owner.create_room(invite=(matrix_app.user_id, guest.user_id))
    await owner.wait_for(joined(matrix_app.user_id, room))
    await guest.client.join(room)

    url = bsky.url(keys[0])
    await owner.say(room, f"!unroll {url}")
    await owner.wait_for(notice_from(matrix_app.user_id, "Unrolled 3 posts"))
    posts = [
        e
        for e in owner.from_user(matrix_app.user_id, room)
        if e["content"].get("m.relates_to", {}).get("rel_type") == "m.thread"
    ]
    assert len(posts) == 3

    # A guest (power level 0) is refused and nothing changes.
    await guest.say(room, f"!cw add {url} suicide")
    await guest.wait_for(notice_from(matrix_app.user_id, "Only moderators"))
    await owner.say(room, f"!cw add {url} suicide")
    await owner.wait_for(notice_from(matrix_app.user_id, "Content warning added"))
    edits = await owner.wait_for(
        lambda e: e.get("content", {}).get("m.relates_to", {}).get("rel_type") == "m.replace",
        count=4,
    )
    by_target = {e["content"]["m.relates_to"]["event_id"]: e for e in edits}
    for i, post in enumerate(posts, start=1):
        new = by_target[post["event_id"]]["content"]["m.new_content"]
        assert f"Part {i}/3" not in new["body"], new["body"]
        assert f"Part {i}/3" not in by_target[post["event_id"]]["content"]["body"]
        assert "data-mx-spoiler" in new["formatted_body"]
        assert f"Part {i}/3" in new["formatted_body"]


async def test_link_commands_need_the_moderator_level(
    person: PersonFactory, matrix_app: RunningApp, bsky: FakeBluesky
) -> None:
    keys = thread_of(bsky, 2)
    owner = await person("owner")
    guest = await person("guest")
    room = await owner.create_room(invite=(matrix_app.user_id, guest.user_id))
    await owner.wait_for(joined(matrix_app.user_id, room))
    await guest.client.join(room)
    for cmd in (f"!links {bsky.url(keys[0])}", f"!unlink {bsky.url(keys[1])}"):
        await guest.say(room, cmd)
    refusals = await guest.wait_for(notice_from(matrix_app.user_id, "Only moderators"), count=2)
    assert len(refusals) == 2
    await owner.say(room, f"!links {bsky.url(keys[0])}")
    [answer] = await owner.wait_for(
        lambda e: (
            e.get("sender") == matrix_app.user_id
            and "Only moderators" not in body(e)
            and e["content"].get("m.relates_to", {}).get("m.in_reply_to") is not None
            and e["room_id"] == room
        )
    )
    assert body(answer)


async def test_help_and_bad_links_answer_briefly(
    person: PersonFactory, matrix_app: RunningApp
) -> None:
    human = await person()
    room = await room_with_bot(human, matrix_app)
    await human.say(room, "!help")
    [help_event] = await human.wait_for(notice_from(matrix_app.user_id, "Commands:"))
    assert "!unroll <url>" in body(help_event)
    await human.say(room, "!unroll https://example.com/not-a-post")
    [bad] = await human.wait_for(notice_from(matrix_app.user_id, "Unsupported link"))
    assert bad["room_id"] == room


async def test_private_unroll_goes_to_a_direct_chat(
    person: PersonFactory, matrix_app: RunningApp, bsky: FakeBluesky
) -> None:
    keys = thread_of(bsky, 3)
    human = await person()
    room = await room_with_bot(human, matrix_app)
    await human.say(room, f"!unroll {bsky.url(keys[0])} private:true")
    await human.wait_for(notice_from(matrix_app.user_id, "direct chat"))

    # The bot invited the person to a direct chat; the thread is there, not in the room.
    for _ in range(20):
        if human.client.invited_rooms:
            break
        await human.sync(timeout_ms=500)
    [dm] = list(human.client.invited_rooms)
    await human.client.join(dm)
    posts = await human.wait_for(
        lambda e: e["room_id"] == dm and notice_from(matrix_app.user_id)(e), count=4
    )
    assert "Thread by Mira" in body(posts[0])
    assert [body(p) for p in posts[1:]] == ["Part 1/3", "Part 2/3", "Part 3/3"]
    in_room = [body(e) for e in human.from_user(matrix_app.user_id, room)]
    assert len(in_room) == 1 and "direct chat" in in_room[0]

    # The next private answer reuses the same direct chat.
    await human.say(room, f"!unroll {bsky.url(keys[1])} private:true")
    await human.wait_for(
        lambda e: e["room_id"] == dm and notice_from(matrix_app.user_id)(e), count=8
    )
    assert not human.client.invited_rooms


async def test_mastodon_thread_with_an_author_warning(
    person: PersonFactory, start_app: AppFactory
) -> None:
    async with FakeMastodon(latency_s=0.01) as masto:
        rin = masto.account("rin")
        first = masto.post(rin, "A thread about my week")
        middle = masto.post(
            rin,
            html='<p>the hard part <a href="https://example.org/x">source</a></p>'
            "<script>alert(1)</script>",
            reply_to=first,
            spoiler_text="self-harm mention",
        )
        masto.post(rin, "better now", reply_to=middle)
        app = await start_app(more_sources=lambda http: [MastodonSource(http)])
        human = await person()
        room = await room_with_bot(human, app)
        await human.say(room, f"!unroll {masto.link(first)}")
        await human.wait_for(notice_from(app.user_id, "Unrolled 3 posts"))
    posts = [
        e
        for e in human.from_user(app.user_id, room)
        if e["content"].get("m.relates_to", {}).get("rel_type") == "m.thread"
    ]
    assert len(posts) == 3
    warned = posts[1]["content"]
    assert "the hard part" not in warned["body"]
    assert "self-harm mention" in warned["body"]
    assert "data-mx-spoiler" in warned["formatted_body"]
    assert "the hard part" in warned["formatted_body"]
    assert "<script" not in warned["formatted_body"]
    assert "better now" in posts[2]["content"]["body"]
