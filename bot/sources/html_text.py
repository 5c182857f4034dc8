"""Fediverse post HTML (Mastodon, Pleroma, Akkoma...) to plain text.

Parsed with a real HTML parser (selectolax/lexbor), walked iteratively so hostile nesting
cannot exhaust the stack. Links come out as their full ``href`` (Mastodon shortens the
display text with ``invisible``/``ellipsis`` spans), mentions as ``@user@host``, hashtags as
written, ``<br>`` as a line break and paragraphs separated by a blank line.

Old Pleroma and GNU social mark neither mentions nor hashtags with a class: a link whose
href is one of the status' mention (or tag) URLs is read as one all the same.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from selectolax.lexbor import LexborHTMLParser, LexborNode

# Elements whose content is never text a reader should see.
_DROPPED = frozenset(
    {
        "script",
        "style",
        "template",
        "noscript",
        "iframe",
        "object",
        "embed",
        "head",
        "title",
        "svg",
        "math",
        "select",
        "textarea",
        "button",
    }
)
# Elements that start and end on their own line; paragraphs get a blank line around them.
_PARAGRAPHS = frozenset(
    {"p", "blockquote", "pre", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "table", "figure"}
)
_LINES = frozenset(
    {"div", "li", "tr", "dt", "dd", "section", "article", "header", "footer", "figcaption", "hr"}
)
_SPACES = re.compile(r"[ \t\n\r\f]+")  # HTML whitespace; no-break spaces stay
_MAX_INPUT = 200_000  # characters; statuses are far shorter, hostile input is cut


@dataclass(frozen=True)
class HtmlText:
    text: str
    # Full URLs of the ordinary links in the text (not mentions or hashtags), in order.
    links: tuple[str, ...]
    # Links inside a server-added "RE: <link>" quote fallback, stripped or not.
    quote_links: tuple[str, ...] = ()
    # (href, description) of each file GoToSocial listed as not downloaded.
    attachments: tuple[tuple[str, str], ...] = ()


def _classes(node: LexborNode) -> set[str]:
    return set((node.attributes.get("class") or "").split())


def _mention_from_href(href: str) -> str | None:
    """``https://host/@user`` or ``https://host/users/user`` -> ``@user@host``."""
    parts = urlsplit(href)
    host = parts.hostname
    if not host:
        return None
    segs = [s for s in parts.path.split("/") if s]
    if len(segs) == 1 and segs[0].startswith("@") and len(segs[0]) > 1:
        user = segs[0][1:]
    elif len(segs) == 2 and segs[0] in ("users", "u", "profile"):
        user = segs[1]
    else:
        return None
    return f"@{user}" if "@" in user else f"@{user}@{host}"


def _visible_text(node: LexborNode) -> str:
    """Text of a link as displayed, without Mastodon's invisible URL parts."""
    out: list[str] = []
    stack: list[LexborNode] = [node]
    while stack:
        cur = stack.pop()
        if cur.tag == "-text":
            out.append(cur.text_content or "")
            continue
        if cur is not node and ("invisible" in _classes(cur) or cur.tag in _DROPPED):
            continue
        kids: list[LexborNode] = []
        child = cur.child
        while child is not None:
            kids.append(child)
            child = child.next
        stack.extend(reversed(kids))
    return "".join(out).strip()


def _link_text(node: LexborNode, href: str) -> str:
    shown = _visible_text(node)
    if not shown:
        return href
    bare = href.split("://", 1)[-1]
    stripped = shown.rstrip("…").rstrip(".")
    # Shortened display ("example.com/long/pa…") or the URL itself: show the full URL.
    looks_like_address = "." in stripped or "/" in stripped
    if shown == href or (
        looks_like_address and (href.startswith(stripped) or bare.startswith(stripped))
    ):
        return href
    return f"{shown} ({href})"


