"""Content notes and readability as an Element user sees them, on a real Synapse: the
thread's note once, spoilers without a repeated reason, thread content as normal text
(warned posts as notices, which preview bots leave alone), each image listed once."""

from __future__ import annotations

import re

import pytest

from tests.e2e.conftest_matrix import (
    PersonFactory,
    RunningApp,
    notice_from,
    room_with_bot,
)
from tests.fakes.bluesky_server import FakeBluesky
from tests.fakes.thread_builder import SynthImage, ThreadBuilder

pytestmark = pytest.mark.synapse

TEXTS = [
    "The year I moved to the coast, in five short posts.",
    "The flat had a view of the harbour.",
    "Every morning the fishing boats went out.",
    "I learned the names of the gulls.",
    "That is all for now.",
]
SELF_HARM = re.compile(r"self.harm", re.IGNORECASE)


def _thread(bsky: FakeBluesky) -> list[str]:
    b = ThreadBuilder()
    mira = b.author("mira", handle="mira.example.com", name="Mira")
    keys: list[str] = []
    for i, text in enumerate(TEXTS):
        images = (SynthImage(alt="gulls over the harbour"),) if i == 1 else ()
        keys.append(b.post(mira, text, parent=keys[-1] if keys else None, images=images))
    bsky.add_thread(b.build())
    return keys


async def test_a_warned_thread_shows_its_note_once(
    person: PersonFactory, matrix_app: RunningApp, bsky: FakeBluesky
) -> None:
    url = bsky.url(_thread(bsky)[0])
    human = await person()
    room = await room_with_bot(human, matrix_app)
    await human.say(room, f"!cw add {url} self-harm")
    await human.wait_for(notice_from(matrix_app.user_id, "Content warning added"))
    await human.say(room, f"!unroll {url}")
    done = await human.wait_for(notice_from(matrix_app.user_id, "Unrolled 5 posts"))

    header, *posts = [
        e
        for e in human.from_user(matrix_app.user_id, room)
        if "Thread by" in e["content"]["body"]
        or e["content"].get("m.relates_to", {}).get("rel_type") == "m.thread"
    ]
    assert len(posts) == 5 and done
    # What Element shows (the HTML, spoiler reasons included) and what notifications show
    # (the plain body): the reason once, in the header.
    html = "\n".join(e["content"]["formatted_body"] for e in (header, *posts))
    plain = "\n".join(e["content"]["body"] for e in (header, *posts))
    assert len(SELF_HARM.findall(html)) == 1 and len(SELF_HARM.findall(plain)) == 1
    for i, post in enumerate(posts, start=1):
        content = post["content"]
        assert f"<strong>{i}/5</strong>" in content["formatted_body"]
        assert '<span data-mx-spoiler="">' in content["formatted_body"]
        assert TEXTS[i - 1] not in content["body"]
        # Under a warning: a notice, which bots (link previewers too) do not act on.
        assert content["msgtype"] == "m.notice"
    # The image of post 2 is listed once, inside the spoiler.
    assert posts[1]["content"]["formatted_body"].count("gulls over the harbour") == 1


async def test_an_unwarned_thread_reads_as_text_with_each_image_once(
    person: PersonFactory, matrix_app: RunningApp, bsky: FakeBluesky
) -> None:
    url = bsky.url(_thread(bsky)[0])
    human = await person()
    room = await room_with_bot(human, matrix_app)
    await human.say(room, f"!unroll {url}")
    [done] = await human.wait_for(notice_from(matrix_app.user_id, "Unrolled 5 posts"))
    assert done["content"]["msgtype"] == "m.notice"  # the bot's own answer
    posts = [
        e
        for e in human.from_user(matrix_app.user_id, room)
        if e["content"].get("m.relates_to", {}).get("rel_type") == "m.thread"
    ]
    assert [p["content"]["msgtype"] for p in posts] == ["m.text"] * 5
    second = posts[1]["content"]
    assert second["body"].count("gulls over the harbour") == 1
    assert second["formatted_body"].count("gulls over the harbour") == 1
    assert re.search(
        r'<a href="https://[^"]+">Image: gulls over the harbour</a>', second["formatted_body"]
    )
