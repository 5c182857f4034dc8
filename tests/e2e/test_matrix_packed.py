"""Packed delivery on Matrix, the whole bot against a real Synapse: a long thread arrives
as a few events in the header's thread, each post with its number linking to it, a warned
post as its own spoiler span; a warning added later edits the events in place."""

from __future__ import annotations

import re
from typing import Any

import pytest

from bot.render.html import PACK_LIMIT
from tests.e2e.conftest_matrix import (
    AppFactory,
    PersonFactory,
    body,
    notice_from,
    room_with_bot,
)
from tests.fakes.bluesky_server import FakeBluesky
from tests.fakes.thread_builder import ThreadBuilder

pytestmark = pytest.mark.synapse


def in_thread(events: list[dict[str, Any]], root: str) -> list[dict[str, Any]]:
    return [
        e
        for e in events
        if e["content"].get("m.relates_to", {}).get("rel_type") == "m.thread"
        and e["content"]["m.relates_to"]["event_id"] == root
    ]


async def test_a_long_thread_arrives_in_a_few_events_and_edits_in_place(
    person: PersonFactory, start_app: AppFactory, bsky: FakeBluesky
) -> None:
    b = ThreadBuilder()
    mira = b.author("mira", handle="mira.example.com", name="Mira")
    texts = [f"Part {i} of a long walk along the shore, with herons." for i in range(1, 81)]
    texts[9] = "Part 10: the night I thought about suicide."
    texts[40] = "Part 41: I called the suicide hotline."
    keys: list[str] = []
    parent = None
    for text in texts:
        parent = b.post(mira, text, parent=parent)
        keys.append(parent)
    bsky.add_thread(b.build())
    bot = await start_app(layout="packed")
    human = await person()
    room = await room_with_bot(human, bot)

    await human.say(room, f"!unroll {bsky.url(keys[5])}")
    done = await human.wait_for(notice_from(bot.user_id, "Unrolled 80 posts"))
    mine = [e for e in human.from_user(bot.user_id, room) if e["event_id"] != done[0]["event_id"]]
    header = mine[0]
    assert "80 posts" in body(header)
    events = in_thread(mine, header["event_id"])
    assert 1 <= len(events) <= 3
    html = "".join(e["content"]["formatted_body"] for e in events)
    plain = "\n".join(body(e) for e in events)
    for e in events:
        assert len(e["content"]["formatted_body"].encode()) <= PACK_LIMIT
        assert e["content"]["msgtype"] == "m.notice" and e["content"]["m.mentions"] == {}
    links = re.findall(r'<h4><a href="([^"]+)"><strong>(\d+)/80</strong></a></h4>', html)
    assert [int(n) for _, n in links] == list(range(1, 81))
    assert [u for u, _ in links] == [bsky.url(k) for k in keys]
    # Each warned post is its own spoiler, the reason visible; the plain body never has it.
    spans = re.findall(r'<span data-mx-spoiler="([^"]*)">(.*?)</span>', html)
    hidden = " ".join(t for _, t in spans)
    assert "the night I thought" in hidden and "suicide hotline" in hidden
    assert "long walk" not in hidden
    # The reason is the note line right above each span, so the span does not repeat it.
    assert len(spans) == 2 and all(reason == "" for reason, _ in spans)
    reasons = re.findall(r"<em>([^<]*)</em></p><p><span data-mx-spoiler", html)
    assert len(reasons) == 2 and all("suicide" in r.lower() for r in reasons)
    assert "the night I thought" not in plain and "suicide hotline" not in plain
    assert "Part 11 of a long walk" in plain

    await human.say(room, f"!cw add {bsky.url(keys[0])} abuse")
    await human.wait_for(notice_from(bot.user_id, "Content warning added"))
    edits = await human.wait_for(
        lambda e: e.get("content", {}).get("m.relates_to", {}).get("rel_type") == "m.replace",
        count=1 + len(events),
    )
    by_target = {e["content"]["m.relates_to"]["event_id"]: e for e in edits}
    await human.sync()
    after = in_thread(human.from_user(bot.user_id, room), header["event_id"])
    assert after[: len(events)] == events  # rewritten in place; any overflow follows them
    final = [by_target[e["event_id"]]["content"]["m.new_content"] for e in events]
    final += [e["content"] for e in after[len(events) :]]
    for content in final:
        assert "long walk" not in content["body"]
    html = "".join(c["formatted_body"] for c in final)
    assert [int(n) for n in re.findall(r"<strong>(\d+)/80</strong>", html)] == list(range(1, 81))
    assert html.count("data-mx-spoiler") >= 80
