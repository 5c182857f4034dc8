"""The packed layout: consecutive posts share a chat message up to the platform's limit.

Works on the per-post Messages the thread view produces. Each post keeps its number, now a
link to the post, and its own note lines and spoiler (a warned post is its own spoiler
segment inside the packed message); media and quotes are blocks of their post, so they
stay with it. A post longer than one chat message is packed alone and split by the
adapter's renderer. Sizes are measured with the adapter's own renderer, chosen by its
capabilities, so a pack always fits the message it goes into.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace

from bot.models import Thread
from bot.render import html, markdown, plain
from bot.render.document import Block, Capabilities, Inline, Message


@dataclass(frozen=True)
class Measure:
    """Rendered chunk sizes of one Message, the size a packed chat message may reach, and
    what joining two posts costs."""

    sizes: Callable[[Message], list[int]]
    limit: int
    join: int = 2


def measure_for(capabilities: Capabilities) -> Measure:
    limit = capabilities.max_length
    if capabilities.markup == "markdown":
        return Measure(lambda m: [len(c) for c in markdown.chunks(m, limit)], limit)
    if capabilities.markup == "html":
        return Measure(
            lambda m: [html.pack_size(c) for c in html.render(m, limit)], html.PACK_LIMIT
        )
    return Measure(lambda m: [len(c) for c in plain.chunks(m, limit)], limit)


def item_key(message: Message, index: int) -> str:
    """What the outbox records for an item: its post id, or its place for a notice."""
    return message.post_id or f"~{index}"


def keyed(messages: Sequence[Message]) -> dict[str, Message]:
    """The per-post messages of a thread (header excluded) by item key."""
    return {item_key(m, i): m for i, m in enumerate(messages) if i > 0}


def _posts(thread: Thread) -> Iterator[tuple[str, str]]:
    seen = 0
    current: Thread | None = thread
    while current is not None and seen < 50:
        for post in current.all_posts:
            yield post.id, post.url
        current, seen = current.continuation, seen + 1


def with_links(messages: Sequence[Message], thread: Thread) -> list[Message]:
    """The messages with each post's link filled in (the thread view knows posts by id)."""
    urls = dict(_posts(thread))
    return [
        replace(m, url=urls[m.post_id]) if m.post_id in urls and not m.url else m for m in messages
    ]


def _numbered(blocks: tuple[Block, ...]) -> bool:
    return bool(blocks) and blocks[0].kind == "heading" and bool(blocks[0].text.strip())


def _number_linked(blocks: tuple[Block, ...], url: str) -> tuple[Block, ...]:
    number = Block("heading", (Inline(blocks[0].text.strip(), url, "bold"),))
    return (number, *blocks[1:])


def linked(message: Message) -> Message:
    """The post's number as a link to the post; a post without a number gets a small
    link in front of its text."""
    if not message.url or message.parts:
        return message
    url = message.url
    # A warned, hidden or noted post carries its number in its preface, above the note
    # line; any other post as its first block.
    if _numbered(message.preface):
        return replace(message, preface=_number_linked(message.preface, url))
    blocks = message.blocks
    if _numbered(blocks):
        return replace(message, blocks=_number_linked(blocks, url))
    if blocks and blocks[0].kind == "para":
        first = Block("para", (Inline(plain.POST_LINK, url), Inline(" "), *blocks[0].inlines))
        return replace(message, blocks=(first, *blocks[1:]))
    return replace(message, blocks=(Block("para", (Inline(plain.POST_LINK, url),)), *blocks))


def group(messages: Sequence[Message], measure: Measure) -> list[list[int]]:
    """Indexes of ``messages`` grouped into chat messages, in order: consecutive messages
    share one while their rendered sizes fit; one that needs several chunks stands alone."""
    groups: list[list[int]] = []
    current: list[int] = []
    used = 0
    for i, message in enumerate(messages):
        sizes = measure.sizes(message)
        if len(sizes) != 1:
            if current:
                groups.append(current)
            groups.append([i])
            current, used = [], 0
            continue
        size = sizes[0]
        if current and used + measure.join + size > measure.limit:
            groups.append(current)
            current, used = [], 0
        used = size if not current else used + measure.join + size
        current.append(i)
    if current:
        groups.append(current)
    return groups


def packed(parts: Sequence[Message]) -> Message:
    """One chat message holding these posts (each already linked)."""
    first = next((p.post_id for p in parts if p.post_id), None)
    # One part under a note keeps the whole message from unfurling its links.
    previews = all(p.previews for p in parts)
    return Message((), kind="post", post_id=first, parts=tuple(parts), previews=previews)


def fits(parts: Sequence[Message], measure: Measure) -> bool:
    """Whether these posts fit one chat message together."""
    return len(group(parts, measure)) == 1 and len(measure.sizes(parts[0])) == 1


__all__ = [
    "Measure",
    "fits",
    "group",
    "item_key",
    "keyed",
    "linked",
    "measure_for",
    "packed",
    "with_links",
]
