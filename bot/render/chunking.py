"""Split rendered text into chunks under a length limit without breaking words, links or
markup: break at paragraphs first, then lines, then spaces; only a single unbreakable
token longer than the limit is cut."""

from __future__ import annotations

import re

_PIECES = re.compile(r"\n\n+|\n| +|[^\s]+")


def split_text(text: str, limit: int, atoms: frozenset[str] = frozenset()) -> list[str]:
    """Chunks of at most ``limit`` characters. ``atoms`` are substrings that must stay
    whole (styled spans containing spaces)."""
    if limit <= 0:
        raise ValueError("limit must be positive")
    if len(text) <= limit:
        return [text] if text.strip() else []
    tokens = _tokens(text, atoms)
    chunks: list[str] = []
    cur = ""
    last_para = last_line = last_space = -1  # positions in cur where a break is nicest
    for tok in tokens:
        if len(cur) + len(tok) <= limit:
            if tok.startswith("\n\n"):
                last_para = len(cur)
            elif tok == "\n":
                last_line = len(cur)
            elif tok.isspace():
                last_space = len(cur)
            cur += tok
            continue
        if tok.isspace():
            chunks.append(cur)
            cur = ""
            last_para = last_line = last_space = -1
            continue
        # Break at the best earlier boundary in the current chunk, if it leaves the chunk
        # at least half full; otherwise break right here.
        cut = next((p for p in (last_para, last_line) if p >= limit // 2), -1)
        if cut < 0:
            cut = last_space if last_space > 0 else len(cur)
        head, tail = cur[:cut], cur[cut:].lstrip()
        if head.strip():
            chunks.append(head.rstrip())
        cur = tail
        last_para = last_line = last_space = -1
        while len(cur) + len(tok) > limit and len(tok) > limit:
            # One token longer than a message: the only case where text is cut.
            if cur.strip():
                chunks.append(cur.rstrip())
                cur = ""
            chunks.append(tok[:limit])
            tok = tok[limit:]
        if len(cur) + len(tok) > limit:
            if cur.strip():
                chunks.append(cur.rstrip())
            cur = ""
        cur += tok
    if cur.strip():
        chunks.append(cur.rstrip())
    return [c.strip("\n") for c in chunks if c.strip()]


def join_chunks(pieces: list[str], limit: int, sep: str = "\n\n") -> list[str]:
    """Consecutive rendered pieces joined with ``sep`` while they fit ``limit``."""
    out: list[str] = []
    for piece in pieces:
        if out and len(out[-1]) + len(sep) + len(piece) <= limit:
            out[-1] += sep + piece
        else:
            out.append(piece)
    return out


def _tokens(text: str, atoms: frozenset[str]) -> list[str]:
    if not atoms:
        return _PIECES.findall(text)
    pattern = "|".join(re.escape(a) for a in sorted(atoms, key=len, reverse=True))
    out: list[str] = []
    pos = 0
    for m in re.finditer(pattern, text):
        out.extend(_PIECES.findall(text[pos : m.start()]))
        out.append(m.group(0))
        pos = m.end()
    out.extend(_PIECES.findall(text[pos:]))
    return out
