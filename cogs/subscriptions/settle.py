"""When a thread is finished enough to post: no new self-reply for ``settle_s``, or at once
when it reached ``max_posts``. Activity times come from the posts' own timestamps but never
later than when the bot first saw them, so a post dated in the future cannot hold a thread
back and a post found late is not waited on twice."""

from __future__ import annotations

from datetime import UTC, datetime


def parse_time(iso: str) -> float | None:
    try:
        when = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.timestamp()


def activity_time(created_at: str, first_seen: float) -> float:
    """When a post happened, as far as settling is concerned."""
    created = parse_time(created_at)
    return first_seen if created is None else min(created, first_seen)


def settles_at(activity_at: float, post_count: int, settle_s: float, max_posts: int) -> float:
    """The moment the thread counts as settled (may be in the past)."""
    if post_count >= max_posts:
        return float("-inf")
    return activity_at + settle_s


def is_settled(
    activity_at: float, post_count: int, now: float, settle_s: float, max_posts: int
) -> bool:
    return now >= settles_at(activity_at, post_count, settle_s, max_posts)
