"""The cache and the one-fetch-per-thread rule hold across the bot processes that share one
database: each process here has its own database handle and unroller, as separate processes
would, and the upstream sees one fetch where one is enough."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from bot.http import HttpClient
from bot.sources import SourceRegistry
from bot.sources.bluesky import BlueskySource
from bot.unroller import Unroller
from storage.db import Database
from storage.threads_repo import ThreadRepo
from tests.conftest import Engine
from tests.fakes.bluesky_server import FakeBluesky
from tests.fakes.thread_builder import ThreadBuilder

THREAD = "/xrpc/app.bsky.feed.getPostThread"


@pytest.fixture
async def fake() -> AsyncIterator[FakeBluesky]:
    # Slow enough that the processes' requests overlap.
    async with FakeBluesky(latency_s=0.2) as server:
        yield server


async def _processes(
    engine: Engine, http: HttpClient, fake: FakeBluesky, n: int
) -> tuple[list[Database], list[Unroller]]:
    dbs = [await engine.open() for _ in range(n)]
    unrollers = [
        Unroller(SourceRegistry([BlueskySource(http, fake.base_url)]), ThreadRepo(db)) for db in dbs
    ]
    return dbs, unrollers


def _thread(fake: FakeBluesky, n: int = 8) -> str:
    b = ThreadBuilder()
    b.author("mira", handle="mira.example.com", name="Mira")
    keys = b.chain("mira", n)
    fake.add_thread(b.build())
    return fake.url(keys[0])


async def test_three_processes_asking_at_once_fetch_the_thread_once(
    engine: Engine, http: HttpClient, fake: FakeBluesky
) -> None:
    url = _thread(fake)
    dbs, unrollers = await _processes(engine, http, fake, 3)
    try:
        threads = await asyncio.gather(*(u.unroll(url) for u in unrollers))
        assert {len(t.posts) for t in threads} == {8}
        assert fake.count(THREAD) == 1
        assert sum(u.upstream_fetches for u in unrollers) == 1
        # A cached re-unroll from any process asks nothing.
        await unrollers[2].unroll(url)
        assert fake.count(THREAD) == 1
    finally:
        for db in dbs:
            await db.close()


async def test_refreshes_at_once_share_one_fetch_and_a_later_refresh_fetches_again(
    engine: Engine, http: HttpClient, fake: FakeBluesky
) -> None:
    url = _thread(fake)
    dbs, unrollers = await _processes(engine, http, fake, 2)
    try:
        await unrollers[0].unroll(url)
        assert fake.count(THREAD) == 1
        await asyncio.gather(*(u.unroll(url, refresh=True) for u in unrollers))
        # Both asked for a fresh copy while one fetch was under way: that one serves both.
        assert fake.count(THREAD) == 2
        await unrollers[1].unroll(url, refresh=True)
        assert fake.count(THREAD) == 3
    finally:
        for db in dbs:
            await db.close()
