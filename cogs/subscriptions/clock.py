"""Time for the subscriptions feature: the system clock in production, a manual clock in
tests and benchmarks so minutes of polling pass in milliseconds."""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def now(self) -> float:
        return time.time()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))


class ManualClock:
    """Time moves only when ``advance`` is called; sleepers wake when their time comes."""

    def __init__(self, start: float = 1_780_000_000.0) -> None:
        self._now = start
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._seq = itertools.count()

    def now(self) -> float:
        return self._now

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self._now + seconds, next(self._seq), fut))
        await fut

    def next_wake(self) -> float | None:
        while self._sleepers and self._sleepers[0][2].done():
            heapq.heappop(self._sleepers)
        return self._sleepers[0][0] if self._sleepers else None

    async def sleepers(self, timeout_s: float = 5.0) -> None:
        """Wait (in real time) until some task sleeps on this clock: a background loop that
        was woken has finished its work, including real I/O, and waits again."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while self.next_wake() is None or self.next_wake() <= self._now:  # type: ignore[operator]
            if loop.time() > deadline:
                raise TimeoutError("nothing sleeps on the manual clock")
            await asyncio.sleep(0.005)

    async def advance(self, seconds: float) -> None:
        """Move time forward, waking each sleeper at its own time in order."""
        target = self._now + seconds
        while True:
            wake = self.next_wake()
            if wake is None or wake > target:
                break
            self._now = max(self._now, wake)
            _, _, fut = heapq.heappop(self._sleepers)
            if not fut.done():
                fut.set_result(None)
            # Let the woken task run up to its next await.
            for _ in range(5):
                await asyncio.sleep(0)
        self._now = target
        for _ in range(5):
            await asyncio.sleep(0)
