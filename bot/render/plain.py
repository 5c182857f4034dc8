"""Messages as plain text: the console and `unrollbot unroll --format text`."""

from __future__ import annotations

from bot.render.chunking import split_text
from bot.render.document import Block, Message, join_blocks


def block_text(block: Block) -> str:
    if block.kind == "separator":
        return "―" * 20
    body = "".join(i.text for i in block.inlines)
    if block.kind == "quote":
        return "\n".join("> " + line for line in body.splitlines())
    if block.kind == "note":
        return f"⚠ {body}"
    return body


def message_text(message: Message, *, reveal: bool = True, hidden_hint: str = "") -> str:
    """The message as text. With ``reveal`` false, spoilered content is replaced by the
    reason and ``hidden_hint`` (e.g. how to reveal it)."""
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


def chunks(
    message: Message, limit: int, *, reveal: bool = True, hidden_hint: str = ""
) -> list[str]:
    return split_text(message_text(message, reveal=reveal, hidden_hint=hidden_hint), limit)
