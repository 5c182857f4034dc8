"""The chat thread's title (Discord shows it in the channel list and thread header, where
no spoiler can cover it): post 1's text only when it carries no content note, else the
author and the post count."""

from __future__ import annotations

from bot.models import Thread
from bot.render.post_count import post_count
from bot.render.thread_view import effective_notes

MAX_TITLE = 100  # Discord's limit for thread names


def thread_name(thread: Thread) -> str:
    text = _first_text(thread)
    if not text:
        return _fit(f"Thread by @{thread.author.handle} · {post_count(thread)}")
    return _fit(f"@{thread.author.handle}: {text}")


def title_counts_posts(thread: Thread) -> bool:
    """Whether the title is the author-and-count form, which goes stale as posts are added."""
    return not _first_text(thread)


def _first_text(thread: Thread) -> str:
    """Post 1's text as the title may show it ("" when it may not, or has none)."""
    first = next((p for p in thread.posts if p.status in ("ok", "moved_in")), None)
    if first is None or effective_notes(thread, first):
        return ""
    return " ".join(first.text.split())


def _fit(name: str) -> str:
    return name if len(name) <= MAX_TITLE else name[: MAX_TITLE - 1] + "…"
