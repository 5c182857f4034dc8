"""Mastodon threads around posts that cannot be read (followers-only, deleted, erased), on
a local server that answers like Mastodon: whose the unreadable post is decides whether it
is a gap in the thread, and a self-reply below one joins a thread only on evidence."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.assemble import assemble
from bot.http import HttpClient
from bot.models import Thread
from bot.sources.mastodon import MastodonSource
from tests.fakes.mastodon_server import FakeMastodon, FakeStatus

DAY_S = 86_400.0


@pytest.fixture
async def fake() -> AsyncIterator[FakeMastodon]:
    async with FakeMastodon(latency_s=0.01) as server:
        yield server


async def unroll(http: HttpClient, fake: FakeMastodon, st: FakeStatus) -> Thread:
    source = MastodonSource(http)
    ref = source.parse(fake.link(st))
    assert ref is not None
    return assemble(await source.fetch(ref, 500), 500)


def texts(thread: Thread) -> list[str]:
    return [p.text if p.status == "ok" else f"<{p.status}>" for p in thread.posts]


async def test_reply_to_someones_followers_only_post_stands_alone(
    http: HttpClient, fake: FakeMastodon
) -> None:
    rin, kofi = fake.account("rin"), fake.account("kofi")
    hidden = fake.post(kofi, "for my followers", visibility="private")
    answer = fake.post(rin, "Agreed, and", reply_to=hidden)
    more = fake.post(rin, "one more thing", reply_to=answer)
    thread = await unroll(http, fake, more)
    assert texts(thread) == ["Agreed, and", "one more thing"]
    assert thread.author.handle.startswith("rin@")


async def test_answer_to_a_hidden_reply_under_the_authors_thread_is_not_part_of_it(
    http: HttpClient, fake: FakeMastodon
) -> None:
    rin, kofi = fake.account("rin"), fake.account("kofi")
    posts = fake.thread(rin, 3)
    question = fake.post(kofi, "source?", reply_to=posts[2], visibility="private")
    answer = fake.post(rin, "Here: the report", reply_to=question)
    assert texts(await unroll(http, fake, answer)) == ["Here: the report"]
    whole = await unroll(http, fake, posts[0])
    assert texts(whole) == ["Post 1/3", "Post 2/3", "Post 3/3"]
    assert whole.asides == ()


async def test_reply_to_someones_erased_post_stands_alone(
    http: HttpClient, fake: FakeMastodon
) -> None:
    rin, kofi = fake.account("rin"), fake.account("kofi")
    gone = fake.post(kofi, "soon gone")
    answer = fake.post(rin, "I doubt it", reply_to=gone)
    fake.delete(gone, erase=True)  # the reply keeps only the account it answered
    thread = await unroll(http, fake, answer)
    assert texts(thread) == ["I doubt it"]
    assert len(thread.all_posts) == 1


async def test_own_followers_only_post_above_the_link_keeps_its_place(
    http: HttpClient, fake: FakeMastodon
) -> None:
    rin = fake.account("rin")
    first = fake.post(rin, "for my followers first", visibility="private", after_s=1.25)
    then = fake.post(rin, "and now for everyone", reply_to=first)
    thread = await unroll(http, fake, then)
    assert texts(thread) == ["<unavailable>", "and now for everyone"]
    assert thread.posts[0].author.id == thread.author.id
    # Its time is read from its snowflake id, to the millisecond.
    assert thread.posts[0].created_at == fake.status_json(first)["created_at"]
    assert thread.posts[0].created_at != thread.posts[1].created_at


async def test_later_thread_below_a_hidden_post_is_not_glued_on(
    http: HttpClient, fake: FakeMastodon
) -> None:
    # Deeper than one context call reaches, so the author's list is read past its end.
    rin = fake.account("rin")
    january = fake.thread(rin, 25, label="January")
    fake.clock_ms += int(60 * DAY_S * 1000)
    opener = fake.post(rin, "March opener", visibility="private")
    m1 = fake.post(rin, "March 2", reply_to=opener)
    m2 = fake.post(rin, "March 3", reply_to=m1)
    thread = await unroll(http, fake, january[0])
    assert texts(thread) == [f"January {i}/25" for i in range(1, 26)]
    assert thread.asides == ()
    march = await unroll(http, fake, m2)
    assert texts(march) == ["<unavailable>", "March 2", "March 3"]


async def test_thread_continuing_below_its_own_hidden_post_keeps_the_rest(
    http: HttpClient, fake: FakeMastodon
) -> None:
    # The same shape, but the hidden post answers the thread: the server's context of the
    # thread's last post lists what hangs below it, and that is the evidence.
    rin = fake.account("rin")
    posts = fake.thread(rin, 25)
    fake.clock_ms += int(60 * DAY_S * 1000)
    hidden = fake.post(rin, "followers only", reply_to=posts[-1], visibility="private")
    later = fake.post(rin, "Post 27", reply_to=hidden)
    expected = [*(f"Post {i}/25" for i in range(1, 26)), "<unavailable>", "Post 27"]
    thread = await unroll(http, fake, posts[0])
    assert texts(thread) == expected
    assert fake.status_uri(later) == thread.posts[-1].id
    # From below: the context of the linked post lists its ancestors through the hidden one.
    assert texts(await unroll(http, fake, later)) == expected


async def test_later_thread_below_an_erased_post_stays_out_when_others_came_between(
    http: HttpClient, fake: FakeMastodon
) -> None:
    rin = fake.account("rin")
    posts = fake.thread(rin, 24)
    fake.post(rin, "something else entirely", after_s=DAY_S)
    opener = fake.post(rin, "new thread", after_s=DAY_S)
    follow = fake.post(rin, "new thread, continued", reply_to=opener)
    fake.delete(opener, erase=True)
    thread = await unroll(http, fake, posts[0])
    assert texts(thread) == [f"Post {i}/24" for i in range(1, 25)]
    alone = await unroll(http, fake, follow)
    assert texts(alone) == ["<unavailable>", "new thread, continued"]


async def test_guessed_chain_does_not_push_the_linked_reply_into_an_aside(
    http: HttpClient, fake: FakeMastodon
) -> None:
    # As recorded on mastodon.social: a self-reply whose parent was erased sits between
    # the first post and its real self-reply; someone else's reply keeps the first post
    # open, so the author's list is read and the orphan found.
    rin, kofi = fake.account("rin"), fake.account("kofi")
    root = fake.post(rin, "Root")
    erased = fake.post(rin, "soon erased", reply_to=root)
    orphan = fake.post(rin, "below the erased one", reply_to=erased)
    linked = fake.post(rin, "the real reply", reply_to=root)
    fake.post(kofi, "nice", reply_to=root)
    fake.delete(erased, erase=True)
    thread = await unroll(http, fake, linked)
    assert texts(thread) == ["Root", "the real reply"]
    assert [[p.text for p in a.posts] for a in thread.asides] == [["", "below the erased one"]]
    assert thread.asides[0].posts[0].status == "unavailable"
    assert thread.asides[0].posts[1].id == fake.status_uri(orphan)


async def test_long_thread_that_begins_as_a_reply_is_found_whole(
    http: HttpClient, fake: FakeMastodon
) -> None:
    # Below a reply to someone, Mastodon names that someone on every self-reply, so the
    # author's list without replies leaves them all out: the whole list is read instead,
    # still in few round trips.
    rin, kofi = fake.account("rin"), fake.account("kofi")
    question = fake.post(kofi, "How did it go?")
    posts = fake.thread(rin, 70, reply_to=question, others=kofi, others_every=9)
    for anchor in (posts[0], posts[69]):
        fake.requests.clear()
        thread = await unroll(http, fake, anchor)
        assert texts(thread) == [f"Post {i}/70" for i in range(1, 71)]
        assert fake.sequential_round_trips() <= 3
        listings = [r for r in fake.requests if r.path.endswith("/statuses")]
        assert listings and all(("exclude_replies", "false") in r.query for r in listings)
