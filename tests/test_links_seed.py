"""The case the project was founded on: the seed thread's context link and its moved post,
found in the author's words and applied to every later unroll."""

from __future__ import annotations

from pathlib import Path

from bot.codec import public_thread
from tests.fixtures import seed_thread as seed
from tests.test_links_fixtures import (
    BELONGS_TARGET,
    CONTEXT_URL,
    MOVED_POST,
    SEED_URL,
    TARGET_URL,
    open_app,
    rendered,
    seeded_fake,
    x_url,
)


async def test_seed_yields_context_and_moved_post(tmp_path: Path) -> None:
    async with seeded_fake() as fake, open_app(tmp_path / "db.sqlite3", fake) as app:
        thread = await app.unroller.unroll(SEED_URL)
    text = rendered(thread)
    print(text)
    data = public_thread(thread)
    print(data["links"])
    assert f"Context: {CONTEXT_URL}" in text
    kinds = {(link["kind"], link["target"]) for link in data["links"]}
    assert ("context", CONTEXT_URL) in kinds
    assert ("belongs_to", TARGET_URL) in kinds
    assert all(m.lower() not in text.lower() for m in seed.BOILERPLATE_MARKERS)


async def test_target_thread_shows_the_moved_in_post(tmp_path: Path) -> None:
    async with seeded_fake() as fake:
        async with open_app(tmp_path / "db.sqlite3", fake) as app:
            await app.unroller.unroll(SEED_URL)
            target = await app.unroller.unroll(TARGET_URL)
        print(rendered(target))
        async with open_app(tmp_path / "db.sqlite3", fake) as app:
            again = await app.unroller.unroll(x_url(BELONGS_TARGET))
    ids = [p.id for p in again.posts]
    assert f"x:{MOVED_POST}" in ids
