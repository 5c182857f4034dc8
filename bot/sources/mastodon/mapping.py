"""Mastodon-API ``Status`` JSON to neutral Posts.

Upstream JSON is untrusted: every field is checked for its type, and a status without the
few fields a post needs is rejected as malformed instead of raising KeyError/TypeError.
"""

from __future__ import annotations

import mimetypes
import re
from typing import Any
from urllib.parse import unquote, urlsplit

from bot.models import Author, ContentNote, LinkCard, Media, Post, Quote
from bot.sources.html_text import html_to_text

SHOWN_VISIBILITY = frozenset({"public", "unlisted"})
_MEDIA_TYPES = {"image": "image", "gifv": "gif", "video": "video", "audio": "audio"}
_MIME_KINDS = {"image": "image", "video": "video", "audio": "audio"}
_QUOTE_SHOWN_STATES = frozenset({"accepted"})
# The author's own marking, shown like a content warning (X's possibly_sensitive reads alike).
SENSITIVE_MEDIA_REASON = "media marked sensitive by the author"
SENSITIVE_REASON = "marked sensitive by the author"
# One word ending in a media file extension: an upload's file name, not a description.
_FILE_NAME = re.compile(
    r"[^\s/]+\.(?:png|jpe?g|gif|webp|avif|heic|bmp|tiff?|svg|mp4|webm|mov|m4v|mkv|avi|"
    r"mp3|ogg|oga|opus|m4a|wav|flac)",
    re.IGNORECASE,
)


def str_field(obj: Any, key: str, default: str = "") -> str:
    """``obj[key]`` when ``obj`` is a JSON object and the value a string."""
    value = obj.get(key) if isinstance(obj, dict) else None
    return value if isinstance(value, str) else default


def media_kind(mime: str) -> str:
    """A Media type from a MIME type ("image/png" -> "image")."""
    return _MIME_KINDS.get(mime.split("/", 1)[0], "unknown")


def _opt_str(obj: Any, key: str) -> str | None:
    value = obj.get(key) if isinstance(obj, dict) else None
    return value if isinstance(value, str) and value else None


def is_status(obj: Any) -> bool:
    """The minimum a status needs before anything reads it."""
    return (
        isinstance(obj, dict)
        and isinstance(obj.get("id"), str)
        and bool(obj["id"])
        and isinstance(obj.get("account"), dict)
        and isinstance(obj["account"].get("id"), str)
        and isinstance(obj.get("in_reply_to_id"), str | None)
        and isinstance(obj.get("in_reply_to_account_id"), str | None)
    )


def host_of(url: str) -> str:
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        return f"{host}:{parts.port}" if parts.port else host
    except ValueError:
        return ""


def status_uri(status: dict[str, Any], base: str) -> str:
    """The ActivityPub id: globally unique, the same on every server that has the post."""
    return _opt_str(status, "uri") or _opt_str(status, "url") or f"{base}/statuses/{status['id']}"


def map_author(account: dict[str, Any], base: str) -> Author:
    url = str_field(account, "url")
    acct = str_field(account, "acct") or str_field(account, "username") or str_field(account, "id")
    if "@" not in acct:
        # A local account: its server is the one whose page it is on.
        acct = f"{acct}@{host_of(url) or host_of(base)}"
    uri = _opt_str(account, "uri") or url or f"{base}/accounts/{str_field(account, 'id')}"
    return Author(
        id=uri,
        handle=acct,
        name=str_field(account, "display_name") or str_field(account, "username") or acct,
        url=url or uri,
    )


def _mentions(status: dict[str, Any], base: str) -> dict[str, str]:
    found: dict[str, str] = {}
    raw = status.get("mentions")
    for m in raw if isinstance(raw, list) else ():
        url, acct = str_field(m, "url"), str_field(m, "acct")
        if not url or not acct:
            continue
        if "@" not in acct:
            acct = f"{acct}@{host_of(base)}"
        found[url] = f"@{acct}"
    return found


def _file_names(urls: list[str]) -> set[str]:
    names: set[str] = set()
    for url in urls:
        path = urlsplit(url).path
        if path:
            names.add(unquote(path.rsplit("/", 1)[-1]))
    return names


def clean_alt(description: str, urls: list[str]) -> str:
    """A media description, unless it is only the uploaded file's name (Pleroma fills
    the description with it when the author wrote none)."""
    alt = " ".join(description.split())
    if alt and (alt in _file_names(urls) or _FILE_NAME.fullmatch(alt)):
        return ""
    return alt


def alt_text(m: Any) -> str:
    urls = [str_field(m, k) for k in ("url", "remote_url", "text_url", "preview_url")]
    return clean_alt(str_field(m, "description"), urls)


def _media(status: dict[str, Any], unfetched: tuple[tuple[str, str], ...]) -> tuple[Media, ...]:
    """The status' attachments, then the files its server listed in the text as not
    downloaded (GoToSocial), by their remote address."""
    out: list[Media] = []
    raw = status.get("media_attachments")
    for m in raw if isinstance(raw, list) else ():
        url = _opt_str(m, "url") or _opt_str(m, "remote_url")
        if url is None:
            continue
        out.append(
            Media(
                type=_MEDIA_TYPES.get(str_field(m, "type"), "unknown"),
                url=url,
                alt=alt_text(m),
                thumbnail=_opt_str(m, "preview_url"),
            )
        )
    for url, description in unfetched:
        mime, _ = mimetypes.guess_type(urlsplit(url).path)
        kind = media_kind(mime) if mime else "unknown"
        out.append(Media(type=kind, url=url, alt=clean_alt(description, [url])))
    return tuple(out)


