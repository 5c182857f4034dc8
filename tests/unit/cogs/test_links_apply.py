"""Applying the index on every unroll, through the real app, sources and database: moves
out and in, continuations followed (chains, loops, the post cap, unreachable ones), links
to deleted posts, and the JSON shape."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.adapters.memory import MemoryAdapter
from bot.app import App
from bot.codec import public_thread
from bot.models import Aside, Author, Post, Thread
from bot.render import plain
from bot.render.thread_view import thread_messages
from cogs.links.apply import apply_links, shown_count
from cogs.links.repo import StoredLink
from tests.conftest import Engine
from tests.e2e.test_links_fixtures import (
    AUTHOR,
    BELONGS_TARGET,
    MOVED_POST,
    SEED_URL,
    TARGET_URL,
    chain,
    earlier_threads,
    mod,
    open_app,
    rendered,
    seed_statuses,
    x_url,
)
from tests.fakes.fxtwitter_server import FxTwitterFake, snowflake_at


def sid(day: int, minute: int) -> str:
    return snowflake_at(f"2026-03-{day:02d}T10:{minute:02d}:00Z")


# Garden thread: its second post was meant for the soil thread; the note says so.
SOIL = chain(AUTHOR, [(sid(1, 0), "Soil thread 1/2"), (sid(1, 1), "Compost matters 2/2")])
GARDEN = chain(
    AUTHOR,
    [
        (sid(2, 0), "Garden thread: what grows in shade"),
        (sid(2, 1), "Ferns like shade"),
        (sid(2, 2), "Worms turn the soil over for you"),
        (sid(2, 3), "The tweet above belongs in another thread, sorry"),
        (sid(2, 4), f"This is where it belongs {x_url(sid(1, 1))}"),
    ],
)
# A chain of continuations: A -> B -> C.
A = chain(AUTHOR, [(sid(3, 0), "A1"), (sid(3, 1), f"A2, continued here: {x_url(sid(4, 0))}")])
B = chain(AUTHOR, [(sid(4, 0), "B1"), (sid(4, 1), f"B2, continued here: {x_url(sid(5, 0))}")])
C = chain(AUTHOR, [(sid(5, 0), "C1"), (sid(5, 1), "C2"), (sid(5, 2), "C3")])
# A loop: L -> M -> L.
L = chain(AUTHOR, [(sid(6, 0), "L1"), (sid(6, 1), f"L2 continued in {x_url(sid(7, 0))}")])
M = chain(AUTHOR, [(sid(7, 0), "M1"), (sid(7, 1), f"M2 continued in {x_url(sid(6, 0))}")])
# Continues in a post that is gone.
GONE = sid(8, 30)
D = chain(AUTHOR, [(sid(8, 0), "D1"), (sid(8, 1), f"Continued here: {x_url(GONE)}")])
DEAD = chain(AUTHOR, [(GONE, "deleted later")])
# Context pointing at a deleted post.
E = chain(AUTHOR, [(sid(9, 0), f"For context: {x_url(sid(9, 50))}"), (sid(9, 1), "E2")])
E_CONTEXT = chain(AUTHOR, [(sid(9, 50), "an old thread, deleted later")])
# A thread that opens by quoting the end of the soil thread continues it; one that quotes
# a post in the middle of a thread does not.
Q = chain(AUTHOR, [(sid(10, 0), "More on soil"), (sid(10, 1), "Q2")])
Q[0]["quote"] = SOIL[1]
R = chain(AUTHOR, [(sid(11, 0), "About ferns again"), (sid(11, 1), "R2")])
R[0]["quote"] = GARDEN[1]


def everything() -> list[dict[str, Any]]:
    return [
        *seed_statuses(),
        *earlier_threads(),
        *SOIL,
        *GARDEN,
        *A,
        *B,
        *C,
        *L,
        *M,
        *D,
        *DEAD,
        *E,
        *E_CONTEXT,
        *Q,
        *R,
    ]


@pytest.fixture
async def fake() -> AsyncIterator[FxTwitterFake]:
    async with FxTwitterFake() as server:
        assert isinstance(server, FxTwitterFake)
        server.add(*everything())
        yield server


@pytest.fixture
async def app(engine: Engine, fake: FxTwitterFake) -> AsyncIterator[App]:
    async with open_app(engine.storage(), fake) as a:
        yield a


# -- moving out and in ------------------------------------------------------------------


async def test_a_moved_post_leaves_the_numbering_as_one_line(app: App) -> None:
    garden = await app.unroller.unroll(x_url(sid(2, 0)))
    statuses = [(p.text[:12], p.status) for p in garden.posts]
    assert statuses[2] == ("Worms turn t", "moved_out")
    text = rendered(garden)
    assert f"↪ moved to {x_url(sid(1, 1))}" in text
    assert "Worms turn" not in text
    assert "· 4 posts" in text and "1/4" in text and "4/4" in text and "5/5" not in text


async def test_the_target_shows_the_moved_post_at_its_place(app: App) -> None:
    await app.unroller.unroll(x_url(sid(2, 0)))
    soil = await app.unroller.unroll(x_url(sid(1, 0)))
    assert [(p.text, p.status) for p in soil.posts] == [
        ("Soil thread 1/2", "ok"),
        ("Compost matters 2/2", "ok"),
        ("Worms turn the soil over for you", "moved_in"),
    ]
    text = rendered(soil)
    assert f"moved in from {x_url(sid(2, 0))}" in text
    assert "3/3" in text


async def test_the_authors_own_warning_travels_with_the_moved_post(
    app: App, fake: FxTwitterFake
) -> None:
    fake.statuses[sid(2, 2)]["possibly_sensitive"] = True
    await app.unroller.unroll(x_url(sid(2, 0)))
    soil = await app.unroller.unroll(x_url(sid(1, 0)))
    (moved,) = [m for m in thread_messages(soil) if m.post_id == f"x:{sid(2, 2)}"]
    assert "Content note: marked sensitive by the author" in plain.message_text(moved)


async def test_a_moderator_continuation_beats_the_detected_one(app: App) -> None:
    chat = MemoryAdapter(app.dispatcher)
    await app.unroller.unroll(x_url(sid(3, 0)))
    await mod(chat, f"link {x_url(sid(3, 0))} continues {x_url(sid(5, 0))}")
    a = await app.unroller.unroll(x_url(sid(3, 0)))
    assert a.continuation is not None and a.continuation.posts[0].text == "C1"
    await app.unroller.unroll(x_url(sid(3, 0)), refresh=True)  # detected again: still C
    a = await app.unroller.unroll(x_url(sid(3, 0)))
    assert a.continuation is not None and a.continuation.posts[0].text == "C1"


async def test_the_index_survives_a_restart(engine: Engine, fake: FxTwitterFake) -> None:
    db = engine.storage()
    async with open_app(db, fake) as app:
        await app.unroller.unroll(SEED_URL)
    async with open_app(db, fake) as app:
        target = await app.unroller.unroll(x_url(BELONGS_TARGET), refresh=True)
    moved = [p for p in target.posts if p.status == "moved_in"]
    assert [p.id for p in moved] == [f"x:{MOVED_POST}"]
    assert moved[0].text.startswith("Incidentally before I even spoke to my therapist")
    # In place: right after the post the author linked, before the one after it.
    ids = [p.id for p in target.posts]
    assert ids.index(f"x:{MOVED_POST}") == ids.index(f"x:{BELONGS_TARGET}") + 1


async def test_a_moved_post_deleted_later_is_not_brought_back(
    app: App, fake: FxTwitterFake
) -> None:
    await app.unroller.unroll(SEED_URL)
    fake.remove(MOVED_POST)
    seed = await app.unroller.unroll(SEED_URL, refresh=True)  # the cache learns it is gone
    assert next(p for p in seed.posts if p.id == f"x:{MOVED_POST}").status == "unavailable"
    target = await app.unroller.unroll(x_url(BELONGS_TARGET))
    assert [p.status for p in target.posts] == ["ok", "ok", "ok"]
    assert "Incidentally" not in rendered(target)


async def test_a_moved_post_shows_its_latest_words(app: App, fake: FxTwitterFake) -> None:
    await app.unroller.unroll(x_url(sid(2, 0)))
    fake.statuses[sid(2, 2)]["text"] = "Worms turn the soil over for you (edited)"
    await app.unroller.unroll(x_url(sid(2, 0)), refresh=True)
    soil = await app.unroller.unroll(x_url(sid(1, 0)))
    assert soil.posts[-1].text == "Worms turn the soil over for you (edited)"


async def test_the_seed_keeps_its_moved_post_marked_in_place(app: App) -> None:
    seed = await app.unroller.unroll(SEED_URL)
    post = next(p for p in seed.posts if p.id == f"x:{MOVED_POST}")
    assert post.status == "ok"  # "I've left it here since it generated discussion"
    assert dict(seed.marks)[post.id] == f"belongs to {TARGET_URL}; left here by the author"
    assert "· 13 posts" in rendered(seed)


async def test_changes_apply_at_once_to_a_cached_thread(app: App, fake: FxTwitterFake) -> None:
    soil_before = await app.unroller.unroll(x_url(sid(1, 0)))
    assert len(soil_before.posts) == 2
    await app.unroller.unroll(x_url(sid(2, 0)))
    fetches = fake.count()
    soil_after = await app.unroller.unroll(x_url(sid(1, 0)))
    assert fake.count() == fetches  # from the cache, with the new link applied
    assert len(soil_after.posts) == 3


# -- continuations ----------------------------------------------------------------------


async def test_a_chain_of_continuations_is_followed_after_separators(app: App) -> None:
    a = await app.unroller.unroll(x_url(sid(3, 0)))
    assert a.continuation is not None and a.continuation.continuation is not None
    assert [p.text for p in a.continuation.continuation.posts] == ["C1", "C2", "C3"]
    text = rendered(a)
    assert text.count("Continued in the next thread:") == 2
    assert text.index("A1") < text.index("B1") < text.index("C3")


async def test_a_loop_of_continuations_ends(app: App) -> None:
    thread = await asyncio.wait_for(app.unroller.unroll(x_url(sid(6, 0))), timeout=5)
    assert thread.continuation is not None
    assert [p.text[:2] for p in thread.continuation.posts] == ["M1", "M2"]
    assert thread.continuation.continuation is None
    assert f"Continues in {x_url(sid(6, 0))}, shown above." in thread.continuation.notices


async def test_continuations_stop_at_max_posts(tmp_path: Path, fake: FxTwitterFake) -> None:
    async with open_app(tmp_path / "cap.sqlite3", fake, max_posts=5) as app:
        a = await app.unroller.unroll(x_url(sid(3, 0)))
    b = a.continuation
    assert b is not None and b.continuation is not None
    c = b.continuation
    assert [p.text for p in c.posts] == ["C1"] and c.truncated


async def test_an_unreachable_continuation_is_one_line(app: App, fake: FxTwitterFake) -> None:
    fake.remove(GONE)
    d = await app.unroller.unroll(x_url(sid(8, 0)))
    assert [p.text for p in d.posts] == ["D1", f"Continued here: {x_url(GONE)}"]
    assert d.continuation is None
    (notice,) = d.notices
    assert notice.startswith(f"Continued in {x_url(GONE)}; it could not be unrolled")
    assert notice in rendered(d)


async def test_a_context_link_to_a_deleted_post_still_shows(app: App, fake: FxTwitterFake) -> None:
    fake.remove(sid(9, 50))
    e = await app.unroller.unroll(x_url(sid(9, 0)))
    assert f"Context: {x_url(sid(9, 50))}" in rendered(e)


async def test_a_move_to_a_deleted_post_still_leaves_one_line(
    app: App, fake: FxTwitterFake
) -> None:
    fake.remove(sid(1, 1))
    garden = await app.unroller.unroll(x_url(sid(2, 0)))
    assert f"↪ moved to {x_url(sid(1, 1))}" in rendered(garden)


# -- JSON -------------------------------------------------------------------------------


async def test_json_output_shape(app: App) -> None:
    await app.unroller.unroll(x_url(sid(2, 0)))
    garden = public_thread(await app.unroller.unroll(x_url(sid(2, 0))))
    soil = public_thread(await app.unroller.unroll(x_url(sid(1, 0))))
    expected_link = {
        "kind": "belongs_to",
        "post": f"x:{sid(2, 2)}",
        "target": x_url(sid(1, 1)),
        "origin": "auto",
        "evidence": (
            f"“belongs in another thread” in {x_url(sid(2, 3))}; “tweet above” in "
            f"{x_url(sid(2, 3))}; “this is where it belongs” in {x_url(sid(2, 4))}"
        ),
    }
    assert garden["links"] == [expected_link]
    assert soil["links"] == [expected_link]
    assert [p["status"] for p in garden["posts"]] == ["ok", "ok", "moved_out", "ok", "ok"]
    assert [p["status"] for p in soil["posts"]] == ["ok", "ok", "moved_in"]
    a = public_thread(await app.unroller.unroll(x_url(sid(3, 0))))
    assert a["links"][0]["kind"] == "continues"
    assert [p["text"] for p in a["continuation"]["posts"]] == [
        "B1",
        f"B2, continued here: {x_url(sid(5, 0))}",
    ]


async def test_quoting_the_last_post_of_an_own_thread_continues_it(app: App) -> None:
    q = await app.unroller.unroll(x_url(sid(10, 0)))
    assert [(link.kind, link.post) for link in q.links] == [("continues", f"x:{sid(1, 1)}")]
    soil = await app.unroller.unroll(x_url(sid(1, 0)))
    assert soil.continuation is not None
    assert [p.text for p in soil.continuation.posts] == ["More on soil", "Q2"]


async def test_quoting_a_post_in_the_middle_of_a_thread_continues_nothing(app: App) -> None:
    r = await app.unroller.unroll(x_url(sid(11, 0)))
    assert r.links == ()
    garden = await app.unroller.unroll(x_url(sid(2, 0)))
    assert garden.continuation is None


def test_a_moved_aside_leaves_as_one_line_too() -> None:
    me = Author("x:1", "me", "Me", "https://x.com/me")

    def p(n: int, parent: int | None) -> Post:
        return Post(
            f"x:{n}",
            x_url(str(n), "me"),
            me,
            f"2026-01-01T00:0{n}:00Z",
            f"post {n}",
            parent_id=f"x:{parent}" if parent else None,
        )

    thread = Thread(
        "x", x_url("1", "me"), "x:1", me, (p(1, None), p(2, 1)), asides=(Aside("x:1", (p(3, 1),)),)
    )
    link = StoredLink(
        1,
        "belongs_to",
        "x:3",
        x_url("3", "me"),
        "x:9",
        x_url("9", "me"),
        "auto",
        True,
        False,
        None,
        None,
        (),
        "detection",
        0.0,
        "detection",
        0.0,
    )
    out = apply_links(thread, [link], {"x:1": "x:1", "x:2": "x:2", "x:3": "x:3"})
    assert [q.status for q in out.asides[0].posts] == ["moved_out"]
    assert dict(out.marks)["x:3"] == f"moved to {x_url('9', 'me')}"
    assert shown_count(out) == 2
    assert "· 2 posts" in rendered(out)


async def test_simultaneous_unrolls_record_each_link_once(app: App) -> None:
    threads = await asyncio.gather(*(app.unroller.unroll(SEED_URL) for _ in range(8)))
    assert {len(t.links) for t in threads} == {2}
    rows = await app.db.fetchall("SELECT kind, COUNT(*) FROM thread_links GROUP BY kind")
    assert sorted((r[0], r[1]) for r in rows) == [("belongs_to", 1), ("context", 1)]
    changes = await app.db.fetchall("SELECT action FROM link_changes")
    assert [r[0] for r in changes] == ["detect", "detect"]


async def test_a_loop_of_three_ends_too(app: App, fake: FxTwitterFake) -> None:
    # C (the end of the A -> B -> C chain) now continues in A.
    fake.statuses[sid(5, 2)]["text"] = f"C3, continued here: {x_url(sid(3, 0))}"
    fake.statuses[sid(5, 2)]["raw_text"]["text"] = fake.statuses[sid(5, 2)]["text"]
    for start in (sid(3, 0), sid(4, 0), sid(5, 0)):
        last = await asyncio.wait_for(app.unroller.unroll(x_url(start), refresh=True), 5)
        seen = [last.posts[0].text[0]]
        while last.continuation is not None:
            last = last.continuation
            seen.append(last.posts[0].text[0])
        assert sorted(seen) == ["A", "B", "C"]
        assert any(n.endswith("shown above.") for n in last.notices)


async def test_a_known_quote_continuation_costs_no_fetch_later(
    app: App, fake: FxTwitterFake
) -> None:
    now = [1_000_000.0]
    app.unroller.clock = lambda: now[0]
    await app.unroller.unroll(x_url(sid(10, 0)))
    now[0] += 100_000  # every cached thread is stale now
    before = fake.count()
    q = await app.unroller.unroll(x_url(sid(10, 0)), refresh=True)
    assert fake.count() == before + 1  # the thread itself; the quoted one is not checked again
    assert [link.kind for link in q.links] == ["continues"]
