"""Matrix event contents the adapter sends: messages, thread and reply relations, edits.

Pure functions over rendered chunks (``bot.render.html``), so the shapes clients rely on
(thread fallbacks, ``m.replace`` with ``m.new_content``, no mentions) live in one place.
"""

from __future__ import annotations

from typing import Any

from bot.render.document import Message
from bot.render.html import HtmlChunk

# Shown in place of a message chunk that an edit no longer needs.
BLANKED = "(merged into the message above)"


def msgtype_for(message: Message) -> str:
    """``m.text`` for what people came to read (a thread's header and its posts): Element
    shows ``m.notice`` as dimmed grey text, fine for a bot's short answers, tiring for a
    whole thread. The bot's own words (replies, errors, "moved to" lines) stay
    ``m.notice``, and so does content under a warning: bots leave notices alone by
    convention, so a link-preview bot does not print a warned post's text beside it."""
    if message.kind in ("header", "post") and message.previews:
        return "m.text"
    return "m.notice"


def notice_content(chunk: HtmlChunk, msgtype: str = "m.notice") -> dict[str, Any]:
    content: dict[str, Any] = dict(chunk.content(msgtype))
    # Copied text must never ping anyone: declare that this event mentions nobody.
    content["m.mentions"] = {}
    return content


def thread_relation(root: str, reply_to: str, *, falling_back: bool) -> dict[str, Any]:
    return {
        "rel_type": "m.thread",
        "event_id": root,
        "is_falling_back": falling_back,
        "m.in_reply_to": {"event_id": reply_to},
    }


def replacement(event_id: str, chunk: HtmlChunk, msgtype: str = "m.notice") -> dict[str, Any]:
    new = notice_content(chunk, msgtype)
    return {
        "msgtype": msgtype,
        "body": f"* {chunk.body}",
        "format": "org.matrix.custom.html",
        "formatted_body": f"* {chunk.formatted_body}",
        "m.new_content": new,
        "m.mentions": {},
        "m.relates_to": {"rel_type": "m.replace", "event_id": event_id},
    }


def blank_chunk() -> HtmlChunk:
    return HtmlChunk(BLANKED, f"<p><em>{BLANKED}</em></p>")


__all__ = [
    "BLANKED",
    "blank_chunk",
    "msgtype_for",
    "notice_content",
    "replacement",
    "thread_relation",
]
