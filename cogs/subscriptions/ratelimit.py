"""Per-host request budgets for polling (each site states its own, ``bot.sources.polling``;
a server's own is the usual 300 requests per 5 minutes per IP address). Polls take only
part of each budget so users' own unrolls through the same address still fit, and a 429
closes the host until its Retry-After has passed."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from cogs.subscriptions.clock import Clock

WINDOW_S = 300.0
DEFAULT_PER_WINDOW = 300
# The share of a host's budget polling may use.
POLL_SHARE = 0.8
# The part of the budget routine polls leave free for settling threads and new
# subscriptions, so a busy host does not delay a finished thread behind routine polls.
PRIORITY_SHARE = 0.1
# Without Retry-After, a 429 closes the host for this long.
DEFAULT_429_PAUSE_S = 60.0


@dataclass
class _Bucket:
    capacity: float
    rate: float  # tokens per second
    tokens: float
    updated: float
    closed_until: float = 0.0
    queued_until: float = 0.0  # the last slot handed to a deferred request
    used: int = 0
    throttled: int = 0
    history: list[float] = field(default_factory=list)


class HostLimiter:
    def __init__(
        self,
        clock: Clock,
        limits: dict[str, int] | None = None,
        default_per_window: int = DEFAULT_PER_WINDOW,
        share: float = POLL_SHARE,
        keep_history: bool = False,
    ) -> None:
        self.clock = clock
        self.limits = dict(limits or {})
        self.default_per_window = default_per_window
        self.share = share
        self.keep_history = keep_history
        self._buckets: dict[str, _Bucket] = {}
        self.rate_limited: defaultdict[str, int] = defaultdict(int)

    def per_window(self, host: str) -> int:
        return self.limits.get(host, self.default_per_window)

    def _bucket(self, host: str) -> _Bucket:
        b = self._buckets.get(host)
        now = self.clock.now()
        if b is None:
            allowed = self.per_window(host) * self.share
            # Start nearly empty: a restart must not add a burst on top of what the last
            # process sent in the same window.
            b = _Bucket(allowed, allowed / WINDOW_S, allowed / 10, now)
            self._buckets[host] = b
        elif now > b.updated:
            b.tokens = min(b.capacity, b.tokens + (now - b.updated) * b.rate)
            b.updated = now
        return b

    def _keep(self, b: _Bucket, priority: bool) -> float:
        return 0.0 if priority else b.capacity * PRIORITY_SHARE

    def reserve(self, host: str, cost: float = 1.0, *, priority: bool = False) -> float:
        """Take ``cost`` requests from the host's budget and return 0, or take nothing and
        return how many seconds to wait before asking again. Routine requests leave a
        small part of the budget to ``priority`` ones."""
        b = self._bucket(host)
        now = self.clock.now()
        if b.closed_until > now:
            b.throttled += 1
            return b.closed_until - now
        keep = self._keep(b, priority)
        if b.tokens - cost >= keep:
            b.tokens -= cost
            b.used += int(cost)
            if self.keep_history:
                b.history.extend([now] * int(cost))
            return 0.0
        b.throttled += 1
        return (cost + keep - b.tokens) / b.rate

    def slot(self, host: str, cost: float = 1.0) -> float:
        """Seconds until a deferred routine request may go: deferred requests get
        successive slots at the host's rate instead of all coming back at once."""
        b = self._bucket(host)
        now = self.clock.now()
        need = max(0.0, (cost + self._keep(b, False) - b.tokens) / b.rate)
        start = max(b.queued_until, now + need, b.closed_until)
        b.queued_until = start + cost / b.rate
        return start - now

    def refund(self, host: str, cost: float) -> None:
        b = self._bucket(host)
        b.tokens = min(b.capacity, b.tokens + cost)

    def charge(self, host: str, cost: float) -> None:
        """Requests that went out beyond what was reserved (the budget may go negative)."""
        b = self._bucket(host)
        b.tokens -= cost
        b.used += int(cost)
        if self.keep_history:
            b.history.extend([self.clock.now()] * int(cost))

    def close(self, host: str, retry_after: float | None) -> float:
        """The host answered 429: send nothing to it until Retry-After has passed."""
        b = self._bucket(host)
        pause = retry_after if retry_after is not None else DEFAULT_429_PAUSE_S
        b.closed_until = max(b.closed_until, self.clock.now() + pause)
        b.tokens = min(b.tokens, 0.0)
        self.rate_limited[host] += 1
        return b.closed_until

    def stats(self) -> dict[str, dict[str, float]]:
        return {
            host: {
                "used": b.used,
                "throttled": b.throttled,
                "per_window": self.per_window(host),
                "rate_limited": self.rate_limited.get(host, 0),
            }
            for host, b in self._buckets.items()
        }

    def history(self, host: str) -> list[float]:
        b = self._buckets.get(host)
        return list(b.history) if b else []
