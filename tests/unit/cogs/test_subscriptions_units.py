"""The pure parts of subscriptions: settling, filters, intervals and backoff, host budgets,
grouping an author's posts into threads, and the manual clock."""

from __future__ import annotations

import asyncio
import itertools

import pytest

from bot.errors import NotFound, Refused, UpstreamUnavailable, UsageError
from bot.http import HttpError
from bot.models import Author, FetchedPosts, Post, Thread
from cogs.subscriptions.clock import ManualClock
from cogs.subscriptions.filters import parse_words, rejection
from cogs.subscriptions.grouping import group_posts
from cogs.subscriptions.model import Filters, WatchedAuthor
from cogs.subscriptions.ratelimit import HostLimiter
from cogs.subscriptions.scheduler import (
    PAUSE_AFTER,
    Bounds,
    after_error,
    after_success,
    backoff_delay,
    classify,
    next_interval,
)
from cogs.subscriptions.settle import activity_time, is_settled, parse_time

ALICE = Author("did:alice", "alice.example.com", "Alice", "https://bsky.app/profile/alice")
BOB = Author("did:bob", "bob.example.com", "Bob", "https://bsky.app/profile/bob")
BOUNDS = Bounds(60, 900)
T0 = parse_time("2026-06-01T12:00:00.000Z") or 0.0


def post(
    pid: str, parent: str | None = None, *, by: Author = ALICE, at: str = "", **kw: object
) -> Post:
    return Post(
        id=pid,
        url=f"https://example.com/{pid}",
        author=by,
        created_at=at or "2026-06-01T11:00:00.000Z",
        text=str(kw.pop("text", pid)),
        parent_id=parent,
        **kw,  # type: ignore[arg-type]
    )


def thread(*texts: str) -> Thread:
    posts = tuple(post(f"p{i}", text=t) for i, t in enumerate(texts))
    return Thread("bluesky", "https://example.com/p0", "p0", ALICE, posts)


def watched(**kw: object) -> WatchedAuthor:
    base = dict(
        id=1,
        source="bluesky",
        author_id="did:alice",
        handle="alice",
        name="Alice",
        url="",
        host="h",
        state="active",
        reason=None,
        interval_s=60.0,
        next_poll_at=0.0,
        failures=0,
        last_error=None,
        last_error_at=None,
        last_poll_at=None,
        last_activity_at=None,
    )
    base.update(kw)
    return WatchedAuthor(**base)  # type: ignore[arg-type]


# ---- settling ---------------------------------------------------------------------------


def test_settled_after_quiet_period_or_at_max_posts() -> None:
    assert not is_settled(T0, 3, T0 + 599, 600, 500)
    assert is_settled(T0, 3, T0 + 600, 600, 500)
    assert is_settled(T0, 500, T0 + 1, 600, 500)  # max_posts reached: at once


def test_activity_time_never_later_than_first_seen() -> None:
    assert activity_time("2026-06-01T12:00:00Z", T0 + 50) == T0  # normal
    assert activity_time("2027-01-01T00:00:00Z", T0) == T0  # dated in the future
    assert activity_time("not a date", T0 + 5) == T0 + 5


# ---- filters ----------------------------------------------------------------------------


def test_filters() -> None:
    assert rejection(Filters(min_posts=3), thread("a", "b")) == "2 posts, fewer than min_posts 3"
    assert rejection(Filters(min_posts=2), thread("a", "b")) is None
    f = Filters(include=("cats", "dogs"), exclude=("spoiler",))
    assert rejection(f, thread("I like Cats.")) is None
    assert rejection(f, thread("catsup")) == "none of the include words"  # whole words only
    assert rejection(f, thread("dogs", "big SPOILER")) == "contains the excluded word 'spoiler'"
    assert rejection(Filters(include=("#art",)), thread("new #art today")) is None


def test_parse_words() -> None:
    assert parse_words(" Cats , dogs,,cats ", "include") == ("cats", "dogs")
    assert parse_words(None, "include") == ()
    with pytest.raises(UsageError):
        parse_words(",".join(f"w{i}" for i in range(30)), "exclude")


# ---- intervals, backoff, pausing -------------------------------------------------------


def test_quiet_authors_step_towards_the_maximum_and_activity_resets() -> None:
    interval = 60.0
    seen = []
    for _ in range(10):
        interval = next_interval(interval, False, BOUNDS)
        seen.append(interval)
    assert seen[0] == 90 and seen[-1] == 900 and seen == sorted(seen)
    assert next_interval(900, True, BOUNDS) == 60


def test_backoff_doubles_with_jitter_and_is_capped() -> None:
    delays = [backoff_delay("k", n, BOUNDS) for n in range(1, 8)]
    for a, b in itertools.pairwise(delays):
        assert 1.6 < b / a < 2.5
    assert backoff_delay("k", 40, BOUNDS) <= 6 * 3600 * 1.1


