"""A small neutral rich-text document: what the cogs produce and adapters format.

Adapters never see a Thread, only Messages; each format module (plain, markdown, html)
turns a Message into chunks that fit the adapter's capabilities.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

Style = Literal["plain", "bold", "italic", "code"]
BlockKind = Literal["para", "quote", "media", "note", "separator", "heading"]
MessageKind = Literal["header", "post", "notice", "reply"]


@dataclass(frozen=True)
class Inline:
    text: str
    url: str | None = None
    style: Style = "plain"


@dataclass(frozen=True)
class Block:
    kind: BlockKind
    inlines: tuple[Inline, ...] = ()

    @property
    def text(self) -> str:
        return "".join(i.text for i in self.inlines)


@dataclass(frozen=True)
class Attachment:
    url: str
    alt: str = ""
    type: str = "image"


@dataclass(frozen=True)
class Message:
    blocks: tuple[Block, ...]
    kind: MessageKind = "post"
    # When set, the content sits behind a spoiler and the reason stays visible.
    spoiler: str | None = None
    # Blocks shown outside the spoiler (the content note line).
    preface: tuple[Block, ...] = ()
    attachments: tuple[Attachment, ...] = field(default=())
    post_id: str | None = None
    # The spoiler's reason is already readable (the note line above the post, or the
    # thread's note in the header): renderers hide the content without repeating it.
    reason_shown: bool = False
    # False for content under a note: links must not unfurl into previews (a preview of a
    # post shows its text). Whoever merges messages keeps False if any part has it.
    previews: bool = True
    # The post's own link (packed layout: each post's number links to it).
    url: str | None = None
    # A packed message: several posts' messages shown as one chat message, each keeping
    # its own spoiler and note lines. ``blocks`` is empty then.
    parts: tuple[Message, ...] = ()


@dataclass(frozen=True)
class Capabilities:
    """What an adapter can do; the renderer degrades by capability, not by platform."""

    max_length: int = 4000
    markup: Literal["plain", "markdown", "html"] = "plain"
    spoilers: bool = False
    threads: bool = False
    edits: bool = False
    reveal_command: bool = False  # console: hidden text shown with `reveal`


def text(s: str) -> Inline:
    return Inline(s)


def link(label: str, url: str) -> Inline:
    return Inline(label, url)


def para(*inlines: Inline | str) -> Block:
    return Block("para", tuple(Inline(i) if isinstance(i, str) else i for i in inlines))


def reply(s: str) -> Message:
    """A short plain reply (errors, confirmations)."""
    return Message((para(s),), kind="reply")


def join_blocks(blocks: tuple[Block, ...], rendered: list[str]) -> str:
    """Join rendered blocks: a blank line between paragraphs, a single line break after a
    heading so a post's number sits right above its text."""
    out = ""
    for i, text in enumerate(rendered):
        if not text:
            continue
        if out:
            out += "\n" if blocks[i - 1].kind == "heading" else "\n\n"
        out += text
    return out


# A reason that names its own kind already ("Content note: suicide", an author's "CW: food").
_NAMED_REASON = re.compile(r"(?:content|trigger)\s+(?:warning|note)\s*:|[ct]w\s*:", re.IGNORECASE)


def cw_marker(reason: str) -> str:
    """The text that stands in for hidden content, naming its reason once."""
    reason = reason.strip()
    if _NAMED_REASON.match(reason):
        return f"[{reason}]"
    return f"[Content warning: {reason}]"
