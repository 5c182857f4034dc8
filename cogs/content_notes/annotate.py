"""Applying notes to a Thread: author warnings mapped, auto notes detected per post, and
moderator warnings, merged into thread-level ``content_notes`` and per-post
``post_notes`` (every post that carries a note, so a renderer can shield just those)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace

from bot.models import ContentNote, Post, Thread
from cogs.content_notes.author_warnings import map_author_notes, map_warning, prefix_warning
from cogs.content_notes.categories import ORDER, ORIGIN_ORDER
from cogs.content_notes.classifier import MAX_REASON_WORDS, Classifier
from cogs.content_notes.normalize import normalise_phrase

# A thread whose every post has its own warning must not get a paragraph-long label.
MAX_AUTHOR_REASONS = 3


def post_text(post: Post) -> str:
    """Everything of a post a reader sees: text, alt texts, the quote, the link card."""
    parts = [post.text]
    parts.extend(m.alt for m in post.media if m.alt)
    if post.quote is not None and not post.quote.hidden_reason:
        parts.append(post.quote.text)
    if post.card is not None:
        parts.extend((post.card.title, post.card.description))
    return "\n".join(p for p in parts if p)


def _merge_auto_reasons(reasons: Iterable[str]) -> str:
    words: list[str] = []
    keys: set[tuple[str, ...]] = set()
    for reason in reasons:
        for word in reason.split(", "):
            if word.startswith("(+"):
                continue
            key = normalise_phrase(word)
            if key not in keys:
                keys.add(key)
                words.append(word)
    shown = words[:MAX_REASON_WORDS]
    more = len(words) - len(shown)
    return ", ".join(shown) + (f" (+{more} more)" if more else "")


def merge_notes(notes: Iterable[ContentNote]) -> tuple[ContentNote, ...]:
    """One note per category (two for "other" only when the reasons differ): the most
    deliberate origin wins; reasons of that origin are combined."""
    by_cat: dict[str, list[ContentNote]] = {}
    for n in notes:
        by_cat.setdefault(n.category, []).append(n)
    out: list[ContentNote] = []
    for cat in sorted(by_cat, key=lambda c: ORDER.get(c, 99)):
        group = by_cat[cat]
        best = min(ORIGIN_ORDER[n.origin] for n in group)
        top = [n for n in group if ORIGIN_ORDER[n.origin] == best]
        origin = top[0].origin
        if origin == "auto":
            out.append(ContentNote(cat, origin, _merge_auto_reasons(n.reason for n in top)))
            continue
        reasons: list[str] = []
        for n in top:
            if n.reason and n.reason not in reasons:
                reasons.append(n.reason)
        shown = "; ".join(reasons[:MAX_AUTHOR_REASONS])
        if len(reasons) > MAX_AUTHOR_REASONS:
            shown += f" (+{len(reasons) - MAX_AUTHOR_REASONS} more)"
        out.append(ContentNote(cat, origin, shown))
    return tuple(out)


def text_notes(text: str, classifier: Classifier) -> tuple[ContentNote, ...]:
    """Notes for a bare text: a "CW:"/"TW:" opening line as the author's warning, plus
    auto detection."""
    notes: list[ContentNote] = []
    written = prefix_warning(text)
    if written:
        notes.extend(map_warning(written, classifier))
    notes.extend(classifier.classify(text))
    return merge_notes(notes)


def post_notes(post: Post, classifier: Classifier) -> tuple[ContentNote, ...]:
    notes = list(map_author_notes(post.content_notes, classifier))
    written = prefix_warning(post.text)
    if written:
        notes.extend(map_warning(written, classifier))
    notes.extend(classifier.classify(post_text(post)))
    return merge_notes(notes)


def annotate(
    thread: Thread,
    classifier: Classifier,
    moderator_notes: Sequence[ContentNote] = (),
) -> Thread:
    """The thread with every note applied (pure; the cog looks up moderator notes)."""
    per_post: list[tuple[str, tuple[ContentNote, ...]]] = []
    for post in thread.all_posts:
        if post.status != "ok" and post.status != "moved_in":
            continue
        notes = post_notes(post, classifier)
        if notes:
            per_post.append((post.id, notes))
    kept = [n for n in thread.content_notes if n.origin == "moderator"]
    everything = [*kept, *moderator_notes, *(n for _, ns in per_post for n in ns)]
    return replace(thread, content_notes=merge_notes(everything), post_notes=tuple(per_post))