def test_errors_are_classified() -> None:
    try:
        try:
            raise HttpError(429, "u", {}, retry_after=120)
        except HttpError:
            raise UpstreamUnavailable("rate limited") from None
    except UpstreamUnavailable as exc:
        assert classify(exc) == ("rate_limited", "rate limited", 120)
    assert classify(NotFound("gone"))[0] == "permanent"
    assert classify(Refused("opted out"))[0] == "refused"
    assert classify(UpstreamUnavailable("5xx"))[0] == "transient"
    assert classify(ValueError("bug"))[0] == "transient"


def test_permanent_failures_pause_after_a_few_tries() -> None:
    a = watched()
    for i in range(1, PAUSE_AFTER + 1):
        a, kind = after_error(a, 1000.0 * i, NotFound("no such account"), BOUNDS)
        assert kind == "permanent"
    assert a.state == "paused" and a.reason and "no such account" in a.reason
    b, _ = after_error(watched(), 0, UpstreamUnavailable("down"), BOUNDS)
    assert b.state == "active" and b.failures == 1 and b.next_poll_at > 0
    c = after_success(b, 10, False, BOUNDS)
    assert c.failures == 0 and c.last_error == "down"  # the list keeps the last problem


def test_refused_author_is_checked_rarely() -> None:
    a, kind = after_error(watched(), 0, Refused("asked not to be shown"), BOUNDS)
    assert kind == "refused" and a.state == "refused" and a.next_poll_at == 900


# ---- host budgets -----------------------------------------------------------------------


async def test_host_budget_spreads_requests_and_429_closes_the_host() -> None:
    clock = ManualClock(0)
    limiter = HostLimiter(clock, {"bsky": 3000})
    granted = 0
    for second in range(600):
        clock._now = float(second)
        while await limiter.reserve("mastodon.example") == 0:
            granted += 1
    # 300 per 5 minutes, starting with a tenth of the share.
    assert granted <= 0.8 * 300 * 2 + 0.8 * 300 / 10 + 1
    assert granted >= 0.8 * 300 * 2 - 5
    until = await limiter.close("bsky", 120)
    assert until == 599 + 120 and await limiter.reserve("bsky") == pytest.approx(120)
    clock._now = 720.0
    assert await limiter.reserve("bsky") == 0


# ---- grouping posts into threads --------------------------------------------------------


def fetched(*posts: Post) -> FetchedPosts:
    return FetchedPosts("bluesky", posts[0].id if posts else "", {p.id: p for p in posts})


def test_grouping_self_replies_into_threads() -> None:
    posts = fetched(
        post("a1"),
        post("a2", "a1"),
        post("a3", "a2"),
        post("b1"),
        post("r1", "x", by=ALICE, root_id="x"),  # reply to a post we never saw
        post("x", by=BOB),
        post("c2", "old"),  # continues a thread seen on an earlier poll
    )
    groups = {g.root_id: g for g in group_posts(posts, ALICE, {"old": "c1"}, T0)}
    assert set(groups["a1"].post_ids) == {"a1", "a2", "a3"}
    assert groups["b1"].post_ids == ("b1",)
    assert groups["r1"].kind == "reply"
    assert groups["c1"].post_ids == ("c2",)


def test_grouping_keeps_unknown_parents_under_the_source_root_or_earliest_post() -> None:
    posts = fetched(
        post("m2", "m1", root_id="m0"),
        post("n3", "n2"),
        post("n4", "n3"),
        post("hidden", visibility="private"),
    )
    groups = {g.root_id: g for g in group_posts(posts, ALICE, {}, T0)}
    assert set(groups) == {"m0", "n3"}
    assert set(groups["n3"].post_ids) == {"n3", "n4"}


# ---- the manual clock -------------------------------------------------------------------


async def test_manual_clock_wakes_sleepers_in_order() -> None:
    clock = ManualClock(0)
    woke: list[tuple[str, float]] = []

    async def sleeper(name: str, s: float) -> None:
        await clock.sleep(s)
        woke.append((name, clock.now()))

    tasks = [asyncio.create_task(sleeper("b", 20)), asyncio.create_task(sleeper("a", 10))]
    await clock.sleepers()
    await clock.advance(15)
    assert woke == [("a", 10)]
    await clock.advance(100)
    assert woke == [("a", 10), ("b", 20)] and clock.now() == 115
    await asyncio.gather(*tasks)


def test_old_threads_are_judged_by_date_against_the_subscription() -> None:
    from cogs.subscriptions.model import AuthorThread
    from cogs.subscriptions.service import _is_old

    def t(created: str) -> AuthorThread:
        return AuthorThread(1, "r", "u", created, T0, T0, 1, 1, "thread")

    assert _is_old(t("2026-06-01T11:59:00Z"), T0, T0 + 600)  # before subscribing
    assert not _is_old(t("2026-06-01T12:05:00Z"), T0, T0 + 600)  # after, first check late
    assert _is_old(t("2027-01-01T00:00:00Z"), T0, T0 + 600)  # a date in the future
    assert _is_old(t("garbage"), T0, T0 + 600)
