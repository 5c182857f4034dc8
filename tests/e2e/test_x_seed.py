"""The seed thread, served by a local FxTwitter API, unrolls whole: every post in order with
its exact words, and none of the lines the unroller page printed around it."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.adapters.memory import MemoryAdapter
from bot.app import App
from bot.assemble import assemble
from bot.config import (
    BlueskyConfig,
    Config,
    MastodonConfig,
    NetworkConfig,
    SourcesConfig,
    StorageConfig,
    XConfig,
)
from bot.extensions import open_database
from bot.http import HttpClient, HttpSettings
from bot.render import plain
from bot.render.thread_view import thread_messages
from bot.sources import SourceRegistry
from bot.sources.x import NOTICE_SINGLE_POST, XSource
from bot.unroller import Unroller
from storage.threads_repo import ThreadRepo
from tests.fakes.fxtwitter_server import FxTwitterFake, make_user, self_thread
from tests.fixtures import seed_thread as seed

SEED_FILE = Path("/work/shared/seed/seed-thread.txt")
USER = make_user(seed.AUTHOR_HANDLE, seed.AUTHOR_X_ID, seed.AUTHOR_NAME)
STATUSES = self_thread(USER, list(seed.POSTS))
TEXTS = [p["text"] for p in seed.POSTS]
IDS = [f"x:{p['id']}" for p in seed.POSTS]
FIRST, MIDDLE, LAST = (f"https://x.com/crys_tom/status/{seed.POSTS[i]['id']}" for i in (0, 6, 12))


@pytest.fixture
async def http() -> AsyncIterator[HttpClient]:
    client = HttpClient(HttpSettings(allow_private_addresses=True, retries=2, backoff_base_s=0.01))
    yield client
    await client.close()


@pytest.fixture
async def fake() -> AsyncIterator[FxTwitterFake]:
    async with FxTwitterFake() as server:
        server.add(*STATUSES)
        yield server


def _has_boilerplate(text: str) -> list[str]:
    return [m for m in seed.BOILERPLATE_MARKERS if m.lower() in text.lower()]


# -- the fixture itself -----------------------------------------------------------------


@pytest.mark.skipif(not SEED_FILE.exists(), reason="the shared seed file is not on this machine")
def test_fixture_holds_the_seed_words_exactly() -> None:
    lines = [line for line in SEED_FILE.read_text(encoding="utf-8").split("\n") if line.strip()]
    assert lines == TEXTS + list(seed.UNROLLER_BOILERPLATE)


def test_fixture_is_thirteen_posts_without_boilerplate() -> None:
    assert len(seed.POSTS) == 13
    assert TEXTS[0].startswith("1/ ") and TEXTS[4].startswith("5/ ")
    for text in TEXTS:
        assert _has_boilerplate(text) == []
    # Every boilerplate line is caught by a marker (so the absence checks mean something).
    for line in seed.UNROLLER_BOILERPLATE:
        assert _has_boilerplate(line)


def test_fixture_ids_are_snowflakes_in_order_matching_their_times() -> None:
    ids = [int(p["id"]) for p in seed.POSTS]
    assert ids == sorted(ids) and len(set(ids)) == 13
    for post in seed.POSTS:
        ms = (int(post["id"]) >> 22) + 1288834974657
        when = datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
        assert when == post["created_at"]
    # The thread was written after the two earlier threads it links to.
    assert ids[0] > 1338275558916911104


def test_fixture_links_are_the_urls_in_the_text() -> None:
    with_links = {i: p["links"] for i, p in enumerate(seed.POSTS) if p["links"]}
    assert with_links == {
        5: ("https://twitter.com/crys_tom/status/1338232404897656834",),
        7: (
            "https://traumaandlawyersmentalhealth.blogspot.com/2020/12/"
            "the-harms-of-only-always-never-single.html",
        ),
        10: ("https://twitter.com/crys_tom/status/1338275558916911104",),
    }


# -- served by the fake FxTwitter API ---------------------------------------------------


def test_the_served_data_has_no_boilerplate() -> None:
    assert _has_boilerplate(json.dumps(STATUSES, ensure_ascii=False)) == []


@pytest.mark.parametrize("url", [FIRST, MIDDLE, LAST])
async def test_seed_fetches_whole_in_order_from_any_post(
    http: HttpClient, fake: FxTwitterFake, url: str
) -> None:
    source = XSource(http, fake.base_url)
    ref = source.parse(url)
    assert ref is not None
    got = await source.fetch(ref, max_posts=500)
    assert list(got.posts) == IDS
    assert [p.text for p in got.posts.values()] == TEXTS
    assert [p.links for p in got.posts.values()] == [p["links"] for p in seed.POSTS]
    assert {p.author.handle for p in got.posts.values()} == {"crys_tom"}
    assert [p.created_at for p in got.posts.values()] == [p["created_at"] for p in seed.POSTS]
    assert fake.count() == 1


async def test_seed_walks_up_whole_on_a_single_post_instance(http: HttpClient) -> None:
    async with FxTwitterFake(mode="single") as fake:
        fake.add(*STATUSES)
        source = XSource(http, fake.base_url)
        ref = source.parse(LAST)
        assert ref is not None
        got = await source.fetch(ref, max_posts=500)
        # Each parent is known only from the previous answer: one round trip per post.
        assert fake.sequential_round_trips() == 13
    assert [p.text for p in got.posts.values()] == TEXTS
    # The last post has no replies, so nothing later can be missing.
    assert got.notices == []


async def test_seed_from_the_middle_on_a_single_post_instance_warns(http: HttpClient) -> None:
    async with FxTwitterFake(mode="single") as fake:
        fake.add(*STATUSES)
        source = XSource(http, fake.base_url)
        ref = source.parse(MIDDLE)
        assert ref is not None
        got = await source.fetch(ref, max_posts=500)
    assert [p.text for p in got.posts.values()] == TEXTS[:7]
    assert got.notices == [NOTICE_SINGLE_POST]


async def test_links_to_the_authors_earlier_threads_are_x_post_links(
    http: HttpClient,
) -> None:
    source = XSource(http)
    refs = [source.parse(link) for post in seed.POSTS for link in post["links"]]
    assert [r.key if r else None for r in refs] == [
        ("1338232404897656834",),
        None,
        ("1338275558916911104",),
    ]


# -- end to end: source -> assembly -> unroller -> rendered text ------------------------


async def test_seed_assembles_into_one_thread(http: HttpClient, fake: FxTwitterFake) -> None:
    source = XSource(http, fake.base_url)
    ref = source.parse(MIDDLE)
    assert ref is not None
    thread = assemble(await source.fetch(ref, 500), 500)
    assert [p.text for p in thread.posts] == TEXTS
    assert thread.asides == () and not thread.truncated and thread.notices == ()
    assert thread.url == FIRST and thread.root_id == IDS[0]


async def test_seed_unrolls_whole_through_the_unroller(
    http: HttpClient, fake: FxTwitterFake, tmp_path: Path
) -> None:
    db = await open_database(str(tmp_path / "seed.sqlite3"))
    try:
        unroller = Unroller(SourceRegistry([XSource(http, fake.base_url)]), ThreadRepo(db))
        thread = await unroller.unroll(
            f"https://twitter.com/crys_tom/status/{seed.POSTS[9]['id']}?s=20"
        )
        again = await unroller.unroll(MIDDLE)  # same thread, from the cache
    finally:
        await db.close()
    assert [p.text for p in thread.posts] == TEXTS
    assert [p.text for p in again.posts] == TEXTS
    assert fake.count() == 1
    assert thread.author.handle == "crys_tom"

    rendered = "\n\n".join(plain.message_text(m, reveal=True) for m in thread_messages(thread))
    assert _has_boilerplate(rendered) == []
    assert "13 posts" in rendered
    # Every post's words, in order.
    at = 0
    for text in TEXTS:
        found = rendered.find(text, at)
        assert found >= 0, text
        at = found + len(text)


async def test_seed_unrolls_in_chat_with_the_source_wired_from_config(
    fake: FxTwitterFake, tmp_path: Path
) -> None:
    config = Config(
        storage=StorageConfig(str(tmp_path / "bot.sqlite3")),
        network=NetworkConfig(allow_private_addresses=True, retries=1),
        # Only the X source: this test is about it and its [sources.x] api_url key.
        sources=SourcesConfig(
            bluesky=BlueskyConfig(enabled=False),
            mastodon=MastodonConfig(enabled=False),
            x=XConfig(api_url=fake.base_url),
        ),
    )
    app = await App.create(config, extensions=[])
    try:
        chat = MemoryAdapter(app.dispatcher)
        await chat.command(f"unroll https://fxtwitter.com/crys_tom/status/{seed.POSTS[3]['id']}/en")
    finally:
        await app.close()
    texts = [s.text for s in chat.sent]
    assert "13 posts" in texts[0] and "@crys_tom" in texts[0]
    everything = "\n".join(texts)
    assert _has_boilerplate(everything) == []
    at = 0
    for text in TEXTS:
        found = everything.find(text, at)
        assert found >= 0, text
        at = found + len(text)
    assert [r.path for r in fake.requests] == [f"/2/thread/{seed.POSTS[3]['id']}"]
