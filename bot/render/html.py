"""Message -> Matrix event content: a readable plain ``body`` and a sanitized HTML
``formatted_body``.

Spoilers use ``<span data-mx-spoiler="reason">`` around each block's content (a span must
not hold block elements). The plain ``body`` is what notifications, previews and clients
without HTML show, so for a spoilered message it carries only the visible preface and a
``[Content warning: reason]`` marker, never the hidden text.

All text is escaped when the HTML is built, and the finished HTML is sanitized again with
nh3 against the tags and attributes the Matrix spec recommends, so nothing that came from
elsewhere can smuggle markup into a room.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

import nh3

from bot.render.document import Attachment, Block, Inline, Message, cw_marker

# A Matrix event is capped at 64 KiB; stay well under it with both fields together.
DEFAULT_MAX_LENGTH = 12000
# A packed event (several posts) holds at most this many bytes of HTML, and of plain body:
# about 16 KB reads well in clients and keeps the whole event far below the cap.
PACK_LIMIT = 16_000

ALLOWED_TAGS = {
    "a",
    "b",
    "blockquote",
    "br",
    "code",
    "del",
    "em",
    "h3",
    "h4",
    "h5",
    "hr",
    "i",
    "li",
    "ol",
    "p",
    "pre",
    "span",
    "strong",
    "ul",
}
ALLOWED_ATTRIBUTES = {"a": {"href"}, "span": {"data-mx-spoiler"}}
URL_SCHEMES = {"http", "https", "mailto"}


def sanitize(fragment: str) -> str:
    """Reduce any HTML to what may go into a Matrix ``formatted_body``."""
    return nh3.clean(
        fragment,
        tags=ALLOWED_TAGS,
        clean_content_tags={"script", "style"},
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel=None,
        strip_comments=True,
    )


@dataclass(frozen=True)
class HtmlChunk:
    """One Matrix event's text: ``body`` (plain) and ``formatted_body`` (HTML)."""

    body: str
    formatted_body: str

    @property
    def size(self) -> int:
        return len(self.body) + len(self.formatted_body)

    def content(self, msgtype: str = "m.notice") -> dict[str, object]:
        return {
            "msgtype": msgtype,
            "body": self.body,
            "format": "org.matrix.custom.html",
            "formatted_body": self.formatted_body,
        }


def _safe_url(url: str | None) -> str | None:
    if url and url.lower().startswith(("http://", "https://")):
        return url
    return None


def _inline_html(inline: Inline) -> str:
    out = html.escape(inline.text, quote=False).replace("\n", "<br>")
    if inline.style == "bold":
        out = f"<strong>{out}</strong>"
    elif inline.style == "italic":
        out = f"<em>{out}</em>"
    elif inline.style == "code":
        out = f"<code>{out}</code>"
    url = _safe_url(inline.url)
    if url:
        out = f'<a href="{html.escape(url, quote=True)}">{out}</a>'
    return out


def _inline_plain(inline: Inline) -> str:
    url = _safe_url(inline.url)
    if url and inline.text and inline.text != url:
        return f"{inline.text} ({url})"
    return url or inline.text


def _spoil(inner: str, reason: str | None) -> str:
    """Spoiler ``inner`` (None: no spoiler; "": a spoiler without a reason)."""
    if reason is None or not inner:
        return inner
    return f'<span data-mx-spoiler="{html.escape(reason, quote=True)}">{inner}</span>'


def _block_html(block: Block, spoiler: str | None = None) -> str:
    inner = _spoil("".join(_inline_html(i) for i in block.inlines), spoiler)
    if block.kind == "separator":
        return "<hr>"
    if block.kind == "quote":
        return f"<blockquote>{inner}</blockquote>"
    if block.kind == "heading":
        return f"<h4>{inner}</h4>"
    if block.kind == "note":
        return f"<p><em>{inner}</em></p>"
    return f"<p>{inner}</p>"


def _block_plain(block: Block) -> str:
    text = "".join(_inline_plain(i) for i in block.inlines)
    if block.kind == "separator":
        return "---"
    if block.kind == "quote":
        return "\n".join(f"> {line}" for line in text.split("\n"))
    return text


def _attachment_block(att: Attachment) -> Block:
    label = att.type.capitalize() if att.type else "Media"
    text = f"{label}: {att.alt}" if att.alt else f"{label} (no description)"
    return Block("media", (Inline(text, att.url),))


# The body of hidden content whose reason is readable already (a note line, the header).
HIDDEN_MARKER = "[Hidden behind a content warning]"


def _cost(inline: Inline) -> int:
    """Characters an inline takes in body plus formatted body."""
    url = len(inline.url or "") * 3
    return len(inline.text) + len(html.escape(inline.text, quote=False)) + url + 40


