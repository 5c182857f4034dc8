"""Per-host request budgets for polling (each site states its own, ``bot.sources.polling``;
a server's own is the usual 300 requests per 5 minutes per IP address). Polls take only
part of each budget so users' own unrolls through the same address still fit, and a 429
closes the host until its Retry-After has passed.

A budget is a token bucket kept in a ``BudgetStore``: in the database (``host_budgets``,
one row per host) every bot process on it draws from the same bucket, refilled and taken
in one transaction with the row locked, and a 429 closes the host for all of them. Times
come from the caller's clock, never the database's, so test clocks work."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

from cogs.subscriptions.clock import Clock
from storage.db import Database

WINDOW_S = 300.0
DEFAULT_PER_WINDOW = 300
# The share of a host's budget polling may use.
POLL_SHARE = 0.8
# The part of the budget routine polls leave free for settling threads and new
# subscriptions, so a busy host does not delay a finished thread behind routine polls.
PRIORITY_SHARE = 0.1
# The smallest bucket, so a request still fits under a tiny budget (tests).
MIN_BUCKET = 2.0
# Without Retry-After, a 429 closes the host for this long.
DEFAULT_429_PAUSE_S = 60.0

T = TypeVar("T")


@dataclass
class Bucket:
    """One host's shared budget."""

    tokens: float  # requests that may go now
    updated: float  # when tokens was last refilled
    closed_until: float = 0.0  # after a 429: nothing goes before this
    queued_until: float = 0.0  # the last slot handed to a deferred request


class BudgetStore(Protocol):
    async def update(self, host: str, fresh: Bucket, change: Callable[[Bucket], T]) -> T:
        """Apply ``change`` to the host's bucket (``fresh`` if it has none yet) atomically:
        no other change to that bucket runs in between, in any process."""
        ...


class MemoryBudgets:
    """Budgets of this process alone (tests, tools)."""

    def __init__(self) -> None:
        self.buckets: dict[str, Bucket] = {}

    async def update(self, host: str, fresh: Bucket, change: Callable[[Bucket], T]) -> T:
        return change(self.buckets.setdefault(host, fresh))


