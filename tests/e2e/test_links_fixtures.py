"""Shared pieces for the thread-linking tests (no tests here): the seed thread and the two
earlier threads it links to, served by the local FxTwitter API, and an app wired to it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from bot.adapters.memory import MemoryAdapter
from bot.app import App
from bot.config import (
    BlueskyConfig,
    Config,
    MastodonConfig,
    NetworkConfig,
    SourcesConfig,
    StorageConfig,
    UnrollConfig,
    XConfig,
)
from bot.models import Thread
from bot.render import plain
from bot.render.thread_view import thread_messages
from tests.fakes.fxtwitter_server import FxTwitterFake, make_status, make_user, snowflake_at
from tests.fixtures import seed_thread as seed

AUTHOR = make_user(seed.AUTHOR_HANDLE, seed.AUTHOR_X_ID, seed.AUTHOR_NAME)
OTHER = make_user("someone_else", "777000111", "Someone Else")

SEED_IDS = [p["id"] for p in seed.POSTS]
NOTE_POST = SEED_IDS[9]  # "(Note this one tweet right above belonged in a different thread..."
MOVED_POST = SEED_IDS[8]  # "Incidentally before I even spoke to my therapist..."
CONTEXT_TARGET = "1338232404897656834"  # the earlier thread linked as context
BELONGS_TARGET = "1338275558916911104"  # "This is where it belonged <this link>"


def x_url(status_id: str, user: str = seed.AUTHOR_HANDLE) -> str:
    return f"https://x.com/{user}/status/{status_id}"


SEED_URL = x_url(SEED_IDS[0])
CONTEXT_URL = x_url(CONTEXT_TARGET)
TARGET_URL = x_url(BELONGS_TARGET)
# The thread the moved post belongs to: its first post, the linked post, one more after.
TARGET_ROOT = snowflake_at("2020-12-14T00:05:00Z")
TARGET_AFTER = snowflake_at("2020-12-14T00:20:00Z")


def chain(user: dict[str, Any], items: list[tuple[str, str]]) -> list[dict[str, Any]]:
    """A self-thread: (id, text) pairs, each replying to the one before."""
    out: list[dict[str, Any]] = []
    for i, (sid, text) in enumerate(items):
        last = i == len(items) - 1
        out.append(
            make_status(sid, user, text, parent=out[-1] if out else None, replies=0 if last else 1)
        )
    return out


def seed_statuses() -> list[dict[str, Any]]:
    return chain(AUTHOR, [(p["id"], p["text"]) for p in seed.POSTS])


def earlier_threads() -> list[dict[str, Any]]:
    context = chain(
        AUTHOR,
        [
            (CONTEXT_TARGET, "An earlier thread about how therapy went for me, 1/2"),
            (snowflake_at("2020-12-13T21:25:00Z"), "And what I learnt from it, 2/2"),
        ],
    )
    target = chain(
        AUTHOR,
        [
            (TARGET_ROOT, "A thread on preparing for a first therapy session"),
            (BELONGS_TARGET, "Writing things down beforehand helped me most"),
            (TARGET_AFTER, "That is all for now"),
        ],
    )
    return context + target


def config(db: Path | StorageConfig, api_url: str, max_posts: int = 500) -> Config:
    """``db``: a SQLite file, or a whole [storage] section (PostgreSQL)."""
    return Config(
        storage=db if isinstance(db, StorageConfig) else StorageConfig(path=str(db)),
        network=NetworkConfig(allow_private_addresses=True, retries=0, timeout_s=2.0),
        sources=SourcesConfig(
            bluesky=BlueskyConfig(enabled=False),
            mastodon=MastodonConfig(enabled=False),
            x=XConfig(api_url=api_url),
        ),
        unroll=UnrollConfig(max_posts=max_posts),
    )


@asynccontextmanager
async def seeded_fake() -> AsyncIterator[FxTwitterFake]:
    async with FxTwitterFake() as fake:
        assert isinstance(fake, FxTwitterFake)
        fake.add(*seed_statuses(), *earlier_threads())
        yield fake


@asynccontextmanager
async def open_app(db: Path | StorageConfig, fake: FxTwitterFake, **kw: Any) -> AsyncIterator[App]:
    app = await App.create(config(db, fake.base_url, **kw), extensions=["cogs.links"])
    try:
        yield app
    finally:
        await app.close()


def rendered(thread: Thread) -> str:
    return "\n\n".join(plain.message_text(m, reveal=True) for m in thread_messages(thread))


async def mod(adapter: MemoryAdapter, text: str) -> str:
    """Run a command as a moderator; its replies as one text."""
    ctx = await adapter.command(text, user="mo", moderator=True)
    return "\n".join(r.text for r in ctx.replies)
