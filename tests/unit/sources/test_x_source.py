"""Fetching X threads through a local FxTwitter API: full threads, the single-post fallback,
placeholders for deleted posts, caps, and the mapping onto neutral models."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.errors import NotFound, Refused
from bot.http import HttpClient, HttpSettings
from bot.models import ContentNote, LinkCard, Media, Quote
from bot.sources.x import NOTICE_SINGLE_POST, XSource
from bot.sources.x.mapping import map_status
from tests.fakes.base import Fault
from tests.fakes.fxtwitter_server import (
    FxTwitterFake,
    make_status,
    make_tombstone,
    make_user,
    snowflake_at,
)
from tests.fakes.replay_server import DATA_DIR, load_recording

KESTREL = make_user("kestrelnotes", "1402258866139553794", "Kestrel Notes")
CIWEEKLY = make_user("ci_weekly", "1291100442019872768", "CI Weekly")
OTHER = make_user("bystander", "1111111111111111111", "Bystander")


def _id(minute: int, seq: int = 0) -> str:
    return snowflake_at(f"2026-05-14T15:{minute:02d}:02Z", seq)


def six_post_thread() -> list[dict[str, Any]]:
    """Kestrel's six-post thread, a reply by someone else to post 3, and a later second
    self-reply to post 3 (a side branch the service does not follow)."""
    quoted = make_status(
        snowflake_at("2026-05-09T08:00:00Z"),
        CIWEEKLY,
        "This week: why remote build caches fail silently https://ciweekly.example/issues/212",
    )
    p1 = make_status(
        _id(30),
        KESTREL,
        "We cut our CI from 40 minutes to 9 without buying bigger runners 🧵 (1/6)",
        photos=[("https://pbs.twimg.com/media/chart.jpg?name=orig", "Bar chart: 40 to 9 min")],
    )
    p2 = make_status(_id(31), KESTREL, "1. Test impact analysis. (2/6)", parent=p1)
    p3 = make_status(
        _id(33), KESTREL, "2. Remote cache keys leaked timestamps. (3/6)", parent=p2, quote=quoted
    )
    reply = make_status(_id(34), OTHER, "great thread", parent=p3, mention_prefix="@kestrelnotes ")
    p4 = make_status(
        _id(35),
        KESTREL,
        "3. Docker layer order. (4/6)",
        parent=p3,
        videos=[("https://video.twimg.com/v/layers.mp4", "Screen recording of a build")],
        gifs=["https://video.twimg.com/tweet_video/party.mp4"],
    )
    late_branch = make_status(_id(50), KESTREL, "Side note on caching", parent=p3)
    p5 = make_status(_id(36), KESTREL, "4. Shard by duration. (5/6)", parent=p4, sensitive=True)
    p6 = make_status(
        _id(37),
        KESTREL,
        "That's it. Write-up: https://kestrel.example/ci-40-to-9 (6/6)",
        parent=p5,
        card={
            "url": "https://kestrel.example/ci-40-to-9",
            "title": "CI from 40 to 9 minutes",
            "description": "The five changes, with configs.",
            "domain": "kestrel.example",
        },
        replies=0,
    )
    return [quoted, p1, p2, p3, reply, p4, late_branch, p5, p6]


THREAD = six_post_thread()
QUOTED, P1, P2, P3, REPLY, P4, LATE, P5, P6 = THREAD
MAIN = [P1, P2, P3, P4, P5, P6]


def xid(status: dict[str, Any]) -> str:
    return f"x:{status['id']}"


@pytest.fixture
async def http() -> AsyncIterator[HttpClient]:
    client = HttpClient(HttpSettings(allow_private_addresses=True, retries=2, backoff_base_s=0.01))
    yield client
    await client.close()


async def serve(mode: str = "thread", **kw: Any) -> FxTwitterFake:
    fake = FxTwitterFake(mode=mode, **kw)  # type: ignore[arg-type]
    fake.add(*THREAD)
    await fake.start()
    return fake


@pytest.fixture
async def fake() -> AsyncIterator[FxTwitterFake]:
    server = await serve()
    yield server
    await server.stop()


def ref_for(source: XSource, status: dict[str, Any]) -> Any:
    ref = source.parse(status["url"])
    assert ref is not None
    return ref


# -- full thread ------------------------------------------------------------------------


async def test_full_thread_comes_in_one_request_in_order(
    http: HttpClient, fake: FxTwitterFake
) -> None:
    source = XSource(http, fake.base_url)
    got = await source.fetch(ref_for(source, P3), max_posts=50)

    assert got.source == "x"
    assert got.anchor_id == xid(P3)
    assert list(got.posts) == [xid(s) for s in MAIN]
    assert [p.text for p in got.posts.values()] == [s["text"] for s in MAIN]
    assert not got.notices and not got.capped
    assert [r.path for r in fake.requests] == [f"/2/thread/{P3['id']}"]
    # The shared client identified itself (the service refuses anonymous requests).
    assert "unrollbot" in fake.requests[0].headers["User-Agent"]


async def test_replies_point_at_their_parents_and_share_the_root(
    http: HttpClient, fake: FxTwitterFake
) -> None:
    source = XSource(http, fake.base_url)
    got = await source.fetch(ref_for(source, P6), max_posts=50)
    posts = list(got.posts.values())
    assert posts[0].parent_id is None
    assert [p.parent_id for p in posts[1:]] == [p.id for p in posts[:-1]]
    assert {p.root_id for p in posts} == {xid(P1)}
    assert [p.created_at for p in posts][:2] == [
        "2026-05-14T15:30:02.000Z",
        "2026-05-14T15:31:02.000Z",
    ]
    author = posts[0].author
    assert (author.id, author.handle, author.name, author.url) == (
        "x:1402258866139553794",
        "kestrelnotes",
        "Kestrel Notes",
        "https://x.com/kestrelnotes",
    )
    assert posts[0].url == f"https://x.com/kestrelnotes/status/{P1['id']}"


async def test_media_quotes_cards_links_and_sensitivity_are_mapped(
    http: HttpClient, fake: FxTwitterFake
) -> None:
    source = XSource(http, fake.base_url)
    posts = (await source.fetch(ref_for(source, P1), max_posts=50)).posts

    assert posts[xid(P1)].media == (
        Media("image", "https://pbs.twimg.com/media/chart.jpg?name=orig", "Bar chart: 40 to 9 min"),
    )
    assert posts[xid(P4)].media == (
        Media(
            "video",
            "https://video.twimg.com/v/layers.mp4",
            "Screen recording of a build",
            "https://video.twimg.com/v/layers.jpg",
        ),
        Media(
            "gif",
            "https://video.twimg.com/tweet_video/party.mp4",
            "",
            "https://video.twimg.com/tweet_video/party.jpg",
        ),
    )
    quote_url = f"https://x.com/ci_weekly/status/{QUOTED['id']}"
    assert posts[xid(P3)].quote == Quote(
        url=quote_url,
        author="ci_weekly",
        text="This week: why remote build caches fail silently https://ciweekly.example/issues/212",
    )
    assert posts[xid(P3)].links == (quote_url,)
    p6 = posts[xid(P6)]
    assert p6.card == LinkCard(
        "https://kestrel.example/ci-40-to-9",
        "CI from 40 to 9 minutes",
        "The five changes, with configs.",
    )
    # The text link and the card are the same URL: listed once.
    assert p6.links == ("https://kestrel.example/ci-40-to-9",)
    assert posts[xid(P5)].content_notes == (
        ContentNote(category="other", origin="author", reason="marked sensitive by the author"),
    )
    assert posts[xid(P4)].content_notes == ()


async def test_tco_links_are_expanded_from_facets_when_the_text_still_has_them(
    http: HttpClient,
) -> None:
    fake = await serve(expand_links=False)
    try:
        source = XSource(http, fake.base_url)
        posts = (await source.fetch(ref_for(source, P6), max_posts=50)).posts
    finally:
        await fake.stop()
    p6 = posts[xid(P6)]
    assert "t.co" not in p6.text
    assert p6.text == "That's it. Write-up: https://kestrel.example/ci-40-to-9 (6/6)"
    assert p6.links == ("https://kestrel.example/ci-40-to-9",)
    assert "t.co" not in (posts[xid(P3)].quote or Quote("", "", "")).text


async def test_ancestors_by_others_are_kept_and_reply_mentions_dropped(
    http: HttpClient,
) -> None:
    # Kestrel answers someone else's post; FxTwitter includes that post above the thread.
    question = make_status(_id(10), OTHER, "how did you speed up CI?")
    answer = make_status(
        _id(11), KESTREL, "Like this: (1/2)", parent=question, mention_prefix="@bystander "
    )
    more = make_status(_id(12), KESTREL, "and this (2/2)", parent=answer, replies=0)
    async with FxTwitterFake() as fake:
        fake.add(question, answer, more)
        source = XSource(http, fake.base_url)
        got = await source.fetch(ref_for(source, more), max_posts=50)
    assert list(got.posts) == [xid(question), xid(answer), xid(more)]
    assert got.posts[xid(answer)].text == "Like this: (1/2)"
    assert got.posts[xid(question)].author.handle == "bystander"
    assert got.posts[xid(answer)].parent_id == xid(question)


async def test_deleted_post_inside_the_thread_keeps_its_place(http: HttpClient) -> None:
    for tombstone_ids in (True, False):
        fake = await serve(tombstone_ids=tombstone_ids)
        fake.remove(P3["id"])
        try:
            source = XSource(http, fake.base_url)
            got = await source.fetch(ref_for(source, P5), max_posts=50)
        finally:
            await fake.stop()
        assert list(got.posts) == [xid(s) for s in MAIN]
        gap = got.posts[xid(P3)]
        assert gap.status == "unavailable"
        assert gap.text == "" and gap.quote is None and gap.media == ()
        # Within the author's chain the placeholder is the author's, so the thread is whole.
        assert gap.author.handle == "kestrelnotes"
        assert gap.author.id == "x:1402258866139553794"
        assert gap.parent_id == xid(P2)
        assert got.posts[xid(P4)].parent_id == xid(P3)
        # Its time comes from the snowflake, so sorting keeps it in place.
        ordered = sorted(got.posts.values(), key=lambda p: p.sort_key)
        assert [p.id for p in ordered] == [xid(s) for s in MAIN]


async def test_deleted_quote_is_kept_as_unavailable(http: HttpClient, fake: FxTwitterFake) -> None:
    fake.remove(QUOTED["id"])
    source = XSource(http, fake.base_url)
    posts = (await source.fetch(ref_for(source, P3), max_posts=50)).posts
    quote = posts[xid(P3)].quote
    assert quote is not None
    assert quote.text == "quoted post unavailable"
    assert quote.url == f"https://x.com/i/status/{QUOTED['id']}"
    assert posts[xid(P3)].links == (quote.url,)


async def test_sample_tombstone_quote_shape_maps_to_unavailable(http: HttpClient) -> None:
    quoting = make_status(
        _id(20),
        KESTREL,
        "Remember this?",
        quote={
            "type": "tombstone",
            "provider": "twitter",
            "reason": "deleted",
            "message": "This post was deleted by the post author.",
            "id": "1921000000000000001",
            "url": "https://x.com/i/status/1921000000000000001",
        },
        replies=0,
    )
    async with FxTwitterFake() as fake:
        fake.add(quoting)
        source = XSource(http, fake.base_url)
        got = await source.fetch(ref_for(source, quoting), max_posts=10)
    assert got.posts[xid(quoting)].quote == Quote(
        "https://x.com/i/status/1921000000000000001", "", "quoted post unavailable"
    )


async def test_full_thread_is_capped_and_keeps_the_linked_post(http: HttpClient) -> None:
    fake = await serve()
    try:
        source = XSource(http, fake.base_url)
        top = await source.fetch(ref_for(source, P2), max_posts=3)
        deep = await source.fetch(ref_for(source, P6), max_posts=3)
    finally:
        await fake.stop()
    assert top.capped and list(top.posts) == [xid(P1), xid(P2), xid(P3)]
    assert deep.capped and list(deep.posts) == [xid(P4), xid(P5), xid(P6)]
    assert deep.anchor_id in deep.posts


# -- single-post instances --------------------------------------------------------------


@pytest.mark.parametrize("mode", ["single", "single_list"])
async def test_single_post_instance_walks_up_and_says_later_posts_may_be_missing(
    http: HttpClient, mode: str
) -> None:
    fake = await serve(mode)
    try:
        source = XSource(http, fake.base_url)
        got = await source.fetch(ref_for(source, P4), max_posts=50)
    finally:
        await fake.stop()
    assert list(got.posts) == [xid(s) for s in [P1, P2, P3, P4]]
    assert got.anchor_id == xid(P4)
    assert got.notices == [NOTICE_SINGLE_POST]
    assert not got.capped
    assert [r.path for r in fake.requests] == [
        f"/2/thread/{P4['id']}",
        f"/2/status/{P3['id']}",
        f"/2/status/{P2['id']}",
        f"/2/status/{P1['id']}",
    ]
    assert {p.root_id for p in got.posts.values()} == {xid(P1)}
    # The quote on post 3 is mapped the same way as in a full thread.
    assert (got.posts[xid(P3)].quote or Quote("", "", "")).author == "ci_weekly"


async def test_single_post_walk_stops_at_another_authors_post(http: HttpClient) -> None:
    question = make_status(_id(10), OTHER, "how?")
    answer = make_status(_id(11), KESTREL, "(1/2)", parent=question, mention_prefix="@bystander ")
    more = make_status(_id(12), KESTREL, "(2/2)", parent=answer)
    async with FxTwitterFake(mode="single") as fake:
        fake.add(question, answer, more)
        source = XSource(http, fake.base_url)
        got = await source.fetch(ref_for(source, more), max_posts=50)
        paths = [r.path for r in fake.requests]
    assert list(got.posts) == [xid(answer), xid(more)]
    assert paths == [f"/2/thread/{more['id']}", f"/2/status/{answer['id']}"]
    assert got.posts[xid(answer)].parent_id == xid(question)


async def test_single_post_walk_keeps_a_deleted_parent_as_a_placeholder(http: HttpClient) -> None:
    fake = await serve("single")
    fake.remove(P2["id"])
    try:
        source = XSource(http, fake.base_url)
        got = await source.fetch(ref_for(source, P4), max_posts=50)
    finally:
        await fake.stop()
    assert list(got.posts) == [xid(P2), xid(P3), xid(P4)]
    assert got.posts[xid(P2)].status == "unavailable"
    assert got.posts[xid(P2)].author.handle == "kestrelnotes"
    assert got.notices == [NOTICE_SINGLE_POST]


async def test_single_post_walk_is_capped(http: HttpClient) -> None:
    fake = await serve("single")
    try:
        source = XSource(http, fake.base_url)
        got = await source.fetch(ref_for(source, P5), max_posts=2)
    finally:
        await fake.stop()
    assert got.capped
    assert list(got.posts) == [xid(P4), xid(P5)]
    assert fake.count("/2/status/") == 1


async def test_single_post_with_no_replies_needs_no_notice(http: HttpClient) -> None:
    alone = make_status(_id(40), KESTREL, "Just one post.", replies=0)
    async with FxTwitterFake(mode="single") as fake:
        fake.add(alone)
        source = XSource(http, fake.base_url)
        got = await source.fetch(ref_for(source, alone), max_posts=50)
    assert list(got.posts) == [xid(alone)]
    assert got.notices == []


@pytest.mark.parametrize("mode", ["thread", "single_list"])
async def test_standalone_post_with_replies_from_a_thread_answer_needs_no_notice(
    http: HttpClient, mode: str
) -> None:
    # ``thread: [post]`` is what FxTwitter answers for a post without self-replies: others'
    # replies are no sign that anything is missing.
    alone = make_status(_id(42), KESTREL, "One thought, no thread.", replies=12)
    answer = make_status(_id(43), OTHER, "agreed", parent=alone, mention_prefix="@kestrelnotes ")
    async with FxTwitterFake(mode=mode) as fake:  # type: ignore[arg-type]
        fake.add(alone, answer)
        source = XSource(http, fake.base_url)
        got = await source.fetch(ref_for(source, alone), max_posts=50)
    assert list(got.posts) == [xid(alone)]
    assert got.notices == []


async def test_reply_to_someone_from_a_thread_answer_needs_no_notice(http: HttpClient) -> None:
    question = make_status(_id(44), OTHER, "how?")
    answer = make_status(_id(45), KESTREL, "like this", parent=question, replies=3)
    async with FxTwitterFake(mode="single_list") as fake:
        fake.add(question, answer)
        source = XSource(http, fake.base_url)
        got = await source.fetch(ref_for(source, answer), max_posts=50)
        paths = [r.path for r in fake.requests]
    assert list(got.posts) == [xid(answer)]
    assert got.notices == []
    assert paths == [f"/2/thread/{answer['id']}"]


async def test_standalone_post_from_an_instance_without_threads_keeps_the_notice(
    http: HttpClient,
) -> None:
    alone = make_status(_id(46), KESTREL, "Is there more?", replies=2)
    async with FxTwitterFake(mode="single") as fake:
        fake.add(alone)
        source = XSource(http, fake.base_url)
        got = await source.fetch(ref_for(source, alone), max_posts=50)
    assert got.notices == [NOTICE_SINGLE_POST]


# -- refusals and missing posts ---------------------------------------------------------


async def test_protected_account_is_refused_as_not_public(http: HttpClient) -> None:
    locked = make_user("locked", "2222", protected=True)
    post = make_status(_id(41), locked, "secret")
    async with FxTwitterFake() as fake:
        fake.add(post)
        source = XSource(http, fake.base_url)
        with pytest.raises(Refused, match="not public"):
            await source.fetch(ref_for(source, post), max_posts=50)


async def test_protected_flag_in_a_200_answer_is_refused(http: HttpClient) -> None:
    locked = make_user("locked", "2222", protected=True)
    post = make_status(_id(41), locked, "secret")
    async with FxTwitterFake() as fake:
        fake.inject(
            f"/2/thread/{post['id']}",
            Fault(200, {"code": 200, "status": post, "thread": [post], "author": locked}),
        )
        source = XSource(http, fake.base_url)
        with pytest.raises(Refused, match="not public"):
            await source.fetch(ref_for(source, post), max_posts=50)


async def test_deleted_or_unknown_linked_post_is_not_found(
    http: HttpClient, fake: FxTwitterFake
) -> None:
    source = XSource(http, fake.base_url)
    fake.remove(P2["id"])
    with pytest.raises(NotFound, match="deleted"):
        await source.fetch(ref_for(source, P2), max_posts=50)
    fake.remove(P5["id"], "suspended")
    with pytest.raises(NotFound, match="suspended"):
        await source.fetch(ref_for(source, P5), max_posts=50)
    fake.remove(P4["id"], "private")
    with pytest.raises(Refused, match="not public"):
        await source.fetch(ref_for(source, P4), max_posts=50)
    missing = source.parse("https://x.com/kestrelnotes/status/1999999999999999999")
    assert missing is not None
    with pytest.raises(NotFound, match="1999999999999999999"):
        await source.fetch(missing, max_posts=50)


async def test_tombstone_placeholder_from_the_sample_shape(http: HttpClient) -> None:
    """A thread item that is a bare tombstone with no id takes its id and author from the
    reply below it."""
    thread = [P1, make_tombstone("deleted"), P3]
    async with FxTwitterFake() as fake:
        fake.inject(
            f"/2/thread/{P3['id']}",
            Fault(200, {"code": 200, "status": P3, "thread": thread, "author": KESTREL}),
        )
        source = XSource(http, fake.base_url)
        got = await source.fetch(ref_for(source, P3), max_posts=50)
    assert list(got.posts) == [xid(P1), xid(P2), xid(P3)]
    assert got.posts[xid(P2)].status == "unavailable"
    assert got.posts[xid(P2)].author.handle == "kestrelnotes"
    assert got.posts[xid(P2)].url == f"https://x.com/kestrelnotes/status/{P2['id']}"


async def test_pre_snowflake_posts_take_their_time_from_the_api(http: HttpClient) -> None:
    old_user = make_user("early", "12")
    old = make_status("20", old_user, "just setting up", replies=0)
    old |= {"created_at": "Tue Mar 21 20:50:14 +0000 2006", "created_timestamp": 1142974214}
    older = make_status("19", old_user, "hello", replies=0)
    older |= {"created_at": "Tue Mar 21 20:49:00 +0000 2006", "created_timestamp": None}
    async with FxTwitterFake() as fake:
        fake.add(old, older)
        source = XSource(http, fake.base_url)
        first = await source.fetch(ref_for(source, old), max_posts=5)
        second = await source.fetch(ref_for(source, older), max_posts=5)
    assert first.posts["x:20"].created_at == "2006-03-21T20:50:14.000Z"
    assert second.posts["x:19"].created_at == "2006-03-21T20:49:00.000Z"


async def test_a_protected_ancestor_by_someone_else_becomes_a_placeholder(
    http: HttpClient,
) -> None:
    locked = make_user("locked", "2222", protected=True)
    question = make_status(_id(10), locked, "private question")
    answer = make_status(_id(11), KESTREL, "public answer", parent=question, replies=0)
    async with FxTwitterFake() as fake:
        fake.add(question, answer)
        source = XSource(http, fake.base_url)
        got = await source.fetch(ref_for(source, answer), max_posts=50)
    hidden = got.posts[xid(question)]
    assert hidden.status == "unavailable" and hidden.text == ""
    assert hidden.author.handle == "locked"
    assert got.posts[xid(answer)].text == "public answer"


# -- polls ------------------------------------------------------------------------------


async def test_poll_choices_votes_and_state_follow_the_text(http: HttpClient) -> None:
    ended = make_status(
        _id(40),
        KESTREL,
        "Which runner size?",
        poll=[("small", 1), ("large", 3)],
        poll_ends_at="2026-05-15T15:40:02Z",
        replies=0,
    )
    open_poll = make_status(
        snowflake_at("2099-01-01T00:00:00Z"),
        KESTREL,
        "Next topic?",
        poll=[("caching", 0), ("sharding", 0)],
        replies=0,
    )
    fake = FxTwitterFake()
    fake.add(ended, open_poll)
    await fake.start()
    try:
        source = XSource(http, fake.base_url)
        got = await source.fetch(ref_for(source, ended), max_posts=5)
        assert got.posts[xid(ended)].text == (
            "Which runner size?\n\n○ small: 1 vote (25%)\n○ large: 3 votes (75%)\n"
            "4 votes · poll ended 2026-05-15 15:40 UTC"
        )
        assert got.posts[xid(ended)].links == ()
        got = await source.fetch(ref_for(source, open_poll), max_posts=5)
        assert got.posts[xid(open_poll)].text == (
            "Next topic?\n\n○ caching: 0 votes (0%)\n○ sharding: 0 votes (0%)\n"
            "0 votes · poll open until 2099-01-02 00:00 UTC"
        )
    finally:
        await fake.stop()


@pytest.mark.skipif(not DATA_DIR.is_dir(), reason=f"recordings not found at {DATA_DIR}")
def test_recorded_poll_answer_shows_every_choice() -> None:
    body = load_recording("fxtwitter")["responses"]["/2/thread/1899954694652309701"][1]
    post = map_status(body["status"], "status")
    assert post.text.endswith(
        "○ MISC Freelancer: 2 votes (9.1%)\n○ Anvil Carrack: 6 votes (27.3%)\n"
        "○ Drake Cutlass (Any?): 5 votes (22.7%)\n○ Origin 600i: 9 votes (40.9%)\n"
        "22 votes · poll ended 2025-03-16 22:44 UTC"
    )
    assert post.text.startswith("You can only pick ONE ship")


@pytest.mark.skipif(not DATA_DIR.is_dir(), reason=f"recordings not found at {DATA_DIR}")
@pytest.mark.parametrize(
    ("status_id", "kind"), [("1902059299591090335", "video"), ("1964084223871971826", "image")]
)
def test_recorded_post_of_media_alone_shows_no_link_for_its_media(
    status_id: str, kind: str
) -> None:
    body = load_recording("fxtwitter")["responses"][f"/2/status/{status_id}"][1]
    post = map_status(body["status"], "status")
    assert post.text == ""  # not the media's own t.co link
    assert [m.type for m in post.media] == [kind]
    assert not any("t.co/" in link for link in post.links)
