"""Fetching whole Bluesky threads from a local AppView that applies the real caps: long
threads in few round trips, links into the middle, branches, others' replies, deleted
posts, the author's opt-out, and what happens when the AppView misbehaves."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest

from bot.assemble import assemble
from bot.errors import NotFound, Refused, UpstreamUnavailable, UserError
from bot.http import HttpClient, HttpSettings
from bot.models import FetchedPosts
from bot.sources.bluesky import BlueskySource
from tests.fakes.base import Fault
from tests.fakes.bluesky_server import FakeBluesky
from tests.fakes.thread_builder import SynthImage, ThreadBuilder

THREAD = "/xrpc/app.bsky.feed.getPostThread"
FEED = "/xrpc/app.bsky.feed.getAuthorFeed"


@pytest.fixture
async def fake() -> AsyncIterator[FakeBluesky]:
    async with FakeBluesky(latency_s=0.02) as server:
        yield server


@pytest.fixture
def source(fake: FakeBluesky, http: HttpClient) -> BlueskySource:
    return BlueskySource(http, fake.base_url)


async def unroll(source: BlueskySource, url: str, max_posts: int = 500) -> FetchedPosts:
    ref = source.parse(url)
    assert ref is not None
    return await source.fetch(ref, max_posts)


def chain_of(fake: FakeBluesky, n: int) -> tuple[ThreadBuilder, list[str]]:
    b = ThreadBuilder()
    b.author("mira", handle="mira.example.com", name="Mira")
    return b, b.chain("mira", n)


async def test_short_thread_in_one_round_trip(fake: FakeBluesky, source: BlueskySource) -> None:
    b, keys = chain_of(fake, 6)
    fake.add_thread(b.build())
    got = await unroll(source, fake.url(keys[0]))
    assert got.source == "bluesky"
    assert got.anchor_id == fake.uri(keys[0])
    assert set(got.posts) == {fake.uri(k) for k in keys}
    assert not got.capped and not got.notices
    thread = assemble(got, 500)
    assert [p.text for p in thread.posts] == [f"Part {i}/6" for i in range(1, 7)]
    assert fake.sequential_round_trips() == 1
    # The handle in the link goes straight to the AppView: no resolveHandle first.
    assert fake.count("/xrpc/com.atproto.identity.resolveHandle") == 0


@pytest.mark.parametrize(("n", "max_rounds"), [(30, 1), (150, 3), (300, 3)])
async def test_long_threads_come_back_whole_in_few_round_trips(
    http: HttpClient, n: int, max_rounds: int
) -> None:
    async with FakeBluesky(latency_s=0.05) as fake:
        b, keys = chain_of(fake, n)
        fake.add_thread(b.build())
        got = await unroll(BlueskySource(http, fake.base_url), fake.url(keys[0]))
        assert {fake.uri(k) for k in keys} <= set(got.posts)
        assert not got.capped
        assert len(assemble(got, 500).posts) == n
        assert fake.sequential_round_trips() <= max_rounds
        assert len(fake.requests) <= 5


async def test_link_into_the_middle_unrolls_from_the_first_post(
    fake: FakeBluesky, source: BlueskySource
) -> None:
    b, keys = chain_of(fake, 300)
    fake.add_thread(b.build())
    got = await unroll(source, fake.url(keys[150], by_handle=False))
    assert got.anchor_id == fake.uri(keys[150])
    assert {fake.uri(k) for k in keys} <= set(got.posts)
    thread = assemble(got, 500)
    assert thread.posts[0].id == fake.uri(keys[0])
    assert len(thread.posts) == 300
    assert fake.sequential_round_trips() <= 2


async def test_branches_others_replies_and_replies_to_others(
    fake: FakeBluesky, source: BlueskySource
) -> None:
    b, keys = chain_of(fake, 40)
    b.author("bob")
    aside = b.chain("mira", 3, after=keys[5], text="aside")
    others = [b.reply("bob", keys[3], "nice"), b.reply("bob", keys[12], "why?")]
    answer = b.reply("mira", others[1], "because")  # the author answering someone else
    tail = b.chain("mira", 20, after=keys[-1], text="more")
    fake.add_thread(b.build())
    for link in (keys[0], aside[1], tail[-1], keys[25]):
        got = await unroll(source, fake.url(link))
        ids = set(got.posts)
        assert {fake.uri(k) for k in keys + aside + tail} <= ids
        assert fake.uri(answer) not in ids
        assert not ids & {fake.uri(k) for k in others}
        thread = assemble(got, 500)
        assert len(thread.posts) == 60
        assert [len(a.posts) for a in thread.asides] == [3]
        assert thread.asides[0].after == fake.uri(keys[5])


async def test_deleted_post_in_the_middle_keeps_its_place(
    fake: FakeBluesky, source: BlueskySource
) -> None:
    b, keys = chain_of(fake, 30)
    b.delete(keys[14])
    fake.add_thread(b.build())
    for link in (keys[0], keys[20], keys[29]):
        got = await unroll(source, fake.url(link))
        hole = got.posts[fake.uri(keys[14])]
        assert hole.status == "unavailable" and hole.text == ""
        assert hole.parent_id == fake.uri(keys[13])
        assert hole.url == fake.url(keys[14])
        thread = assemble(got, 500)
        assert len(thread.posts) == 30
        assert thread.posts[0].id == fake.uri(keys[0])
        assert thread.posts[14].status == "unavailable"


async def test_popular_thread_linked_in_the_middle(
    fake: FakeBluesky, source: BlueskySource
) -> None:
    b, keys = chain_of(fake, 200)
    for k in keys:
        b.reply("bob", k, "great point")
    fake.add_thread(b.build())
    got = await unroll(source, fake.url(keys[120]))
    assert {fake.uri(k) for k in keys} == set(got.posts)  # nobody else's replies
    assert len(assemble(got, 500).posts) == 200
    assert fake.sequential_round_trips() <= 3


async def test_author_reposting_their_own_thread(fake: FakeBluesky, source: BlueskySource) -> None:
    b, keys = chain_of(fake, 120)
    fake.add_thread(b.build())
    fake.add_repost("mira", keys[0], b.start + timedelta(days=2))
    got = await unroll(source, fake.url(keys[60]))
    assert {fake.uri(k) for k in keys} == set(got.posts)
    assert len(assemble(got, 500).posts) == 120


async def test_thread_that_answers_someone_else(fake: FakeBluesky, source: BlueskySource) -> None:
    b = ThreadBuilder()
    b.author("mira")
    question = b.post("bob", "how did the gauges do?")
    keys = b.chain("mira", 25, after=question)
    fake.add_thread(b.build())
    got = await unroll(source, fake.url(keys[18]))
    assert fake.uri(question) in got.posts  # the context above the author's first post
    thread = assemble(got, 500)
    assert thread.posts[0].id == fake.uri(keys[0])
    assert len(thread.posts) == 25


async def test_old_thread_behind_many_newer_posts(fake: FakeBluesky, source: BlueskySource) -> None:
    b, keys = chain_of(fake, 150)
    for i in range(350):
        b.post("mira", f"later musing {i}")
    fake.add_thread(b.build())
    got = await unroll(source, fake.url(keys[0]))
    assert {fake.uri(k) for k in keys} <= set(got.posts)
    assert len(assemble(got, 500).posts) == 150
    assert fake.sequential_round_trips() <= 6


async def test_thread_longer_than_max_posts_is_cut_and_says_so(
    fake: FakeBluesky, source: BlueskySource
) -> None:
    b, keys = chain_of(fake, 700)
    fake.add_thread(b.build())
    got = await unroll(source, fake.url(keys[0]), max_posts=500)
    assert got.capped
    assert {fake.uri(k) for k in keys[:500]} <= set(got.posts)
    assert fake.uri(keys[600]) not in got.posts
    thread = assemble(got, 500)
    assert len(thread.posts) == 500 and thread.truncated


async def test_feed_failure_falls_back_to_walking_the_thread(
    fake: FakeBluesky, source: BlueskySource
) -> None:
    b, keys = chain_of(fake, 45)
    fake.add_thread(b.build())
    fake.inject(FEED, *[Fault(500, {"error": "InternalServerError", "message": "boom"})] * 3)
    got = await unroll(source, fake.url(keys[0]))
    assert {fake.uri(k) for k in keys} <= set(got.posts)
    assert len(assemble(got, 500).posts) == 45


async def test_malformed_feed_falls_back_too(fake: FakeBluesky, source: BlueskySource) -> None:
    b, keys = chain_of(fake, 25)
    fake.add_thread(b.build())
    fake.inject(FEED, Fault(200, {"feed": [{"post": "nonsense"}]}))
    got = await unroll(source, fake.url(keys[0]))
    assert {fake.uri(k) for k in keys} <= set(got.posts)


# ---- respecting authors -------------------------------------------------------------------


async def test_author_who_opted_out_is_refused(fake: FakeBluesky, source: BlueskySource) -> None:
    b, keys = chain_of(fake, 5)
    fake.add_thread(b.build())
    fake.set_author_labels("mira", ("!no-unauthenticated",))
    with pytest.raises(Refused) as err:
        await unroll(source, fake.url(keys[2]))
    assert "logged-out" in str(err.value)


async def test_post_labelled_for_logged_in_viewers_is_refused(
    fake: FakeBluesky, source: BlueskySource
) -> None:
    b, keys = chain_of(fake, 3)
    b.update(keys[0], labels=("!no-unauthenticated",))
    fake.add_thread(b.build())
    with pytest.raises(Refused):
        await unroll(source, fake.url(keys[0]))
    # Linked from further down, the thread's first post still carries the request.
    with pytest.raises(Refused):
        await unroll(source, fake.url(keys[2]))


async def test_withdrawn_opt_out_label_is_not_in_force(
    fake: FakeBluesky, source: BlueskySource
) -> None:
    b, keys = chain_of(fake, 3)
    fake.add_thread(b.build())
    fake.set_author_labels("mira", ("!no-unauthenticated", "neg:!no-unauthenticated"))
    got = await unroll(source, fake.url(keys[0]))
    assert len(got.posts) == 3


async def test_quoted_author_who_opted_out_stays_hidden(
    fake: FakeBluesky, source: BlueskySource
) -> None:
    b, keys = chain_of(fake, 3)
    b.author("quiet", labels=("!no-unauthenticated",))
    quoted = b.post("quiet", "my words")
    b.update(keys[1], quote=quoted)
    fake.add_thread(b.build())
    got = await unroll(source, fake.url(keys[0]))
    quote = got.posts[fake.uri(keys[1])].quote
    assert quote is not None and quote.text == "" and quote.hidden_reason


async def test_opted_out_context_post_is_not_shown(
    fake: FakeBluesky, source: BlueskySource
) -> None:
    b = ThreadBuilder()
    b.author("quiet", labels=("!no-unauthenticated",))
    question = b.post("quiet", "a question")
    keys = b.chain("mira", 3, after=question)
    fake.add_thread(b.build())
    got = await unroll(source, fake.url(keys[1]))
    assert fake.uri(question) not in got.posts
    thread = assemble(got, 500)
    assert [p.text for p in thread.posts] == ["Part 1/3", "Part 2/3", "Part 3/3"]


async def test_reply_to_a_deleted_post_starts_with_the_author(
    fake: FakeBluesky, source: BlueskySource
) -> None:
    b = ThreadBuilder()
    question = b.post("bob", "a question")
    keys = b.chain("mira", 3, after=question)
    b.delete(question)
    fake.add_thread(b.build())
    got = await unroll(source, fake.url(keys[2]))
    thread = assemble(got, 500)
    assert [p.text for p in thread.posts] == ["Part 1/3", "Part 2/3", "Part 3/3"]


async def test_answer_to_someones_deleted_reply_in_the_authors_thread_stands_alone(
    fake: FakeBluesky, source: BlueskySource
) -> None:
    # Bob replied inside Mira's thread, Mira answered him in two posts, Bob deleted his:
    # the answer is not a gap in Mira's thread, and her thread does not take it in.
    b, keys = chain_of(fake, 3)
    question = b.reply("bob", keys[2], "a question")
    answer = b.chain("mira", 15, after=question, text="Answer")  # deeper than one call
    b.delete(question)
    fake.add_thread(b.build())
    thread = assemble(await unroll(source, fake.url(answer[0])), 500)
    assert [p.text for p in thread.all_posts] == [f"Answer {i}/15" for i in range(1, 16)]
    whole = assemble(await unroll(source, fake.url(keys[0])), 500)
    assert [p.text for p in whole.all_posts] == ["Part 1/3", "Part 2/3", "Part 3/3"]


# ---- errors -------------------------------------------------------------------------------


async def test_missing_post(fake: FakeBluesky, source: BlueskySource) -> None:
    b, _ = chain_of(fake, 1)
    fake.add_thread(b.build())
    with pytest.raises(NotFound) as err:
        await unroll(source, "https://bsky.app/profile/mira.example.com/post/3mlsi2zzzzz2a")
    assert "does not exist" in str(err.value)


async def test_unknown_account(fake: FakeBluesky, source: BlueskySource) -> None:
    with pytest.raises(NotFound) as err:
        await unroll(source, "https://bsky.app/profile/nobody.example.com/post/3mlsi2zzzzz2a")
    assert "no Bluesky account @nobody.example.com" in str(err.value)


async def test_rate_limit_waits_for_retry_after(fake: FakeBluesky, source: BlueskySource) -> None:
    b, keys = chain_of(fake, 4)
    fake.add_thread(b.build())
    limited = {"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"}
    fake.inject(THREAD, Fault(429, limited, {"Retry-After": "0.3"}))
    got = await unroll(source, fake.url(keys[0]))
    assert len(got.posts) == 4
    tries = [r for r in fake.requests if r.path == THREAD]
    assert len(tries) == 2
    assert tries[1].started - tries[0].ended >= 0.25


async def test_rate_limit_that_does_not_end(fake: FakeBluesky, source: BlueskySource) -> None:
    b, keys = chain_of(fake, 2)
    fake.add_thread(b.build())
    limited = {"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"}
    fake.inject(THREAD, *[Fault(429, limited, {"Retry-After": "0"})] * 3)
    with pytest.raises(UpstreamUnavailable) as err:
        await unroll(source, fake.url(keys[0]))
    assert "rate limiting" in str(err.value)


async def test_server_errors(fake: FakeBluesky, source: BlueskySource) -> None:
    b, keys = chain_of(fake, 2)
    fake.add_thread(b.build())
    fake.inject(THREAD, *[Fault(502, "<html>bad gateway</html>")] * 3)
    with pytest.raises(UpstreamUnavailable) as err:
        await unroll(source, fake.url(keys[0]))
    assert "HTTP 502" in str(err.value)


async def test_timeout(fake: FakeBluesky) -> None:
    b, keys = chain_of(fake, 2)
    fake.add_thread(b.build())
    fake.inject(THREAD, *[Fault(200, {}, hang_s=1.0)] * 2)
    http = HttpClient(
        HttpSettings(allow_private_addresses=True, retries=1, backoff_base_s=0.01, timeout_s=0.2)
    )
    try:
        with pytest.raises(UpstreamUnavailable):
            await unroll(BlueskySource(http, fake.base_url), fake.url(keys[0]))
    finally:
        await http.close()


@pytest.mark.parametrize(
    "body",
    [
        "this is not json",
        {"thread": "nope"},
        {"thread": {"$type": "app.bsky.feed.defs#threadViewPost", "post": {"uri": 5}}},
        {"thread": {"$type": "app.bsky.feed.defs#threadViewPost", "post": {"uri": "at://x"}}},
        [1, 2, 3],
    ],
)
async def test_malformed_thread_bodies(
    fake: FakeBluesky, source: BlueskySource, body: object
) -> None:
    b, keys = chain_of(fake, 2)
    fake.add_thread(b.build())
    fake.inject(THREAD, *[Fault(200, body)] * 3)
    with pytest.raises(UpstreamUnavailable) as err:
        await unroll(source, fake.url(keys[0]))
    assert "Bluesky" in str(err.value)


# ---- authors (subscriptions) ------------------------------------------------------------


async def test_resolve_author(fake: FakeBluesky, source: BlueskySource) -> None:
    b, _ = chain_of(fake, 1)
    fake.add_thread(b.build())
    did = fake.did("mira")
    for spec in ("@Mira.example.com", did, "https://bsky.app/profile/mira.example.com"):
        author = await source.resolve_author(spec)
        assert author is not None
        assert (author.id, author.handle, author.name) == (did, "mira.example.com", "Mira")
    assert await source.resolve_author("@nobody.example.com") is None
    assert await source.resolve_author("https://mastodon.social/@rin") is None
    fake.set_author_labels("mira", ("!no-unauthenticated",))
    with pytest.raises(Refused):
        await source.resolve_author(did)


async def test_recent_posts_newest_first(fake: FakeBluesky, source: BlueskySource) -> None:
    b, _ = chain_of(fake, 3)
    loose = [b.post("mira", f"note {i}") for i in range(4)]
    bobs = b.post("bob", "question")
    b.reply("mira", bobs, "answer to bob")
    fake.add_thread(b.build())
    fake.add_repost("mira", bobs, b.start + timedelta(days=1))  # newest, but not hers
    author = await source.resolve_author("mira.example.com")
    assert author is not None
    got = await source.recent_posts(author, 5)
    texts = [got.posts[i].text for i in got.posts]
    assert texts == ["note 3", "note 2", "note 1", "note 0", "Part 3/3"]
    assert got.anchor_id == fake.uri(loose[-1])


def _mangle(value: Any, rng: random.Random) -> Any:
    """Drop a key, or swap a value for one of the wrong type, somewhere in the body."""
    if isinstance(value, dict) and value:
        key = rng.choice(sorted(value))
        out = dict(value)
        roll = rng.random()
        if roll < 0.25:
            del out[key]
        elif roll < 0.5:
            out[key] = rng.choice([None, 7, "x", [], {}, True])
        else:
            out[key] = _mangle(value[key], rng)
        return out
    if isinstance(value, list) and value:
        i = rng.randrange(len(value))
        return [*value[:i], _mangle(value[i], rng), *value[i + 1 :]]
    return rng.choice([None, 7, "x", [], {}, False])


async def test_mangled_responses_never_crash(fake: FakeBluesky, http: HttpClient) -> None:
    """Whatever shape the AppView sends, the source answers or raises a user error."""
    b, keys = chain_of(fake, 14)
    b.update(keys[2], images=(SynthImage("alt"),), quote=b.post("bob", "q"))
    fake.add_thread(b.build())
    thread_body = await http.get_json(
        f"{fake.base_url}{THREAD}", params=[("uri", fake.uri(keys[0])), ("depth", "10")]
    )
    feed_body = await http.get_json(
        f"{fake.base_url}{FEED}", params=[("actor", fake.did("mira")), ("limit", "100")]
    )
    source = BlueskySource(http, fake.base_url)
    rng = random.Random(7)
    answered = refused = 0
    for _ in range(60):
        fake.faults.clear()
        if rng.random() < 0.5:
            fake.inject(THREAD, Fault(200, _mangle(thread_body, rng)))
        else:
            fake.inject(FEED, Fault(200, _mangle(feed_body, rng)))
        try:
            got = await unroll(source, fake.url(keys[0]))
        except UserError as exc:
            assert str(exc)
            refused += 1
        else:
            assert got.anchor_id in got.posts
            answered += 1
    assert answered and refused