def _split_block(block: Block, budget: int) -> list[Block]:
    """Cut a block too long for one event into pieces at spaces, each within ``budget``
    characters of body plus formatted body."""
    pieces: list[Block] = []
    current: list[Inline] = []
    used = 0
    for inline in block.inlines:
        text = inline.text
        while text:
            whole = Inline(text, inline.url, inline.style)
            if used + _cost(whole) <= budget:
                current.append(whole)
                used += _cost(whole)
                break
            # Longest prefix that fits, preferring a cut at a space.
            fit, spent = 0, used + _cost(Inline("", inline.url, inline.style))
            while fit < len(text) and spent + 1 + len(html.escape(text[fit])) <= budget:
                spent += 1 + len(html.escape(text[fit]))
                fit += 1
            cut = text.rfind(" ", 0, fit + 1)
            cut = cut if cut > fit // 2 else max(fit, 1)
            if current and fit == 0:
                cut = 0
            if cut:
                current.append(Inline(text[:cut], inline.url, inline.style))
            pieces.append(Block(block.kind, tuple(current)))
            current, used = [], 0
            text = text[cut:].lstrip(" ")
    if current:
        pieces.append(Block(block.kind, tuple(current)))
    return pieces


def pack_size(chunk: HtmlChunk) -> int:
    """What counts against PACK_LIMIT: the larger of the HTML and the plain body, in bytes."""
    return max(len(chunk.formatted_body.encode()), len(chunk.body.encode()))


def _join(chunks: list[HtmlChunk]) -> list[HtmlChunk]:
    out: list[HtmlChunk] = []
    for chunk in chunks:
        if out:
            joined = HtmlChunk(
                f"{out[-1].body}\n\n{chunk.body}", out[-1].formatted_body + chunk.formatted_body
            )
            if pack_size(joined) <= PACK_LIMIT:
                out[-1] = joined
                continue
        out.append(chunk)
    return out


def render(message: Message, max_length: int = DEFAULT_MAX_LENGTH) -> list[HtmlChunk]:
    """Render a Message as one or more event texts, each at most ``max_length`` characters
    of body and formatted body together. Blocks are never split across events unless one
    block alone is too long. A packed message joins its posts' texts while they fit
    PACK_LIMIT (each post keeps its own spoiler spans)."""
    if message.parts:
        return _join([c for p in message.parts for c in render(p, max_length)])
    spoiler = message.spoiler
    # A spoiler whose reason is readable already (a note line, the thread's header) gets
    # no reason of its own: Element would print it a second time on every post. Events
    # after the first do not repeat the note line, so there the spoiler names the reason
    # unless it is the thread's (in the header).
    first = None if spoiler is None else ("" if message.reason_shown else spoiler)
    own_line = any(b.kind == "note" for b in message.preface)
    later = spoiler if message.reason_shown and own_line else first
    blocks = _with_attachments(message)
    preface = list(message.preface)
    # Leave room for the preface, the spoiler spans and the marker on every chunk.
    overhead = sum(_cost(i) for b in preface for i in b.inlines) + 2 * len(spoiler or "") + 200
    budget = max(max_length - overhead, 200)
    pieces: list[Block] = []
    for block in blocks:
        if sum(_cost(i) for i in block.inlines) > budget:
            pieces.extend(_split_block(block, budget))
        else:
            pieces.append(block)

    chunks: list[HtmlChunk] = []
    group: list[Block] = []
    for block in pieces:
        reason = later if chunks else first
        candidate = _build(preface if not chunks else [], [*group, block], reason, bool(chunks))
        if group and candidate.size > max_length:
            chunks.append(_build(preface if not chunks else [], group, reason, bool(chunks)))
            group = [block]
        else:
            group.append(block)
    if group or not chunks:
        reason = later if chunks else first
        chunks.append(_build(preface if not chunks else [], group, reason, bool(chunks)))
    return chunks


def _with_attachments(message: Message) -> list[Block]:
    """The message's blocks with each media line shown once, as a link named by its alt
    text, in its place in the post; attachments no block mentions follow at the end."""
    by_url = {a.url: a for a in message.attachments}
    out: list[Block] = []
    for block in message.blocks:
        url = next((i.url for i in block.inlines if i.url), None) if block.kind == "media" else None
        if url is not None and url in by_url:
            out.append(_attachment_block(by_url.pop(url)))
        else:
            out.append(block)
    return out + [_attachment_block(a) for a in by_url.values()]


def _build(
    preface: list[Block], blocks: list[Block], spoiler: str | None, continued: bool
) -> HtmlChunk:
    html_parts = [_block_html(b) for b in preface]
    html_parts += [_block_html(b, spoiler) for b in blocks]
    plain_parts = [_block_plain(b) for b in preface]
    if spoiler is None:
        plain_parts += [_block_plain(b) for b in blocks]
    else:
        marker = cw_marker(spoiler) if spoiler else HIDDEN_MARKER
        plain_parts.append(f"{marker} (continued)" if continued else marker)
    body = "\n\n".join(p for p in plain_parts if p)
    return HtmlChunk(body=body, formatted_body=sanitize("".join(html_parts)))


__all__ = [
    "DEFAULT_MAX_LENGTH",
    "HIDDEN_MARKER",
    "PACK_LIMIT",
    "HtmlChunk",
    "cw_marker",
    "pack_size",
    "render",
    "sanitize",
]
