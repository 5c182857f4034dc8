"""The whole bot in one process: dispatcher, unroll cog, unroller, delivery, storage, against
the local fake Bluesky, through the in-memory adapter."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from bot.adapters.memory import MemoryAdapter
from bot.app import App
from bot.config import Config, NetworkConfig, UnrollConfig
from bot.http import HttpClient, HttpSettings
from bot.sources.bluesky import BlueskySource
from tests.conftest import Engine
from tests.fakes.bluesky_server import FakeBluesky
from tests.fakes.thread_builder import ThreadBuilder


@pytest.fixture
async def bsky() -> AsyncIterator[FakeBluesky]:
    async with FakeBluesky(latency_s=0.01) as server:
        yield server


@pytest.fixture
async def app(engine: Engine, bsky: FakeBluesky) -> AsyncIterator[App]:
    config = Config(
        storage=engine.storage(),
        network=NetworkConfig(allow_private_addresses=True, retries=1),
        unroll=UnrollConfig(max_posts=500, cache_ttl_s=600),
    )
    http = HttpClient(HttpSettings(allow_private_addresses=True, retries=1, backoff_base_s=0.01))
    application = await App.create(
        config, sources=[BlueskySource(http, bsky.base_url)], extensions=[]
    )
    # These tests pin one chat message per post: the per-post layout, chosen explicitly.
    application.layouts.default = "per-post"
    yield application
    await application.close()
    await http.close()


def _chain(bsky: FakeBluesky, n: int) -> list[str]:
    b = ThreadBuilder()
    alice = b.author("alice")
    keys = b.chain(alice, n)
    bsky.add_thread(b.build())
    return keys


async def test_unroll_posts_header_then_posts_in_a_chat_thread(app: App, bsky: FakeBluesky) -> None:
    keys = _chain(bsky, 25)
    chat = MemoryAdapter(app.dispatcher)
    await chat.command(f"unroll {bsky.url(keys[10])}")
    header = chat.sent[0]
    assert header.thread is None and "25 posts" in header.text
    in_thread = [s for s in chat.sent[1:]]
    assert all(s.thread == "tm1" for s in in_thread)
    # The author numbered the posts ("Part 3/25"): the bot adds no number of its own.
    assert [s.text for s in in_thread] == [f"Part {i}/25" for i in range(1, 26)]
    assert chat.threads["tm1"].startswith("@alice")
    assert chat.progress and chat.progress[0].startswith("Fetching")
    assert chat.replies[-1].text.startswith("Unrolled 25 posts")


async def test_same_thread_again_in_the_same_channel_links_instead_of_reposting(
    app: App, bsky: FakeBluesky
) -> None:
    keys = _chain(bsky, 5)
    chat = MemoryAdapter(app.dispatcher)
    await chat.command(f"unroll {bsky.url(keys[0])}")
    sent = len(chat.sent)
    requests = bsky.count()
    ctx = await chat.command(f"unroll {bsky.url(keys[4])}")
    assert len(chat.sent) == sent
    assert "already unrolled here" in ctx.replies[-1].text
    assert "memory://channel-1/tm1" in ctx.replies[-1].text
    assert bsky.count() == requests  # and nothing was fetched again
    # Another channel gets its own copy, still from the cache.
    from bot.context import Room

    await chat.command(f"unroll {bsky.url(keys[0])}", room=Room("memory", "scope-1", "channel-2"))
    assert len(chat.sent) == 2 * sent
    assert bsky.count() == requests


async def test_concurrent_unrolls_of_one_thread_fetch_once(app: App, bsky: FakeBluesky) -> None:
    keys = _chain(bsky, 8)
    threads = await asyncio.gather(*(app.unroller.unroll(bsky.url(keys[3])) for _ in range(5)))
    assert {t.root_id for t in threads} == {threads[0].root_id}
    assert app.unroller.upstream_fetches == 1
    # Afterwards every other post of the thread is served from the cache.
    await asyncio.gather(*(app.unroller.unroll(bsky.url(k)) for k in keys))
    assert app.unroller.upstream_fetches == 1


async def test_errors_are_private_short_replies(app: App, bsky: FakeBluesky) -> None:
    chat = MemoryAdapter(app.dispatcher)
    ctx = await chat.command("unroll https://example.com/article")
    assert ctx.replies[-1].private and "Unsupported link" in ctx.replies[-1].text
    ctx = await chat.command("unroll")
    assert "Missing url" in ctx.replies[-1].text
    _chain(bsky, 1)
    ctx = await chat.command("unroll https://bsky.app/profile/nobody.test/post/3kzzzzzzzzzz2")
    assert ctx.replies[-1].private and "no bluesky account" in ctx.replies[-1].text.lower()
    ctx = await chat.command("unroll https://bsky.app/profile/alice.example.com/post/3kzzzzzzzzzz2")
    assert ctx.replies[-1].private and "does not exist" in ctx.replies[-1].text
    assert chat.sent == []


async def test_private_unroll_answers_only_the_caller(app: App, bsky: FakeBluesky) -> None:
    keys = _chain(bsky, 3)
    chat = MemoryAdapter(app.dispatcher)
    ctx = await chat.command(f"unroll {bsky.url(keys[0])} private:true")
    assert chat.sent == []
    assert len(ctx.replies) == 4 and all(r.private for r in ctx.replies)


async def test_cache_expires_after_the_ttl(app: App, bsky: FakeBluesky) -> None:
    keys = _chain(bsky, 3)
    now = [1000.0]
    app.unroller.clock = lambda: now[0]
    await app.unroller.unroll(bsky.url(keys[0]))
    await app.unroller.unroll(bsky.url(keys[0]))
    assert app.unroller.upstream_fetches == 1
    now[0] += 601
    await app.unroller.unroll(bsky.url(keys[0]))
    assert app.unroller.upstream_fetches == 2


async def test_help_lists_commands_for_the_caller(app: App) -> None:
    chat = MemoryAdapter(app.dispatcher)
    ctx = await chat.command("help")
    assert "/unroll <url>" in ctx.replies[-1].text
    ctx = await chat.command("help unroll")
    assert "Examples" in ctx.replies[-1].text


async def test_delivery_resumes_after_a_failure_without_repeating(
    app: App, bsky: FakeBluesky
) -> None:
    keys = _chain(bsky, 6)

    class Flaky(MemoryAdapter):
        fail_at = 4

        async def send(self, room, message, *, thread=None, key=None):  # type: ignore[no-untyped-def]
            if len(self.sent) == self.fail_at:
                self.fail_at = -1
                raise ConnectionError("platform went away")
            return await super().send(room, message, thread=thread, key=key)

    chat = Flaky(app.dispatcher)
    ctx = await chat.command(f"unroll {bsky.url(keys[0])}")
    assert "Sorry" in ctx.replies[-1].text
    pending = await app.deliveries.pending("memory")
    assert len(pending) == 1
    thread = await app.unroller.unroll(bsky.url(keys[0]))
    from bot.render.thread_view import thread_messages

    messages = thread_messages(thread)
    await app.deliverer.resume(chat, ctx.room, pending[0].id, messages, "name")
    texts = [s.text for s in chat.sent[1:]]
    assert texts == [f"Part {i}/6" for i in range(1, 7)]  # each post exactly once, in order
    assert await app.deliveries.pending("memory") == []


async def test_two_simultaneous_unrolls_in_one_channel_post_once(
    app: App, bsky: FakeBluesky
) -> None:
    keys = _chain(bsky, 4)
    chat = MemoryAdapter(app.dispatcher)
    first, second = await asyncio.gather(
        chat.command(f"unroll {bsky.url(keys[0])}"), chat.command(f"unroll {bsky.url(keys[0])}")
    )
    headers = [s for s in chat.sent if s.thread is None]
    assert len(headers) == 1
    texts = [r.text for r in first.replies + second.replies]
    assert any("already unrolled here" in t for t in texts)


async def test_restart_resumes_an_interrupted_delivery(app: App, bsky: FakeBluesky) -> None:
    keys = _chain(bsky, 5)

    class Dying(MemoryAdapter):
        async def send(self, room, message, *, thread=None, key=None):  # type: ignore[no-untyped-def]
            if len(self.sent) == 3:
                raise ConnectionError("process killed")
            return await super().send(room, message, thread=thread, key=key)

    dying = Dying(app.dispatcher)
    await dying.command(f"unroll {bsky.url(keys[0])}")
    # A new adapter instance after the restart, sharing what the platform already shows.
    revived = MemoryAdapter(app.dispatcher)
    revived.sent = list(dying.sent)
    revived.threads = dict(dying.threads)
    assert await app.resume_pending(revived) == 1
    texts = [s.text for s in revived.sent if s.thread]
    assert texts == [f"Part {i}/5" for i in range(1, 6)]
    assert await app.resume_pending(revived) == 0
