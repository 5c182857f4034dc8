"""Fetching whole Mastodon threads from a local server that applies the real anonymous
caps (context: 40 ancestors, 60 descendants, depth 20; statuses: 40 per page): long threads
in few round trips, links into the middle, branches, others' replies, hidden and deleted
posts, posts cached from another server, and servers whose ids are not snowflakes."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.assemble import assemble
from bot.http import HttpClient
from bot.models import FetchedPosts
from bot.sources.mastodon import MastodonSource
from tests.fakes.mastodon_server import FakeMastodon, FakeStatus

STATUSES = "/api/v1/accounts/"


@pytest.fixture
async def fake() -> AsyncIterator[FakeMastodon]:
    async with FakeMastodon(latency_s=0.02) as server:
        yield server


@pytest.fixture
def source(http: HttpClient) -> MastodonSource:
    return MastodonSource(http)


async def unroll(source: MastodonSource, url: str, max_posts: int = 500) -> FetchedPosts:
    ref = source.parse(url)
    assert ref is not None
    return await source.fetch(ref, max_posts)


def uris(fake: FakeMastodon, statuses: list[FakeStatus]) -> set[str]:
    return {fake.status_uri(s) for s in statuses}


async def test_short_thread_is_context_only(fake: FakeMastodon, source: MastodonSource) -> None:
    rin, kofi = fake.account("rin"), fake.account("kofi")
    posts = fake.thread(rin, 6, others=kofi, others_every=2)
    got = await unroll(source, fake.link(posts[0]))
    assert got.source == "mastodon"
    assert got.anchor_id == fake.status_uri(posts[0])
    # Only the author's posts: the three replies by someone else are left out.
    assert set(got.posts) == uris(fake, posts)
    thread = assemble(got, 500)
    assert [p.text for p in thread.posts] == [f"Post {i}/6" for i in range(1, 7)]
    assert [p.parent_id for p in thread.posts[1:]] == [p.id for p in thread.posts[:-1]]
    # Status and context at once; the last post's reply count says nothing is missing.
    assert fake.sequential_round_trips() == 1
    assert fake.count(STATUSES) == 0


@pytest.mark.parametrize(("n", "max_rounds"), [(30, 2), (150, 4), (300, 4)])
async def test_long_threads_complete_in_few_round_trips(
    fake: FakeMastodon, source: MastodonSource, n: int, max_rounds: int
) -> None:
    rin, kofi = fake.account("rin"), fake.account("kofi")
    posts = fake.thread(rin, n, others=kofi, others_every=7)
    got = await unroll(source, fake.link(posts[0]))
    assert set(got.posts) == uris(fake, posts)
    assert not got.capped and not got.notices
    thread = assemble(got, 500)
    assert len(thread.posts) == n
    assert thread.posts[-1].text == f"Post {n}/{n}"
    assert fake.sequential_round_trips() <= max_rounds
    assert len(fake.requests) <= 2 + 4 * (max_rounds - 1)


async def test_link_into_the_middle_unrolls_from_the_first_post(
    fake: FakeMastodon, source: MastodonSource
) -> None:
    rin, kofi = fake.account("rin"), fake.account("kofi")
    posts = fake.thread(rin, 150, others=kofi, others_every=3)
    got = await unroll(source, fake.link(posts[99]))
    assert got.anchor_id == fake.status_uri(posts[99])
    assert set(got.posts) == uris(fake, posts)
    thread = assemble(got, 500)
    assert thread.url == fake.status_url(posts[0])
    assert len(thread.posts) == 150
    assert fake.sequential_round_trips() <= 4


async def test_link_to_the_last_post_of_a_long_thread(
    fake: FakeMastodon, source: MastodonSource
) -> None:
    rin = fake.account("rin")
    posts = fake.thread(rin, 300)
    got = await unroll(source, fake.link(posts[-1]))
    assert set(got.posts) == uris(fake, posts)
    assert len(assemble(got, 500).posts) == 300
    assert fake.sequential_round_trips() <= 5


async def test_first_post_replying_to_someone_else(
    fake: FakeMastodon, source: MastodonSource
) -> None:
    rin, kofi = fake.account("rin"), fake.account("kofi")
    question = fake.post(kofi, "What did the counters show?")
    posts = fake.thread(rin, 90, reply_to=question)
    got = await unroll(source, fake.link(posts[80]))
    # The other person's post comes along as the ancestor; the thread starts below it.
    assert set(got.posts) == uris(fake, posts) | {fake.status_uri(question)}
    thread = assemble(got, 500)
    assert thread.posts[0].text == "Post 1/90"
    assert len(thread.posts) == 90


async def test_branches_become_asides_and_late_branches_are_found(
    fake: FakeMastodon, source: MastodonSource
) -> None:
    rin, kofi = fake.account("rin"), fake.account("kofi")
    posts = fake.thread(rin, 60)
    # Posted after the whole thread, below post 45 (deeper than one context reaches).
    side = fake.post(rin, "Side note on 45", reply_to=posts[44])
    side2 = fake.post(rin, "More on that", reply_to=side)
    # Someone else's reply and the author's answer to it are not the thread.
    other = fake.post(kofi, "Question on 10", reply_to=posts[9])
    answer = fake.post(rin, "Answer to kofi", reply_to=other)
    got = await unroll(source, fake.link(posts[0]))
    assert uris(fake, [*posts, side, side2]) <= set(got.posts)
    assert fake.status_uri(other) not in got.posts
    assert fake.status_uri(answer) not in got.posts
    thread = assemble(got, 500)
    assert len(thread.posts) == 60
    assert [(a.after, [p.text for p in a.posts]) for a in thread.asides] == [
        (fake.status_uri(posts[44]), ["Side note on 45", "More on that"])
    ]


async def test_unrelated_posts_of_the_author_in_between(
    fake: FakeMastodon, source: MastodonSource
) -> None:
    rin = fake.account("rin")
    posts: list[FakeStatus] = []
    parent = None
    for i in range(120):
        parent = fake.post(rin, f"T{i + 1}", reply_to=parent, after_s=30 if i % 10 else 600)
        posts.append(parent)
        if i % 4 == 0:
            fake.post(rin, f"unrelated {i}", after_s=5)  # a new top-level post
    got = await unroll(source, fake.link(posts[0]))
    assert uris(fake, posts) <= set(got.posts)
    assert not any(p.text.startswith("unrelated") for p in got.posts.values())
    assert fake.sequential_round_trips() <= 4


async def test_non_public_post_in_the_chain_keeps_its_place(
    fake: FakeMastodon, source: MastodonSource
) -> None:
    rin = fake.account("rin")
    posts = fake.thread(rin, 12)
    posts[4].visibility = "private"
    got = await unroll(source, fake.link(posts[0]))
    assert fake.status_uri(posts[4]) not in got.posts or (
        got.posts[fake.status_uri(posts[4])].status == "unavailable"
    )
    assert uris(fake, posts[:4] + posts[5:]) <= set(got.posts)
    thread = assemble(got, 500)
    assert len(thread.posts) == 12
    assert thread.posts[4].status == "unavailable"
    assert [p.text for p in thread.posts[5:]] == [f"Post {i}/12" for i in range(6, 13)]


async def test_deleted_post_in_a_long_chain(fake: FakeMastodon, source: MastodonSource) -> None:
    rin = fake.account("rin")
    posts = fake.thread(rin, 80)
    fake.delete(posts[50])
    got = await unroll(source, fake.link(posts[0]))
    assert uris(fake, posts[:50] + posts[51:]) <= set(got.posts)
    thread = assemble(got, 500)
    assert len(thread.posts) == 80
    assert thread.posts[50].status == "unavailable"


async def test_link_below_a_hidden_post_still_starts_at_the_top(
    fake: FakeMastodon, source: MastodonSource
) -> None:
    rin = fake.account("rin")
    posts = fake.thread(rin, 10)
    posts[3].visibility = "private"
    got = await unroll(source, fake.link(posts[8]))
    thread = assemble(got, 500)
    assert thread.posts[0].text == "Post 1/10"
    assert len(thread.posts) == 10
    assert thread.posts[3].status == "unavailable"


async def test_max_posts_caps_the_fetch(fake: FakeMastodon, source: MastodonSource) -> None:
    rin = fake.account("rin")
    posts = fake.thread(rin, 300)
    got = await unroll(source, fake.link(posts[0]), max_posts=100)
    assert got.capped
    thread = assemble(got, 100)
    assert len(thread.posts) == 100
    assert thread.truncated
    assert len(fake.requests) < 10


@pytest.mark.parametrize("anchor", [0, 40, 149])
async def test_ids_without_a_clock_are_paged(http: HttpClient, anchor: int) -> None:
    async with FakeMastodon(latency_s=0.01, id_style="flake") as fake:
        rin, kofi = fake.account("rin"), fake.account("kofi")
        posts = fake.thread(rin, 150, others=kofi, others_every=5)
        assert not posts[0].id.isdigit()
        got = await unroll(MastodonSource(http), fake.link(posts[anchor]))
        assert set(got.posts) == uris(fake, posts)
        assert len(assemble(got, 500).posts) == 150
        # Pages cannot be cut ahead of time without a clock, but context calls run
        # alongside them.
        assert fake.sequential_round_trips() <= 6


async def test_post_cached_from_another_server_is_read_at_its_origin(http: HttpClient) -> None:
    async with FakeMastodon(latency_s=0.01) as origin, FakeMastodon(latency_s=0.01) as cache:
        rin, kofi = origin.account("rin"), origin.account("kofi")
        posts = origin.thread(rin, 50, others=kofi, others_every=4)
        copies = cache.mirror(origin, posts[:10])  # the cache knows only the start
        link = cache.link(copies[0])
        assert "/@rin@127.0.0.1:" in link
        got = await unroll(MastodonSource(http), link)
        assert set(got.posts) == uris(origin, posts)
        assert got.anchor_id == origin.status_uri(posts[0])
        thread = assemble(got, 500)
        assert len(thread.posts) == 50
        assert thread.author.handle == f"rin@{origin.host}"
        assert not got.notices


async def test_unreachable_origin_falls_back_to_the_cached_copy(http: HttpClient) -> None:
    async with (
        FakeMastodon(latency_s=0.01, require_auth=True) as origin,
        FakeMastodon(latency_s=0.01) as cache,
    ):
        rin = origin.account("rin")
        posts = origin.thread(rin, 30)
        copies = cache.mirror(origin, posts[:12])
        got = await unroll(MastodonSource(http), cache.link(copies[0]))
        assert set(got.posts) == uris(origin, posts[:12])
        assert any("home server" in n for n in got.notices)
        assert len(assemble(got, 500).posts) == 12


async def test_erased_post_leaves_a_gap_not_a_cut(
    fake: FakeMastodon, source: MastodonSource
) -> None:
    rin = fake.account("rin")
    posts = fake.thread(rin, 80)
    fake.delete(posts[50], erase=True)  # its replies lose their parent id
    got = await unroll(source, fake.link(posts[0]))
    assert uris(fake, posts[:50] + posts[51:]) <= set(got.posts)
    thread = assemble(got, 500)
    assert len(thread.posts) == 80
    assert thread.posts[50].status == "unavailable"
    assert thread.posts[51].text == "Post 52/80"


async def test_popular_thread_whose_replies_crowd_the_context(
    fake: FakeMastodon, source: MastodonSource
) -> None:
    rin = fake.account("rin")
    fans = [fake.account(f"fan{i}") for i in range(5)]
    posts: list[FakeStatus] = []
    parent = None
    for i in range(30):
        parent = fake.post(rin, f"Post {i + 1}/30", reply_to=parent)
        posts.append(parent)
        for fan in fans:  # replies land before the next post: they come first in the tree
            fake.post(fan, "so true", reply_to=parent, after_s=5)
    got = await unroll(source, fake.link(posts[0]))
    assert set(got.posts) == uris(fake, posts)
    assert len(assemble(got, 500).posts) == 30
    assert fake.sequential_round_trips() <= 3
