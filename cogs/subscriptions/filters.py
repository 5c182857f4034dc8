"""Per-subscription filters: a minimum thread length and keyword include/exclude lists.
Words match whole words (or phrases) case-insensitively in the thread's text, link-card
titles and media descriptions."""

from __future__ import annotations

import re
from collections.abc import Iterable

from bot.errors import UsageError
from bot.models import Thread
from cogs.subscriptions.model import Filters

MAX_WORDS = 20
MAX_WORD_LENGTH = 100


def parse_words(raw: str | None, option: str) -> tuple[str, ...]:
    """``include:cats,dogs`` -> ("cats", "dogs"). Quotes allow phrases with spaces."""
    if raw is None or not raw.strip():
        return ()
    words = []
    for part in raw.split(","):
        word = " ".join(part.split()).casefold()
        if not word:
            continue
        if len(word) > MAX_WORD_LENGTH:
            raise UsageError(
                f"{option}: {word[:20]!r}… is longer than {MAX_WORD_LENGTH} characters"
            )
        if word not in words:
            words.append(word)
    if len(words) > MAX_WORDS:
        raise UsageError(f"{option}: at most {MAX_WORDS} words")
    return tuple(words)


def _pattern(word: str) -> re.Pattern[str]:
    # Whole-word match that also works for words starting/ending with symbols (#tags).
    return re.compile(r"(?<!\w)" + re.escape(word) + r"(?!\w)")


def thread_text(thread: Thread) -> str:
    parts: list[str] = []
    for post in thread.all_posts:
        parts.append(post.text)
        if post.card is not None:
            parts.append(post.card.title)
        parts.extend(m.alt for m in post.media)
    return "\n".join(parts).casefold()


def _any_in(words: Iterable[str], text: str) -> str | None:
    return next((w for w in words if _pattern(w).search(text)), None)


def rejection(filters: Filters, thread: Thread) -> str | None:
    """Why the thread is not posted for these filters, or None to post it."""
    count = len(thread.all_posts)
    if count < filters.min_posts:
        return f"{count} post{'s' if count != 1 else ''}, fewer than min_posts {filters.min_posts}"
    if not filters.include and not filters.exclude:
        return None
    text = thread_text(thread)
    if filters.include and _any_in(filters.include, text) is None:
        return "none of the include words"
    hit = _any_in(filters.exclude, text)
    if hit is not None:
        return f"contains the excluded word {hit!r}"
    return None
