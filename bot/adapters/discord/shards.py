"""Discord sharding across processes: which shards this process runs, which process syncs the
commands, how fast shards may identify, and what Discord's refusals of a shard setting mean.

Discord sends a server's events to shard ``(guild_id >> 22) % shard_count`` and direct
messages to shard 0. Every process of one bot uses the same shard count and runs its own
shards; the process running shard 0 also registers the commands (they belong to the
application, not to a shard), so they are synced once however many processes start.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

# Gateway close codes Discord uses for a shard setting it refuses.
INVALID_SHARD = 4010
SHARDING_REQUIRED = 4011
# Discord lets each identify bucket (shard id % max_concurrency) start one session per 5 s.
IDENTIFY_WINDOW_S = 5.0


@dataclass(frozen=True)
class ShardPlan:
    """``count`` 0: not sharded (one connection for everything); else the total number of
    shards over all processes and the ones this process runs (``ids`` empty: all)."""

    count: int = 0
    ids: tuple[int, ...] = ()

    @property
    def sharded(self) -> bool:
        return self.count > 0

    @property
    def runs(self) -> tuple[int, ...]:
        """The shards this process connects (shard 0 of 1 when not sharded)."""
        if not self.sharded:
            return (0,)
        return self.ids or tuple(range(self.count))

    @property
    def syncs_commands(self) -> bool:
        return 0 in self.runs

    def describe(self) -> str:
        if not self.sharded:
            return "not sharded"
        word = "shard" if len(self.runs) == 1 else "shards"
        return f"{word} {', '.join(map(str, self.runs))} of {self.count}"


def explain_close(code: int, plan: ShardPlan, recommended: int | None) -> str | None:
    """What to set when Discord closed the gateway over the shard setting; None otherwise."""
    hint = f" (Discord recommends {recommended})" if recommended else ""
    if code == SHARDING_REQUIRED:
        return (
            "Discord requires sharding: the bot is in too many servers for "
            f"{'one connection' if not plan.sharded else f'{plan.count} shards'} "
            "(gateway close 4011). Set [discord] shard_count to the total number of shards"
            f"{hint}, the same in every process, and give each process its shard_ids."
        )
    if code == INVALID_SHARD:
        return (
            f"Discord refused the shard setting ({plan.describe()}) as invalid (gateway close "
            "4010). Each id in [discord] shard_ids must be below shard_count, and every "
            f"process of the bot must use the same shard_count{hint}."
        )
    return None


class IdentifyPacer:
    """Spaces this process's IDENTIFYs as Discord asks: shards in the same bucket
    (``shard_id % max_concurrency``) start at most one session per window."""

    def __init__(self, max_concurrency: int = 1, window_s: float | None = None) -> None:
        self.max_concurrency = max(1, max_concurrency)
        self.window_s = IDENTIFY_WINDOW_S if window_s is None else window_s
        self._last: dict[int, float] = {}
        self._locks: dict[int, asyncio.Lock] = {}

    async def wait(self, shard_id: int) -> None:
        bucket = shard_id % self.max_concurrency
        lock = self._locks.setdefault(bucket, asyncio.Lock())
        async with lock:
            last = self._last.get(bucket)
            if last is not None:
                delay = last + self.window_s - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
            self._last[bucket] = time.monotonic()


__all__ = [
    "IDENTIFY_WINDOW_S",
    "INVALID_SHARD",
    "SHARDING_REQUIRED",
    "IdentifyPacer",
    "ShardPlan",
    "explain_close",
]