class _Writer:
    """Collects text with at most one blank line between blocks and no doubled spaces."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.pending_breaks = 0

    def _at_line_start(self) -> bool:
        return not self.parts or self.parts[-1].endswith("\n")

    def text(self, s: str, raw: bool = False) -> None:
        if not s or (not raw and self.pending_breaks and not s.strip(" ")):
            return  # nothing, or only whitespace between blocks
        if self.pending_breaks and self.parts:
            self.parts.append("\n" * self.pending_breaks)
        self.pending_breaks = 0
        if (
            not raw
            and s.startswith(" ")
            and (self._at_line_start() or self.parts[-1].endswith(" "))
        ):
            s = s.lstrip(" ")
            if not s:
                return
        self.parts.append(s)

    def line_break(self) -> None:
        self.text("\n", raw=True)

    def block(self, breaks: int) -> None:
        if self.parts:
            self.pending_breaks = max(self.pending_breaks, breaks)

    def result(self) -> str:
        lines = [line.rstrip() for line in "".join(self.parts).split("\n")]
        return "\n".join(lines).strip()


def html_to_text(
    html: str,
    mentions: Mapping[str, str] | None = None,
    *,
    strip_quote_inline: bool = False,
    tags: Collection[str] = (),
) -> HtmlText:
    """Plain text of a post's HTML.

    ``mentions`` maps a mention link's href to ``@user@host`` (from the status' mention
    list); unknown mention links are derived from their href. ``tags`` holds the status'
    hashtag URLs. With ``strip_quote_inline``
    the server's "RE: <link>" quote fallback is dropped (the quote is shown separately).
    """
    if not html:
        return HtmlText("", ())
    tree = LexborHTMLParser(html[:_MAX_INPUT])
    root = tree.body
    if root is None:
        return HtmlText("", ())
    mentions = mentions or {}
    w = _Writer()
    links: list[str] = []
    quote_links: list[str] = []
    attachments: list[tuple[str, str]] = []
    pre_depth = 0
    # Stack of (node, entering). Leaving a block element adds its trailing break.
    stack: list[tuple[LexborNode, bool]] = []
    child = root.child
    kids: list[LexborNode] = []
    while child is not None:
        kids.append(child)
        child = child.next
    stack.extend((k, True) for k in reversed(kids))
    while stack:
        node, entering = stack.pop()
        tag = node.tag or ""
        if not entering:
            if tag in _PARAGRAPHS:
                w.block(2)
            elif tag in _LINES:
                w.block(1)
            if tag == "pre":
                pre_depth -= 1
            continue
        if tag == "-text":
            text = node.text_content or ""
            if pre_depth:
                w.text(text, raw=True)
            else:
                # HTML whitespace collapses; source newlines are not line breaks.
                w.text(_SPACES.sub(" ", text))
            continue
        if tag.startswith("-") or tag in _DROPPED:
            continue  # comments, doctype, script-like elements
        classes = _classes(node)
        if "gts-system-message" in classes:
            # GoToSocial's own note below the author's words ("N attachments in this status
            # were not downloaded…"): the files it lists are the post's media, not its text.
            if "gts-placeholder-attachments" in classes:
                attachments.extend(_placeholder_attachments(node))
            continue
        if "quote-inline" in classes:
            hrefs = [a.attributes.get("href") or "" for a in node.css("a")]
            quote_links.extend(h for h in hrefs if h)
            if strip_quote_inline:
                continue
        if tag == "br":
            w.line_break()
            continue
        if tag == "img":
            # Pleroma/Akkoma inline custom emoji: <img class="emoji" alt=":blob:">.
            w.text(_SPACES.sub(" ", node.attributes.get("alt") or "").strip())
            continue
        if tag == "a":
            href = (node.attributes.get("href") or "").strip()
            if href and urlsplit(href).scheme in ("http", "https"):
                if href in mentions or ("mention" in classes and "hashtag" not in classes):
                    mention = mentions.get(href) or _mention_from_href(href)
                    w.text(mention or _visible_text(node))
                elif (
                    "hashtag" in classes
                    or (node.attributes.get("rel") or "") == "tag"
                    or href in tags
                    or urlsplit(href).path in tags  # GNU social lists tags by path
                ):
                    w.text(_visible_text(node))
                else:
                    w.text(_link_text(node, href))
                    if "quote-inline" not in classes and not _inside_quote_inline(node):
                        links.append(href)
                continue
            # Not a web link: keep its visible text only.
        if tag in _PARAGRAPHS:
            w.block(2)
        elif tag in _LINES:
            w.block(1)
        if tag == "li":
            w.text("• ")
        if tag == "pre":
            pre_depth += 1
        stack.append((node, False))
        kids = []
        child = node.child
        while child is not None:
            kids.append(child)
            child = child.next
        stack.extend((k, True) for k in reversed(kids))
    return HtmlText(
        w.result(),
        tuple(dict.fromkeys(links)),
        tuple(dict.fromkeys(quote_links)),
        tuple(dict.fromkeys(attachments)),
    )


def _placeholder_attachments(node: LexborNode) -> list[tuple[str, str]]:
    """Each listed file as (href, description), from ``<li><a href=…>f.svg</a> [text]</li>``."""
    out: list[tuple[str, str]] = []
    for item in node.css("li"):
        link = item.css_first("a")
        if link is None:
            continue
        href = (link.attributes.get("href") or "").strip()
        if urlsplit(href).scheme not in ("http", "https"):
            continue
        rest = (item.text(deep=True) or "").replace(link.text(deep=True) or "", "", 1)
        description = _SPACES.sub(" ", rest).strip()
        if description.startswith("[") and description.endswith("]"):
            description = description[1:-1].strip()
        out.append((href, description))
    return out


def _inside_quote_inline(node: LexborNode) -> bool:
    cur = node.parent
    depth = 0
    while cur is not None and depth < 64:
        if "quote-inline" in _classes(cur):
            return True
        cur = cur.parent
        depth += 1
    return False
