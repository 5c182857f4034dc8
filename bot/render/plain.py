"""Messages as plain text: the console and `unrollbot unroll --format text`."""

from __future__ import annotations

from collections.abc import Callable

from bot.render.chunking import join_chunks, split_text
from bot.render.document import Block, Inline, Message, cw_marker, join_blocks

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
    """The message as text. With ``reveal`` false, spoilered content is replaced by a
    marker and ``hidden_hint`` (e.g. how to reveal it); in a packed message ``hint_for``
    gives each hidden post its own hint."""
    return "\n\n".join(_texts(message, reveal, hint_for or (lambda _: hidden_hint)))


def chunks(
    message: Message,
    limit: int,
    *,
    reveal: bool = True,
    hidden_hint: str = "",
    hint_for: Callable[[Message], str] | None = None,
) -> list[str]:
    texts = _texts(message, reveal, hint_for or (lambda _: hidden_hint))
    pieces = [c for t in texts for c in split_text(t, limit)]
    # A packed message: each post split on its own, then joined while they fit.
    return join_chunks(pieces, limit) if message.parts else pieces


def _texts(message: Message, reveal: bool, hint: Callable[[Message], str]) -> list[str]:
    """The text of each post the message holds (one, or a packed message's parts)."""
    if message.parts:
        return [t for p in message.parts for t in _texts(p, reveal, hint) if t]
    preface = join_blocks(message.preface, [block_text(b) for b in message.preface])
    if message.spoiler and not reveal:
        # The reason is readable above (its note line or the header): no repeat.
        what = "[hidden]" if message.reason_shown else cw_marker(message.spoiler)
        body = f"{what} {hint(message)}".strip()
    else:
        body = join_blocks(message.blocks, [block_text(b) for b in message.blocks])
    # A post's number sits right above its text, as in join_blocks.
    after_heading = bool(message.preface) and message.preface[-1].kind == "heading"
    return [("\n" if after_heading else "\n\n").join(p for p in (preface, body) if p)]
