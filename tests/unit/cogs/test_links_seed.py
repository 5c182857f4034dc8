"""The case the project was founded on, end to end through the chat commands: the seed
thread's context link and its moved post are found in the author's words, shown in the
unroll, and the target thread shows the moved post, also after a restart."""

from __future__ import annotations

from bot.adapters.memory import MemoryAdapter
from bot.codec import public_thread
from tests.conftest import Engine
from tests.e2e.test_links_fixtures import (
    BELONGS_TARGET,
    CONTEXT_URL,
    MOVED_POST,
    SEED_IDS,
    SEED_URL,
    TARGET_AFTER,
    TARGET_ROOT,
    TARGET_URL,
    open_app,
    seeded_fake,
    x_url,
)
from tests.fixtures import seed_thread as seed

MOVED_TEXT = seed.POSTS[8]["text"]


def boilerplate_in(texts: list[str]) -> list[str]:
    joined = "\n".join(texts).lower()
    return [m for m in seed.BOILERPLATE_MARKERS if m.lower() in joined]


async def test_unrolling_the_seed_shows_its_context_and_its_moved_post(engine: Engine) -> None:
    async with seeded_fake() as fake, open_app(engine.storage(), fake) as app:
        chat = MemoryAdapter(app.dispatcher)
        # Any post of the thread, in the link form the seed used.
        await chat.command(f"unroll https://twitter.com/crys_tom/status/{SEED_IDS[10]}")
        thread = await app.unroller.unroll(SEED_URL)
    posted = chat.posted_texts()
    header = posted[0]
    assert f"Context: {CONTEXT_URL}" in header
    assert "· 13 posts" in header  # the moved post was left in place: it still counts
    (moved,) = [t for t in posted if MOVED_TEXT in t]
    assert f"belongs to {TARGET_URL}; left here by the author" in moved
    assert boilerplate_in(posted) == []
    data = public_thread(thread)
    assert [(lk["kind"], lk["post"], lk["target"], lk["origin"]) for lk in data["links"]] == [
        ("context", f"x:{SEED_IDS[0]}", CONTEXT_URL, "auto"),
        ("belongs_to", f"x:{MOVED_POST}", TARGET_URL, "auto"),
    ]
    # The evidence names the posts and the phrases a moderator can check.
    evidence = data["links"][1]["evidence"]
    assert x_url(SEED_IDS[9]) in evidence and x_url(SEED_IDS[10]) in evidence
    assert "“belonged in a different thread”" in evidence and "“left it here”" in evidence
    assert [p["status"] for p in data["posts"]] == ["ok"] * 13


async def test_the_target_thread_shows_the_moved_post_also_after_a_restart(
    engine: Engine,
) -> None:
    db = engine.storage()
    async with seeded_fake() as fake:
        async with open_app(db, fake) as app:
            await app.unroller.unroll(SEED_URL)  # the only time the notes are read
            first = await app.unroller.unroll(TARGET_URL)
        async with open_app(db, fake) as app:
            app.layouts.default = "per-post"  # the moved post's own message is checked below
            chat = MemoryAdapter(app.dispatcher)
            await chat.command(f"unroll {x_url(TARGET_ROOT)} refresh:true")
            again = await app.unroller.unroll(x_url(TARGET_AFTER))
    for thread in (first, again):
        assert [(p.id, p.status) for p in thread.posts] == [
            (f"x:{TARGET_ROOT}", "ok"),
            (f"x:{BELONGS_TARGET}", "ok"),
            (f"x:{MOVED_POST}", "moved_in"),
            (f"x:{TARGET_AFTER}", "ok"),
        ]
    posted = chat.posted_texts()
    (moved,) = [t for t in posted if MOVED_TEXT in t]
    assert moved.startswith("3/4")
    assert f"moved in from {SEED_URL}" in moved
    assert boilerplate_in(posted) == []
