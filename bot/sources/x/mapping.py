"""FxTwitter API v2 objects -> neutral models.

Every field read is type-checked: a body of the wrong shape raises ``Malformed`` (which the
source reports as the service being unreadable), never KeyError or TypeError. Optional parts
that are missing or odd are left out.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

from bot.models import Author, ContentNote, LinkCard, Media, Post, Quote
from bot.sources.base import iso_ms_from_epoch
from bot.sources.x.links import canonical_url

SENSITIVE_NOTE = ContentNote(
    category="other", origin="author", reason="marked sensitive by the author"
)
QUOTE_UNAVAILABLE = "quoted post unavailable"
# X's snowflake ids carry their creation time in milliseconds since this epoch.
_SNOWFLAKE_EPOCH_MS = 1288834974657
# The first snowflake ids (late 2010); older ids are plain counters with no time in them.
_FIRST_SNOWFLAKE = 1 << 40
_URL_IN_TEXT = re.compile(r"https?://[^\s<>\"]+", re.IGNORECASE)
_TCO = re.compile(r"https?://t\.co/[A-Za-z0-9]+", re.IGNORECASE)
_MENTIONS_ONLY = re.compile(r"(?:\s*@\w+)+\s*")
_MEDIA_TYPES = {"photo": "image", "gif": "gif", "video": "video"}


class Malformed(Exception):
    """The service answered with JSON of an unexpected shape; ``str(e)`` says where."""


def post_id(snowflake: str) -> str:
    return f"x:{snowflake}"


def as_dict(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise Malformed(f"{where} is not an object")
    return value


def opt_dict(value: Any) -> dict[str, Any] | None:
    return value if isinstance(value, dict) else None


def opt_str(obj: dict[str, Any], key: str) -> str:
    value = obj.get(key)
    return value if isinstance(value, str) else ""


def snowflake_of(obj: dict[str, Any], where: str) -> str:
    value = obj.get("id")
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value.isdigit() or not value.isascii():
        raise Malformed(f"{where} has no valid id")
    return value


def is_tombstone(obj: dict[str, Any]) -> bool:
    return obj.get("type") == "tombstone"


def snowflake_time(snowflake: str) -> str:
    """Creation time from a snowflake id ("" for pre-snowflake ids)."""
    n = int(snowflake)
    if n < _FIRST_SNOWFLAKE:
        return ""
    ms = (n >> 22) + _SNOWFLAKE_EPOCH_MS
    return iso_ms_from_epoch(ms / 1000)


def created_at(status: dict[str, Any], snowflake: str) -> str:
    """The snowflake's own time first: to the millisecond (the API's fields are to the
    second), and the same clock placeholders use, so deleted posts sort into place."""
    from_id = snowflake_time(snowflake)
    if from_id:
        return from_id
    ts = status.get("created_timestamp")
    if isinstance(ts, int | float) and not isinstance(ts, bool) and 0 < ts < 1e11:
        return iso_ms_from_epoch(float(ts))
    raw = opt_str(status, "created_at")
    if raw:
        try:
            return iso_ms_from_epoch(parsedate_to_datetime(raw).timestamp())
        except (TypeError, ValueError):
            pass
    return ""


def map_author(obj: Any, where: str) -> Author:
    author = as_dict(obj, where)
    user_id = snowflake_of(author, where)
    handle = opt_str(author, "screen_name")
    if not handle:
        raise Malformed(f"{where} has no screen_name")
    return Author(
        id=f"x:{user_id}",
        handle=handle,
        name=opt_str(author, "name") or handle,
        url=opt_str(author, "url") or f"https://x.com/{handle}",
    )


def is_protected(status: dict[str, Any]) -> bool:
    author = opt_dict(status.get("author"))
    return bool(author and author.get("protected") is True)


def parent_of(status: dict[str, Any]) -> tuple[str, str] | None:
    """``(parent snowflake, parent screen name)`` from ``replying_to`` (v2 object; the v1
    string form with ``replying_to_status`` is accepted too)."""
    rt = status.get("replying_to")
    if isinstance(rt, dict):
        parent, handle = rt.get("status"), opt_str(rt, "screen_name")
    elif isinstance(rt, str):
        parent, handle = status.get("replying_to_status"), rt
    else:
        return None
    if isinstance(parent, int) and not isinstance(parent, bool):
        parent = str(parent)
    if isinstance(parent, str) and parent.isdigit() and parent.isascii():
        return parent, handle
    return None


def _expand_text(status: dict[str, Any]) -> str:
    """The post's text with t.co links expanded and leading reply mentions removed.

    FxTwitter already expands links in ``text``; the ``raw_text`` facets catch any t.co link
    left (older instances) and tell where the displayed text starts."""
    text = opt_str(status, "text")
    raw = opt_dict(status.get("raw_text"))
    if raw is None:
        return text
    facets = raw.get("facets")
    replacements: dict[str, str] = {}
    media_links: list[str] = []
    if isinstance(facets, list):
        for facet in facets:
            if not isinstance(facet, dict):
                continue
            original, replacement = opt_str(facet, "original"), opt_str(facet, "replacement")
            if facet.get("type") == "media" and original:
                media_links.append(original)
            elif facet.get("type") == "url" and original and replacement:
                replacements[original] = replacement
    if not text:
        # A post of media alone has no text; its raw text is the media's own t.co link,
        # which the post shows as its media instead.
        text = opt_str(raw, "text")
        for link in media_links:
            text = text.replace(link, "")
        text = text.strip()
    if replacements:
        text = _TCO.sub(lambda m: replacements.get(m.group(0), m.group(0)), text)
    # Replies to others start with "@name" mentions X does not display; drop them only when
    # raw_text says the displayed text starts after exactly those mentions.
    rng = raw.get("display_text_range")
    raw_text = opt_str(raw, "text")
    if isinstance(rng, list) and rng and isinstance(rng[0], int) and rng[0] > 0:
        prefix = raw_text[: rng[0]]
        if _MENTIONS_ONLY.fullmatch(prefix) and text.startswith(prefix):
            text = text[len(prefix) :]
    return text


def _media(status: dict[str, Any]) -> tuple[Media, ...]:
    media = opt_dict(status.get("media"))
    if media is None:
        return ()
    items = media.get("all")
    if not isinstance(items, list):
        # Older answers have no "all": photos, then videos.
        items = []
        for key in ("photos", "videos"):
            group = media.get(key)
            if isinstance(group, list):
                items.extend(group)
    out: list[Media] = []
    for item in items:
        if not isinstance(item, dict):
            continue
        url = opt_str(item, "url")
        if not url:
            continue
        kind = _MEDIA_TYPES.get(opt_str(item, "type"), "unknown")
        out.append(
            Media(
                type=kind,
                url=url,
                alt=opt_str(item, "altText"),
                thumbnail=opt_str(item, "thumbnail_url") or None,
            )
        )
    return tuple(out)


def _card(status: dict[str, Any]) -> LinkCard | None:
    card = opt_dict(status.get("card"))
    if card is None or not opt_str(card, "url"):
        return None
    return LinkCard(
        url=opt_str(card, "url"),
        title=opt_str(card, "title"),
        description=opt_str(card, "description"),
    )


def _quote(status: dict[str, Any]) -> Quote | None:
    quote = opt_dict(status.get("quote"))
    if quote is None:
        return None
    author = opt_dict(quote.get("author"))
    handle = opt_str(author, "screen_name") if author else ""
    url = opt_str(quote, "url")
    if not url:
        try:
            url = canonical_url(handle or "i", snowflake_of(quote, "quote"))
        except Malformed:
            url = ""
    if is_tombstone(quote) or quote.get("type") not in ("status", None):
        return Quote(url=url, author=handle, text=QUOTE_UNAVAILABLE)
    if author is not None and author.get("protected") is True:
        return Quote(url=url, author=handle, text="", hidden_reason="the quoted post is not public")
    return Quote(url=url, author=handle, text=_expand_text(quote))


def _number(value: Any) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
        return float(value)
    return None


def _poll_end(poll: dict[str, Any]) -> datetime | None:
    try:
        at = datetime.fromisoformat(opt_str(poll, "ends_at").replace("Z", "+00:00"))
    except ValueError:
        return None
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def _poll_state(poll: dict[str, Any], now: datetime) -> str:
    """ "poll ended …" / "poll open until …": from ``ends_at`` against ``now``, since
    ``time_left_en`` is the service's wording at the time it answered and goes stale in
    a cached thread; that wording only when there is no end time."""
    end = _poll_end(poll)
    if end is not None:
        when = end.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
        return f"poll ended {when}" if end <= now else f"poll open until {when}"
    left = opt_str(poll, "time_left_en").strip().lower()
    if left == "final results":
        return "poll ended"
    return "poll open" if left.endswith(" left") else ""


def _votes(n: float) -> str:
    return f"{int(n):,} vote" + ("" if n == 1 else "s")


def poll_lines(status: dict[str, Any], now: datetime | None = None) -> list[str]:
    """A poll as text lines, one per choice with its votes and share, then the total and
    whether voting has ended; [] when the status has no readable poll."""
    poll = opt_dict(status.get("poll"))
    raw = poll.get("choices") if poll else None
    if poll is None or not isinstance(raw, list):
        return []
    lines: list[str] = []
    for choice in raw:
        if not isinstance(choice, dict) or not (label := opt_str(choice, "label").strip()):
            continue
        count, share = _number(choice.get("count")), _number(choice.get("percentage"))
        if count is None:
            lines.append(f"○ {label}")
        else:
            lines.append(
                f"○ {label}: {_votes(count)}" + (f" ({share:g}%)" if share is not None else "")
            )
    if not lines:
        return []
    total = _number(poll.get("total_votes"))
    state = _poll_state(poll, now or datetime.now(UTC))
    footer = [f for f in (_votes(total) if total is not None else "", state) if f]
    if footer:
        lines.append(" · ".join(footer))
    return lines


def _links(text: str, card: LinkCard | None, quote: Quote | None) -> tuple[str, ...]:
    found = [m.group(0).rstrip(".,;:!?)]}'’”…") for m in _URL_IN_TEXT.finditer(text)]
    if card is not None:
        found.append(card.url)
    if quote is not None and quote.url:
        found.append(quote.url)
    return tuple(dict.fromkeys(u for u in found if u))


def map_status(status: dict[str, Any], where: str, root_id: str | None = None) -> Post:
    """One readable status (``type: "status"``) as a Post."""
    snowflake = snowflake_of(status, where)
    author = map_author(status.get("author"), f"{where}.author")
    text = _expand_text(status)
    card = _card(status)
    quote = _quote(status)
    parent = parent_of(status)
    links = _links(text, card, quote)
    if poll := poll_lines(status):
        # After the links are taken: poll choices are not the author's links.
        text = "\n".join([text, "", *poll]).strip()
    lang = opt_str(status, "lang")
    return Post(
        id=post_id(snowflake),
        url=opt_str(status, "url") or canonical_url(author.handle, snowflake),
        author=author,
        created_at=created_at(status, snowflake),
        text=text,
        parent_id=post_id(parent[0]) if parent else None,
        root_id=root_id,
        media=_media(status),
        card=card,
        quote=quote,
        links=links,
        content_notes=(SENSITIVE_NOTE,) if status.get("possibly_sensitive") is True else (),
        extra=(("lang", lang),) if lang else (),
    )


def placeholder(
    snowflake: str,
    author: Author,
    parent_id: str | None,
    url: str = "",
    root_id: str | None = None,
) -> Post:
    """A post that exists in the chain but cannot be shown (deleted, withheld, private):
    it keeps its place so the thread does not silently close up around it."""
    return Post(
        id=post_id(snowflake),
        url=url or canonical_url(author.handle or "i", snowflake),
        author=author,
        created_at=snowflake_time(snowflake),
        text="",
        parent_id=parent_id,
        root_id=root_id,
        status="unavailable",
    )


def unknown_author(handle: str = "") -> Author:
    return Author(
        id=f"x:@{handle}" if handle else "x:unknown",
        handle=handle,
        name=handle,
        url=f"https://x.com/{handle}" if handle else "",
    )
