"""Messages as Discord-flavoured markdown, chunked under the message limit.

Source text is escaped so it shows as written (links stay clickable: URLs are never
escaped), and a spoiler wraps each chunk (a spoiler cannot span messages), with the
reason visible before it.

In a message whose content sits under a note (``Message.previews`` false) every link is
written as ``<url>``: Discord then shows the link but no preview, and a preview of a post
would print its text outside any spoiler. Per link rather than the message-wide
SUPPRESS_EMBEDS flag, so it holds wherever the text goes (an edit, a packed message that
also holds an unwarned post whose images should still preview).
"""

from __future__ import annotations

import re

from bot.render.chunking import join_chunks, split_text
from bot.render.document import Block, Inline, Message, join_blocks

_URL = re.compile(r"https?://[^\s<>]+")
# Characters that are markup anywhere in a line; a masked link needs "[", so "(" is safe.
_SPECIAL = re.compile(r"([\\*_~`|\[\]<])")
# Markup only at the start of a line: headings, subtext, quotes, lists.
_LINE_START = re.compile(r"^([ \t]*)([#>+-]|\d+(?=\.\s))", re.MULTILINE)


# Closing punctuation Discord's own link detection leaves out of a link.
_TRAILING = ".,;:!?'\")]"


def no_preview(url: str) -> str:
    """A bare URL Discord links but does not unfurl."""
    return f"<{url}>"


def escape(text: str, *, previews: bool = True) -> str:
    """Escape markdown in source text, leaving URLs intact (and, without ``previews``,
    written so they do not unfurl)."""
    out = []
    pos = 0
    for m in _URL.finditer(text):
        out.append(_escape_plain(text[pos : m.start()]))
        url = m.group(0)
        if previews:
            out.append(url)
        else:
            tail = ""
            while url and url[-1] in _TRAILING and not (url[-1] == ")" and "(" in url):
                url, tail = url[:-1], url[-1] + tail
            out.append(no_preview(url) + _escape_plain(tail))
        pos = m.end()
    out.append(_escape_plain(text[pos:]))
    # Line-start markup is judged on the whole text (URLs never start with it).
    return _LINE_START.sub(r"\1\\\2", "".join(out))


def _escape_plain(text: str) -> str:
    # Mentions cannot ping (every send uses no allowed mentions); keep them readable but
    # inert for clients too.
    text = text.replace("@everyone", "@\u200beveryone").replace("@here", "@\u200bhere")
    return _SPECIAL.sub(r"\\\1", text)


def _inline(i: Inline, atoms: set[str], previews: bool = True) -> str:
    if i.url:
        if i.text == i.url:
            return i.url if previews else no_preview(i.url)
        label = escape(i.text).replace("]", "\\]")
        s = f"[{label}](<{i.url}>)"
        atoms.add(s)
        return s
    s = escape(i.text, previews=previews)
    if i.style == "bold" and s.strip():
        s = f"**{s}**"
        atoms.add(s)
    elif i.style == "italic" and s.strip():
        s = f"*{s}*"
        atoms.add(s)
    elif i.style == "code" and s.strip():
        s = f"`{i.text.replace('`', 'ˋ')}`"
        atoms.add(s)
    return s


def block_markdown(block: Block, atoms: set[str], previews: bool = True) -> str:
    if block.kind == "separator":
        return "───────────"
    body = "".join(_inline(i, atoms, previews) for i in block.inlines)
    if block.kind == "quote":
        return "\n".join("> " + line for line in body.splitlines())
    if block.kind == "note":
        return f"-# ⚠️ {body}"
    return body


def chunks(message: Message, limit: int = 2000) -> list[str]:
    if message.parts:
        # A packed message: each post rendered on its own (its spoiler and note lines
        # intact), joined with a blank line while they fit.
        return join_chunks([c for p in message.parts for c in chunks(p, limit)], limit)
    atoms: set[str] = set()
    previews = message.previews
    preface = "\n".join(block_markdown(b, atoms, previews) for b in message.preface)
    rendered = [block_markdown(b, atoms, previews) for b in message.blocks]
    body = join_blocks(message.blocks, rendered)
    if message.spoiler:
        # "||" + chunk + "||": leave room for the markers in every chunk.
        parts = split_text(body, limit - 4, frozenset(atoms))
        wrapped = [f"||{p}||" for p in parts]
        if preface:
            if wrapped and len(preface) + 1 + len(wrapped[0]) <= limit:
                wrapped[0] = preface + "\n" + wrapped[0]
            else:
                wrapped.insert(0, preface)
        return wrapped
    text = f"{preface}\n{body}" if preface else body
    return split_text(text, limit, frozenset(atoms))