def sensitive_note(has_media: bool) -> ContentNote:
    """The author's warning for a post marked sensitive without a warning text."""
    reason = SENSITIVE_MEDIA_REASON if has_media else SENSITIVE_REASON
    return ContentNote(category="other", origin="author", reason=reason)


def _tag_urls(status: dict[str, Any]) -> set[str]:
    raw = status.get("tags")
    return {u for t in raw if (u := str_field(t, "url"))} if isinstance(raw, list) else set()


def _card(status: dict[str, Any]) -> LinkCard | None:
    card = status.get("card")
    url = _opt_str(card, "url")
    if url is None:
        return None
    return LinkCard(
        url=url, title=str_field(card, "title"), description=str_field(card, "description")
    )


def _quoted_status(status: dict[str, Any]) -> tuple[dict[str, Any] | None, bool]:
    """(the quoted status or None, whether a quote is present at all).

    Mastodon 4.4+: ``quote: {state, quoted_status}``; Akkoma/Pleroma: ``quote`` is the
    quoted Status itself (or ``pleroma.quote``)."""
    quote = status.get("quote")
    if isinstance(quote, dict) and "state" in quote:
        state = str_field(quote, "state")
        quoted = quote.get("quoted_status")
        if state in _QUOTE_SHOWN_STATES and is_status(quoted):
            return quoted, True
        return None, True
    if is_status(quote):
        return quote, True
    pleroma = status.get("pleroma")
    if isinstance(pleroma, dict) and is_status(pleroma.get("quote")):
        return pleroma["quote"], True
    return None, bool(quote) or bool(_opt_str(status, "quote_id"))


def map_status(
    status: dict[str, Any],
    base: str,
    parent_id: str | None,
    root_id: str | None,
) -> Post:
    """One status as a Post. ``parent_id``/``root_id`` are ActivityPub ids resolved by the
    caller (it knows the other statuses)."""
    quoted, has_quote = _quoted_status(status)
    content = html_to_text(
        str_field(status, "content"),
        _mentions(status, base),
        strip_quote_inline=quoted is not None,
        tags=_tag_urls(status),
    )
    quote: Quote | None = None
    if quoted is not None:
        q_text = html_to_text(
            str_field(quoted, "content"), _mentions(quoted, base), tags=_tag_urls(quoted)
        )
        q_author = map_author(quoted["account"], base)
        quote = Quote(
            url=_opt_str(quoted, "url") or status_uri(quoted, base),
            author=q_author.handle,
            text=q_text.text,
        )
    elif has_quote:
        quote = Quote(
            url=content.quote_links[0] if content.quote_links else "",
            author="",
            text="",
            hidden_reason="quoted post unavailable",
        )
    card = _card(status)
    links = list(content.links)
    if card is not None:
        links.append(card.url)
    if quote is not None and quote.url:
        links.append(quote.url)
    text = content.text
    options = _poll_options(status)
    if options:
        text = "\n".join([text, "", *(f"○ {o}" for o in options)]).strip()
    media = _media(status, content.attachments)
    notes: tuple[ContentNote, ...] = ()
    spoiler = str_field(status, "spoiler_text").strip()
    if spoiler:
        notes = (ContentNote(category="other", origin="author", reason=spoiler),)
    elif status.get("sensitive") is True:
        # Marked sensitive without a warning text: the author's warning all the same.
        notes = (sensitive_note(bool(media)),)
    uri = status_uri(status, base)
    extra = [("status_id", status["id"]), ("api_base", base)]
    if status.get("sensitive") is True:
        extra.append(("sensitive", "true"))
    return Post(
        id=uri,
        url=_opt_str(status, "url") or uri,
        author=map_author(status["account"], base),
        created_at=str_field(status, "created_at"),
        text=text,
        parent_id=parent_id,
        root_id=root_id,
        media=media,
        card=card,
        quote=quote,
        links=tuple(dict.fromkeys(links)),
        content_notes=notes,
        visibility=str_field(status, "visibility", "public"),
        extra=tuple(extra),
    )


def _poll_options(status: dict[str, Any]) -> list[str]:
    poll = status.get("poll")
    raw = poll.get("options") if isinstance(poll, dict) else None
    return [t for o in raw if (t := str_field(o, "title").strip())] if isinstance(raw, list) else []


def guess_parent_uri(status: dict[str, Any], base: str) -> str | None:
    """The parent's ActivityPub id when the parent itself was not seen (deleted or not
    public). Mastodon's local ids follow ``<actor uri>/statuses/<id>``; otherwise an
    id that is at least stable for this server."""
    parent = status.get("in_reply_to_id")
    if not isinstance(parent, str) or not parent:
        return None
    account = status["account"]
    uri = str_field(status, "uri")
    actor = str_field(account, "uri")
    if (
        status.get("in_reply_to_account_id") == account.get("id")
        and actor
        and uri == f"{actor}/statuses/{status['id']}"
    ):
        return f"{actor}/statuses/{parent}"
    return f"{base}/api/v1/statuses/{parent}"
