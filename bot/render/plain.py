"""Messages as plain text: the console and `unrollbot unroll --format text`."""

from __future__ import annotations

from collections.abc import Callable

from bot.render.chunking import join_chunks, split_text
from bot.render.document import Block, Inline, Message, join_blocks

# The small link in front of a packed post that has no number of its own.
POST_LINK = "↗"


def _inline(inline: Inline, heading: bool) -> str:
    # A post's number that links to the post (packed layout) shows the link beside it.
    if inline.url and inline.text != inline.url and (heading or inline.text == POST_LINK):
        return f"{inline.text} {inline.url}"
    return inline.text


def block_text(block: Block) -> str:
    if block.kind == "separator":
        return "―" * 20
    body = "".join(_inline(i, block.kind == "heading") for i in block.inlines)
    if block.kind == "quote":
        return "\n".join("> " + line for line in body.splitlines())
    if block.kind == "note":
        return f"⚠ {body}"
    return body


def message_text(
    message: Message,
    *,
    reveal: bool = True,
    hidden_hint: str = "",
    hint_for: Callable[[Message], str] | None = None,
) -> str:
    """The message as text. With ``reveal`` false, spoilered content is replaced by the
    reason and ``hidden_hint`` (e.g. how to reveal it); in a packed message ``hint_for``
    gives each hidden post its own hint."""
    if message.parts:
        return "\n\n".join(_part_texts(message, reveal, hidden_hint, hint_for))
    if hint_for is not None:
        hidden_hint = hint_for(message) or hidden_hint
    preface = join_blocks(message.preface, [block_text(b) for b in message.preface])
    if message.spoiler and not reveal:
        # The reason is readable above (its note line or the header): no repeat.
        what = "[hidden]" if message.reason_shown else f"[hidden: {message.spoiler}]"
        body = f"{what} {hidden_hint}".strip()
    else:
        body = join_blocks(message.blocks, [block_text(b) for b in message.blocks])
    # A post's number sits right above its text, as in join_blocks.
    after_heading = bool(message.preface) and message.preface[-1].kind == "heading"
    return ("\n" if after_heading else "\n\n").join(p for p in (preface, body) if p)


def _part_texts(
    message: Message, reveal: bool, hidden_hint: str, hint_for: Callable[[Message], str] | None
) -> list[str]:
    texts = (
        message_text(p, reveal=reveal, hidden_hint=hidden_hint, hint_for=hint_for)
        for p in message.parts
    )
    return [t for t in texts if t]


def chunks(
    message: Message,
    limit: int,
    *,
    reveal: bool = True,
    hidden_hint: str = "",
    hint_for: Callable[[Message], str] | None = None,
) -> list[str]:
    if message.parts:
        pieces = [
            c
            for t in _part_texts(message, reveal, hidden_hint, hint_for)
            for c in split_text(t, limit)
        ]
        return join_chunks(pieces, limit)
    text = message_text(message, reveal=reveal, hidden_hint=hidden_hint, hint_for=hint_for)
    return split_text(text, limit)
