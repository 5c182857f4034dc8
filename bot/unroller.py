"""The unroll service: link -> Thread, with the cache, one fetch for concurrent requests of
the same thread (within a process, and across the processes sharing one database), and
processor hooks through which features (thread links, content notes) apply what they know
to every unroll."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace

from bot.assemble import assemble
from bot.errors import NotFound, UpstreamUnavailable, UserError
from bot.http import BlockedAddress, HttpError, TransportError, transport_message
from bot.models import PostRef, Thread
from bot.sources import SourceRegistry
from bot.sources.base import Source
from storage.threads_repo import ThreadRepo

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class UnrollRequest:
    url: str
    refresh: bool = False
    # Settings scope of the room asking (None on the command line): policies apply per scope.
    scope: str | None = None
    # Thread roots already being unrolled in this request (continuations must not loop).
    chain: tuple[str, ...] = ()


# A processor takes the base thread and returns it with what its feature knows applied.
Processor = Callable[[Thread, UnrollRequest], Awaitable[Thread]]


class Unroller:
    def __init__(
        self,
        sources: SourceRegistry,
        repo: ThreadRepo,
        max_posts: int = 500,
        cache_ttl_s: float = 600,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.sources = sources
        self.repo = repo
        self.max_posts = max_posts
        self.cache_ttl_s = cache_ttl_s
        self.clock = clock
        self.processors: list[Processor] = []
        self._inflight: dict[str, asyncio.Future[Thread]] = {}
        self.upstream_fetches = 0

    def add_processor(self, processor: Processor) -> None:
        self.processors.append(processor)

    async def unroll(
        self,
        url: str,
        *,
        refresh: bool = False,
        scope: str | None = None,
        chain: tuple[str, ...] = (),
    ) -> Thread:
        request = UnrollRequest(url, refresh, scope, chain)
        thread = await self.base_thread(url, refresh=refresh)
        for processor in self.processors:
            thread = await processor(thread, request)
        return thread

    async def base_thread(self, url: str, *, refresh: bool = False) -> Thread:
        """The assembled thread, from the cache when fresh, else fetched once however many
        callers ask at the same time."""
        source, ref = self.sources.parse(url)
        if not refresh:
            thread = await self.repo.find_by_url(ref.url)
            if thread is not None and self.clock() - thread.fetched_at <= self.cache_ttl_s:
                return thread
        asked_at = self.clock()
        pending = self._inflight.get(ref.url)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[Thread] = asyncio.get_running_loop().create_future()
        self._inflight[ref.url] = future
        try:
            thread = await self._fetch_once(source, ref, refresh, asked_at)
        except BaseException as exc:
            if not future.done():
                future.set_exception(exc)
                future.exception()  # mark retrieved: waiters re-raise it themselves
            raise
        else:
            future.set_result(thread)
            return thread
        finally:
            self._inflight.pop(ref.url, None)

    async def _fetch_once(
        self, source: Source, ref: PostRef, refresh: bool, asked_at: float
    ) -> Thread:
        """Fetch under a lock on the thread's URL shared by every process on the database:
        a process that waited for another's fetch takes its result from the cache instead
        of asking upstream again (after ``refresh`` too, when that fetch began after we
        asked)."""
        async with self.repo.db.hold(f"fetch:{ref.url}"):
            cached = await self.repo.find_by_url(ref.url)
            if cached is not None:
                age = self.clock() - cached.fetched_at
                if cached.fetched_at >= asked_at or (not refresh and age <= self.cache_ttl_s):
                    return cached
            return await self._fetch(source, ref)

    async def _fetch(self, source: Source, ref: PostRef) -> Thread:
        self.upstream_fetches += 1
        try:
            fetched = await source.fetch(ref, self.max_posts)
        except UserError:
            raise
        except BlockedAddress as exc:
            raise UpstreamUnavailable(f"That address is not allowed: {exc}") from None
        except HttpError as exc:
            if exc.status == 404:
                raise NotFound("That post was not found.") from None
            raise UpstreamUnavailable(
                f"{ref.source} answered with HTTP {exc.status}; try again later."
            ) from None
        except TransportError as exc:
            raise UpstreamUnavailable(transport_message(exc, ref.source)) from None
        thread = assemble(fetched, self.max_posts)
        thread = replace(thread, fetched_at=self.clock())
        await self.repo.save(thread, {ref.url: fetched.anchor_id})
        return thread