class DatabaseBudgets:
    """Budgets shared by every process on the database: one ``host_budgets`` row per host,
    read, changed and written back in one transaction with the row locked (PostgreSQL
    ``FOR UPDATE``; SQLite serialises writers)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def update(self, host: str, fresh: Bucket, change: Callable[[Bucket], T]) -> T:
        lock = " FOR UPDATE" if self.db.dialect == "postgresql" else ""
        select = (
            "SELECT tokens, updated_at, closed_until, queued_until FROM host_budgets"
            f" WHERE host = ?{lock}"
        )
        async with self.db.transaction() as conn:
            row = await conn.fetchone(select, (host,))
            if row is None:
                # The host's first request: whoever inserts first creates the bucket, the
                # others find it (and wait for its lock) on the second read.
                await conn.execute(
                    "INSERT INTO host_budgets (host, tokens, updated_at, closed_until,"
                    " queued_until) VALUES (?, ?, ?, ?, ?) ON CONFLICT (host) DO NOTHING",
                    (host, fresh.tokens, fresh.updated, fresh.closed_until, fresh.queued_until),
                )
                row = await conn.fetchone(select, (host,))
            assert row is not None
            bucket = Bucket(float(row[0]), float(row[1]), float(row[2]), float(row[3]))
            result = change(bucket)
            await conn.execute(
                "UPDATE host_budgets SET tokens = ?, updated_at = ?, closed_until = ?,"
                " queued_until = ? WHERE host = ?",
                (bucket.tokens, bucket.updated, bucket.closed_until, bucket.queued_until, host),
            )
        return result


@dataclass
class _Stats:
    """What this process did with a host's budget."""

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
        store: BudgetStore | None = None,
    ) -> None:
        self.clock = clock
        self.limits = dict(limits or {})
        self.default_per_window = default_per_window
        self.share = share
        self.keep_history = keep_history
        self.store: BudgetStore = store or MemoryBudgets()
        self._stats: dict[str, _Stats] = {}
        self.rate_limited: defaultdict[str, int] = defaultdict(int)

    def per_window(self, host: str) -> int:
        return self.limits.get(host, self.default_per_window)

    def _capacity(self, host: str) -> tuple[float, float]:
        """(bucket size, tokens per second) of the host's polling share. The bucket holds
        only the part of the budget the share leaves over: a full bucket spent at once
        plus a window's refill must still fit in one window of the host's budget."""
        per_window = self.per_window(host)
        allowed = per_window * self.share
        return max(per_window - allowed, MIN_BUCKET), allowed / WINDOW_S

    def _fresh(self, host: str, now: float) -> Bucket:
        # Start nearly empty: a restart must not add a burst on top of what the last
        # process sent in the same window.
        return Bucket(self._capacity(host)[0] / 10, now)

    async def _update(self, host: str, change: Callable[[Bucket, float, float], T]) -> T:
        """Refill the host's bucket to now, then apply ``change(bucket, size, rate)``."""
        now = self.clock.now()
        capacity, rate = self._capacity(host)

        def refill_then_change(b: Bucket) -> T:
            # Another process's clock may run a little ahead: never refill backwards.
            if now > b.updated:
                b.tokens = min(capacity, b.tokens + (now - b.updated) * rate)
                b.updated = now
            return change(b, capacity, rate)

        return await self.store.update(host, self._fresh(host, now), refill_then_change)

    def _stat(self, host: str) -> _Stats:
        return self._stats.setdefault(host, _Stats())

    def _used(self, host: str, cost: float) -> None:
        st = self._stat(host)
        st.used += int(cost)
        if self.keep_history:
            st.history.extend([self.clock.now()] * int(cost))

    @staticmethod
    def _keep(capacity: float, priority: bool) -> float:
        return 0.0 if priority else capacity * PRIORITY_SHARE

    async def reserve(self, host: str, cost: float = 1.0, *, priority: bool = False) -> float:
        """Take ``cost`` requests from the host's budget and return 0, or take nothing and
        return how many seconds to wait before asking again. Routine requests leave a
        small part of the budget to ``priority`` ones."""
        now = self.clock.now()

        def take(b: Bucket, capacity: float, rate: float) -> float:
            if b.closed_until > now:
                return b.closed_until - now
            keep = self._keep(capacity, priority)
            if b.tokens - cost >= keep:
                b.tokens -= cost
                return 0.0
            return (cost + keep - b.tokens) / rate

        wait = await self._update(host, take)
        if wait > 0:
            self._stat(host).throttled += 1
        else:
            self._used(host, cost)
        return wait

    async def slot(self, host: str, cost: float = 1.0) -> float:
        """Seconds until a deferred routine request may go: deferred requests (of every
        process) get successive slots at the host's rate instead of all coming back at
        once."""
        now = self.clock.now()

        def queue(b: Bucket, capacity: float, rate: float) -> float:
            need = max(0.0, (cost + self._keep(capacity, False) - b.tokens) / rate)
            start = max(b.queued_until, now + need, b.closed_until)
            b.queued_until = start + cost / rate
            return start - now

        return await self._update(host, queue)

    async def refund(self, host: str, cost: float) -> None:
        def give_back(b: Bucket, capacity: float, rate: float) -> None:
            b.tokens = min(capacity, b.tokens + cost)

        await self._update(host, give_back)

    async def charge(self, host: str, cost: float) -> None:
        """Requests that went out beyond what was reserved (the budget may go negative)."""

        def spend(b: Bucket, capacity: float, rate: float) -> None:
            b.tokens -= cost

        await self._update(host, spend)
        self._used(host, cost)

    async def close(self, host: str, retry_after: float | None) -> float:
        """The host answered 429: no process sends to it until Retry-After has passed."""
        pause = retry_after if retry_after is not None else DEFAULT_429_PAUSE_S
        until = self.clock.now() + pause

        def shut(b: Bucket, capacity: float, rate: float) -> float:
            b.closed_until = max(b.closed_until, until)
            b.tokens = min(b.tokens, 0.0)
            return b.closed_until

        closed = await self._update(host, shut)
        self.rate_limited[host] += 1
        return closed

    def stats(self) -> dict[str, dict[str, float]]:
        """This process's use of each host's budget."""
        return {
            host: {
                "used": st.used,
                "throttled": st.throttled,
                "per_window": self.per_window(host),
                "rate_limited": self.rate_limited.get(host, 0),
            }
            for host, st in self._stats.items()
        }

    def history(self, host: str) -> list[float]:
        st = self._stats.get(host)
        return list(st.history) if st else []
