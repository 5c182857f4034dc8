"""One process holds the Matrix session: the holder of the account's session lock (a
PostgreSQL advisory lock when several bot processes share one database) logs in, syncs and
sends; every other process stands by, syncing and sending nothing, and takes over as soon as
the lock frees (the holder stopped, or was killed: the lock dies with its connection).

The account's state (sync token, device) lives in the database, so the process that takes
over continues on the same device from the saved sync token. A holder that loses the lock
(its database connection ended) or finds its state claimed by another process stops syncing
and sending at once and stands by again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable
from contextlib import AsyncExitStack
from typing import TypeVar

from bot.adapters.matrix.base import NAME, MatrixParts, MatrixSendError
from storage.db import Held

log = logging.getLogger(__name__)

T = TypeVar("T")


class MatrixHolding(MatrixParts):
    @property
    def live(self) -> bool:
        """This process runs the Matrix session now (logged in, and holding the session
        where several processes share the database): only then may anything send."""
        return self._live

    def _check_live(self) -> None:
        if not self._live:
            raise MatrixSendError(
                f"this process does not hold the Matrix session for {self.user_id} "
                "(standing by): not sent"
            )

    async def _take_session(self) -> bool:
        """Hold the account's session lock, standing by while another process has it.
        False when the adapter was stopped first."""
        assert self.sessions is not None
        told = False
        failures = 0
        while not self._stopping.is_set():
            stack = AsyncExitStack()
            try:
                held = await stack.enter_async_context(
                    self.sessions.session(NAME, self.user_id, wait=False)
                )
                if not held.acquired:
                    await stack.aclose()
                    if not told:
                        await self._say_standing_by()
                        told = True
                    self.standing_by = True
                    stack = AsyncExitStack()
                    waited = await self._unless_stopped(
                        stack.enter_async_context(
                            self.sessions.session(NAME, self.user_id, wait=True)
                        )
                    )
                    if waited is None:
                        await stack.aclose()
                        return False
                    held = waited
            except Exception as exc:
                await stack.aclose()
                failures += 1
                log.warning(
                    "matrix: cannot take the Matrix session lock for %s on the database, "
                    "will retry: %r",
                    self.user_id,
                    exc,
                )
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), self.backoff.delay(failures))
                continue
            if self._stopping.is_set():  # stopped just as the lock came
                await stack.aclose()
                return False
            self._session = stack
            self._lost.clear()
            self._halt.clear()
            self._watch = asyncio.create_task(self._watch_lock(held))
            if told or self.standing_by:
                log.warning(
                    "matrix: this process takes over the Matrix session for %s", self.user_id
                )
                self.takeovers += 1
            self.standing_by = False
            return True
        return False

    async def _say_standing_by(self) -> None:
        assert self.sessions is not None
        holder = ""
        with contextlib.suppress(Exception):  # only for the message
            row = await self.sessions.get(NAME, self.user_id)
            if row is not None and row.owner:
                holder = f" ({row.owner})"
        # A warning, so it shows without --verbose: this process sends nothing to Matrix.
        log.warning(
            "matrix: another unrollbot process%s holds the Matrix session for %s; standing by",
            holder,
            self.user_id,
        )

    async def _unless_stopped(self, step: Awaitable[T]) -> T | None:
        """``step``'s result, or None if the adapter is stopped first (``step`` cancelled)."""
        task = asyncio.ensure_future(step)
        stop = asyncio.ensure_future(self._stopping.wait())
        try:
            await asyncio.wait({task, stop}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stop.cancel()
        if not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
            return None
        return task.result()

    async def _watch_lock(self, held: Held) -> None:
        await held.lost.wait()
        self._lose("its connection to the database ended, so the session lock is gone")

    def _lose(self, why: str) -> None:
        """Stop syncing and sending at once: another process may hold the session now."""
        if self._lost.is_set() or self._stopping.is_set():
            return
        log.warning(
            "matrix: this process lost the Matrix session for %s (%s); it stops syncing and "
            "sending and stands by",
            self.user_id,
            why,
        )
        self._live = False
        self._lost.set()
        self._halt.set()
        self.connected.clear()

    def _taken_by_another(self) -> None:
        self._lose("another process has claimed its state")

    async def _stand_down(self) -> None:
        """After a loss: drop the commands in flight, the connection and the lock."""
        self._live = False  # also if the loss came while logging in
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=10)
        if self._ready_task is not None:
            self._ready_task.cancel()
            self._ready_task = None
        if self.client is not None:
            with contextlib.suppress(Exception):
                await self.client.close()
            self.client = None
        await self._release_session()
        # What was learned under the last session may be stale by the next one.
        self._auth.clear()
        self._to_join.clear()
        self._full_state_next = True
        self.standing_by = True

    async def _release_session(self) -> None:
        if self._watch is not None:
            self._watch.cancel()
            self._watch = None
        if self._session is not None:
            stack, self._session = self._session, None
            with contextlib.suppress(Exception):
                await stack.aclose()
