"""When to poll an author next: adaptive intervals between the configured bounds, per-author
exponential backoff on errors, and pausing authors that keep failing for good (a deleted
account) instead of retrying forever."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from typing import Literal

from bot.errors import NotFound, Refused, UserError
from bot.http import HttpError
from cogs.subscriptions.model import WatchedAuthor

# Quiet authors are polled less often, one step per empty poll.
GROWTH = 1.5
# Permanent failures in a row before an author is paused.
PAUSE_AFTER = 3
# Transient errors back off up to this long between tries.
MAX_BACKOFF_S = 6 * 3600.0

ErrorKind = Literal["transient", "permanent", "refused", "rate_limited"]


@dataclass(frozen=True)
class Bounds:
    min_s: float
    max_s: float


def _jitter(key: str, attempt: int) -> float:
    """A stable spread of +-10% so authors that failed together do not retry together."""
    digest = hashlib.blake2b(f"{key}:{attempt}".encode(), digest_size=2).digest()
    return 0.9 + 0.2 * (int.from_bytes(digest, "big") / 65535)


def first_offset(key: str, bounds: Bounds) -> float:
    """Spread the first polls of many authors across the minimum interval."""
    digest = hashlib.blake2b(key.encode(), digest_size=2).digest()
    return bounds.min_s * (int.from_bytes(digest, "big") / 65535)


def next_interval(current: float, active: bool, bounds: Bounds) -> float:
    """Back to the minimum when the author posted since the last poll, else a step longer."""
    if active:
        return bounds.min_s
    return float(min(bounds.max_s, max(bounds.min_s, current * GROWTH)))


def backoff_delay(key: str, failures: int, bounds: Bounds) -> float:
    base = bounds.min_s * float(2 ** max(0, failures - 1))
    return min(MAX_BACKOFF_S, base) * _jitter(key, failures)


def classify(exc: BaseException) -> tuple[ErrorKind, str, float | None]:
    """(kind, message for the subscriptions list, Retry-After seconds if any)."""
    retry_after = None
    status = None
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        if isinstance(cur, HttpError):
            status = cur.status
            retry_after = cur.retry_after
            break
        cur = cur.__cause__ or cur.__context__
    message = str(exc) if isinstance(exc, UserError) else f"{type(exc).__name__}: {exc}"
    if status == 429:
        return "rate_limited", message, retry_after
    if isinstance(exc, Refused):
        return "refused", message, None
    if isinstance(exc, NotFound) or status in (404, 410):
        return "permanent", message, None
    return "transient", message, retry_after


def after_success(a: WatchedAuthor, now: float, active: bool, bounds: Bounds) -> WatchedAuthor:
    interval = next_interval(a.interval_s, active, bounds)
    return replace(
        a,
        state="active",
        reason=None,
        interval_s=interval,
        next_poll_at=now + interval,
        failures=0,
        last_poll_at=now,
        last_activity_at=now if active else a.last_activity_at,
    )


def after_error(
    a: WatchedAuthor, now: float, exc: BaseException, bounds: Bounds
) -> tuple[WatchedAuthor, ErrorKind]:
    kind, message, retry_after = classify(exc)
    if kind == "refused":
        # The author opted out (or went non-public): nothing is delivered, and it is checked
        # again rarely in case that changes.
        return replace(
            a,
            state="refused",
            reason=message,
            interval_s=bounds.max_s,
            next_poll_at=now + bounds.max_s,
            failures=0,
            last_poll_at=now,
        ), kind
    failures = a.failures + 1
    if kind == "permanent" and failures >= PAUSE_AFTER:
        return replace(
            a,
            state="paused",
            reason=f"after {failures} failed polls in a row: {message}",
            failures=failures,
            last_error=message,
            last_error_at=now,
            last_poll_at=now,
        ), kind
    delay = backoff_delay(a.key, failures, bounds)
    if retry_after is not None:
        delay = max(delay, retry_after)
    return replace(
        a,
        failures=failures,
        last_error=message,
        last_error_at=now,
        last_poll_at=now,
        next_poll_at=now + delay,
    ), kind
