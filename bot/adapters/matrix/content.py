"""Matrix event contents the adapter sends: notices, thread and reply relations, edits.

Pure functions over rendered chunks (``bot.render.html``), so the shapes clients rely on
(thread fallbacks, ``m.replace`` with ``m.new_content``, no mentions) live in one place.
"""

from __future__ import annotations

from typing import Any

from bot.render.html import HtmlChunk

# Shown in place of a message chunk that an edit no longer needs.
BLANKED = "(merged into the message above)"


def notice_content(chunk: HtmlChunk) -> dict[str, Any]:
    content: dict[str, Any] = dict(chunk.content("m.notice"))
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


def replacement(event_id: str, chunk: HtmlChunk) -> dict[str, Any]:
    new = notice_content(chunk)
    return {
        "msgtype": "m.notice",
        "body": f"* {chunk.body}",
        "format": "org.matrix.custom.html",
        "formatted_body": f"* {chunk.formatted_body}",
        "m.new_content": new,
        "m.mentions": {},
        "m.relates_to": {"rel_type": "m.replace", "event_id": event_id},
    }


def blank_chunk() -> HtmlChunk:
    return HtmlChunk(BLANKED, f"<p><em>{BLANKED}</em></p>")


__all__ = ["BLANKED", "blank_chunk", "notice_content", "replacement", "thread_relation"]
