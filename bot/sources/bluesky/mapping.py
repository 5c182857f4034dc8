"""Turn AppView JSON (postView, profileView, embed views) into the neutral models.

Every read goes through small checked accessors: a body with missing keys or wrong types
raises Malformed (the source turns it into UpstreamUnavailable), never KeyError/TypeError.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.models import Author, ContentNote, LinkCard, Media, Post, Quote
from bot.sources.base import iso_ms
from bot.sources.bluesky.parse import split_post_uri, web_url

NO_UNAUTHENTICATED = "!no-unauthenticated"
# The author's own warnings that become content notes.
AUTHOR_WARNINGS = ("porn", "sexual", "nudity", "graphic-media")
INVALID_HANDLE = "handle.invalid"
QUOTE_UNAVAILABLE = "quoted post unavailable"
QUOTE_HIDDEN = "hidden at its author's request"


class Malformed(Exception):
    """The upstream answered with a shape we cannot read."""


# ---- checked accessors ------------------------------------------------------------------


def as_dict(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise Malformed(f"{what} is not an object")
    return value


def as_list(value: Any, what: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise Malformed(f"{what} is not a list")
    return value


def req_str(d: dict[str, Any], key: str, what: str) -> str:
    value = d.get(key)
    if not isinstance(value, str):
        raise Malformed(f"{what}.{key} is missing or not text")
    return value


def opt_str(d: dict[str, Any], key: str) -> str:
    value = d.get(key)
    return value if isinstance(value, str) else ""


def opt_int(d: dict[str, Any], key: str) -> int:
    value = d.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


# ---- labels -----------------------------------------------------------------------------


def active_labels(raw: Any) -> set[str]:
    """Label values in force: a label with ``neg`` cancels the same value from its source."""
    positive: set[tuple[str, str]] = set()
    negated: set[tuple[str, str]] = set()
    for item in raw if isinstance(raw, list) else []:
        if not isinstance(item, dict) or not isinstance(item.get("val"), str):
            continue
        key = (str(item.get("src", "")), item["val"])
        (negated if item.get("neg") is True else positive).add(key)
    return {val for src, val in positive - negated}


def self_label_values(record: dict[str, Any]) -> set[str]:
    labels = record.get("labels")
    if not isinstance(labels, dict):
        return set()
    return {
        v["val"]
        for v in as_list(labels.get("values"), "record.labels.values")
        if isinstance(v, dict) and isinstance(v.get("val"), str)
    }


def author_opted_out(author: Any) -> bool:
    return isinstance(author, dict) and NO_UNAUTHENTICATED in active_labels(author.get("labels"))


def post_opted_out(view: dict[str, Any]) -> bool:
    """The post or its author asks not to be shown to logged-out viewers."""
    record = view.get("record") if isinstance(view.get("record"), dict) else {}
    return (
        author_opted_out(view.get("author"))
        or NO_UNAUTHENTICATED in active_labels(view.get("labels"))
        or NO_UNAUTHENTICATED in self_label_values(record or {})
    )


# ---- small pieces -----------------------------------------------------------------------


def normalise_time(value: str) -> str:
    """ISO 8601 in UTC with milliseconds and a Z, so strings sort by time."""
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return ""
    return iso_ms(when)


def profile_url(did: str, handle: str) -> str:
    actor = handle if handle and handle != INVALID_HANDLE else did
    return f"https://bsky.app/profile/{actor}"


def post_web_url(uri: str, handle: str = "") -> str:
    parts = split_post_uri(uri)
    if parts is None:
        return uri
    actor = handle if handle and handle != INVALID_HANDLE else parts[0]
    return web_url(actor, parts[1])


def map_author(raw: Any) -> Author:
    a = as_dict(raw, "author")
    did = req_str(a, "did", "author")
    handle = opt_str(a, "handle")
    shown = handle if handle and handle != INVALID_HANDLE else did
    return Author(
        id=did,
        handle=shown,
        name=opt_str(a, "displayName").strip() or shown,
        url=profile_url(did, handle),
        labels=tuple(sorted(active_labels(a.get("labels")))),
    )


def expand_facets(text: str, facets: Any) -> tuple[str, list[str]]:
    """The text with link facets spelled out in full, and the link URLs in order.

    Offsets are UTF-8 bytes. Facets that overlap or fall outside the text are ignored.
    Shortened link text ("example.com/long-pa...") becomes the full URL; link text that is
    not a form of the URL is kept, followed by the URL.
    """
    raw = text.encode("utf-8")
    spans: list[tuple[int, int, str]] = []
    for facet in facets if isinstance(facets, list) else []:
        if not isinstance(facet, dict) or not isinstance(facet.get("index"), dict):
            continue
        start, end = facet["index"].get("byteStart"), facet["index"].get("byteEnd")
        if (
            not isinstance(start, int)
            or not isinstance(end, int)
            or not 0 <= start < end <= len(raw)
        ):
            continue
        for feature in facet.get("features") or []:
            if (
                isinstance(feature, dict)
                and str(feature.get("$type", "")).endswith("#link")
                and isinstance(feature.get("uri"), str)
            ):
                spans.append((start, end, feature["uri"]))
                break
    spans.sort()
    out: list[str] = []
    links: list[str] = []
    pos = 0
    for start, end, uri in spans:
        if start < pos:
            continue  # overlapping facet
        shown = raw[start:end].decode("utf-8", errors="replace")
        out.append(raw[pos:start].decode("utf-8", errors="replace"))
        out.append(uri if _abbreviates(shown, uri) else f"{shown} ({uri})")
        links.append(uri)
        pos = end
    out.append(raw[pos:].decode("utf-8", errors="replace"))
    return "".join(out), links


def _abbreviates(shown: str, uri: str) -> bool:
    bare = shown.strip().removesuffix("...").removesuffix("…")
    full = uri.split("://", 1)[-1].removeprefix("www.")
    bare = bare.split("://", 1)[-1].removeprefix("www.")
    # Only text that looks like an address counts ("notes" is a label, not a short link).
    return "." in bare and full.lower().startswith(bare.lower())


def _images(items: list[Any], thumb_key: str) -> list[Media]:
    out: list[Media] = []
    for item in items:
        if not isinstance(item, dict):
            continue
        url = opt_str(item, "fullsize") or opt_str(item, thumb_key)
        if url:
            out.append(Media("image", url, opt_str(item, "alt"), opt_str(item, thumb_key) or None))
    return out


def _media(view: dict[str, Any]) -> tuple[list[Media], LinkCard | None]:
    kind = opt_str(view, "$type")
    if kind.startswith("app.bsky.embed.images"):
        return _images(as_list(view.get("images"), "embed.images"), "thumb"), None
    if kind.startswith("app.bsky.embed.gallery"):
        return _images(as_list(view.get("items"), "embed.items"), "thumbnail"), None
    if kind.startswith("app.bsky.embed.video"):
        url = opt_str(view, "playlist")
        if not url:
            return [], None
        mtype = "gif" if view.get("presentation") == "gif" else "video"
        return [Media(mtype, url, opt_str(view, "alt"), opt_str(view, "thumbnail") or None)], None
    if kind.startswith("app.bsky.embed.external"):
        ext = view.get("external")
        if isinstance(ext, dict) and opt_str(ext, "uri"):
            return [], LinkCard(
                opt_str(ext, "uri"), opt_str(ext, "title"), opt_str(ext, "description")
            )
    return [], None


def map_quote(record_view: Any) -> Quote | None:
    """A quoted record (the ``record`` of an embed.record view)."""
    if not isinstance(record_view, dict):
        return None
    kind = opt_str(record_view, "$type")
    uri = opt_str(record_view, "uri")
    if not uri:
        return None
    if kind.endswith("#viewRecord"):
        author = record_view.get("author")
        handle = opt_str(author, "handle") if isinstance(author, dict) else ""
        shown = handle if handle != INVALID_HANDLE else ""
        url = post_web_url(uri, handle)
        value = record_view.get("value")
        if (
            author_opted_out(author)
            or NO_UNAUTHENTICATED in active_labels(record_view.get("labels"))
            or (isinstance(value, dict) and NO_UNAUTHENTICATED in self_label_values(value))
        ):
            return Quote(url, shown, "", hidden_reason=QUOTE_HIDDEN)
        text = ""
        if isinstance(value, dict):
            text, _ = expand_facets(opt_str(value, "text"), value.get("facets"))
        return Quote(url, shown, text)
    if kind.endswith(("#viewNotFound", "#viewBlocked", "#viewDetached")) or not kind:
        return Quote(post_web_url(uri), "", QUOTE_UNAVAILABLE)
    # Feed generators, lists, starter packs: not a post, no quote.
    return None


def _embed(view: Any) -> tuple[list[Media], LinkCard | None, Quote | None]:
    if not isinstance(view, dict):
        return [], None, None
    kind = opt_str(view, "$type")
    if kind.startswith("app.bsky.embed.recordWithMedia"):
        media_view = view.get("media")
        media, card = _media(media_view) if isinstance(media_view, dict) else ([], None)
        rec = view.get("record")
        quote = map_quote(rec.get("record")) if isinstance(rec, dict) else None
        return media, card, quote
    if kind.startswith("app.bsky.embed.record"):
        return [], None, map_quote(view.get("record"))
    media, card = _media(view)
    return media, card, None


def author_notes(view: dict[str, Any], record: dict[str, Any]) -> tuple[ContentNote, ...]:
    did = ""
    author = view.get("author")
    if isinstance(author, dict):
        did = opt_str(author, "did")
    values = self_label_values(record)
    # Self-labels also appear among the post's labels with the author as source.
    raw_labels = view.get("labels")
    for label in raw_labels if isinstance(raw_labels, list) else []:
        if (
            isinstance(label, dict)
            and label.get("src") == did
            and not label.get("neg")
            and isinstance(label.get("val"), str)
        ):
            values.add(label["val"])
    return tuple(
        ContentNote(category="other", origin="author", reason=v)
        for v in AUTHOR_WARNINGS
        if v in values
    )


def reply_refs(record: dict[str, Any]) -> tuple[str | None, str | None]:
    reply = record.get("reply")
    if not isinstance(reply, dict):
        return None, None
    parent = reply.get("parent")
    root = reply.get("root")
    parent_uri = opt_str(parent, "uri") if isinstance(parent, dict) else ""
    root_uri = opt_str(root, "uri") if isinstance(root, dict) else ""
    return parent_uri or None, root_uri or None


def map_post(raw: Any) -> Post:
    view = as_dict(raw, "post")
    uri = req_str(view, "uri", "post")
    author = map_author(view.get("author"))
    record = as_dict(view.get("record"), "post.record")
    text, links = expand_facets(opt_str(record, "text"), record.get("facets"))
    parent_id, root_id = reply_refs(record)
    media, card, quote = _embed(view.get("embed"))
    if card is not None:
        links.append(card.url)
    if quote is not None and quote.url:
        links.append(quote.url)
    created = normalise_time(opt_str(record, "createdAt")) or normalise_time(
        opt_str(view, "indexedAt")
    )
    extra: list[tuple[str, str]] = []
    if opt_str(view, "cid"):
        extra.append(("cid", opt_str(view, "cid")))
    return Post(
        id=uri,
        url=post_web_url(uri, author.handle if author.handle != author.id else ""),
        author=author,
        created_at=created,
        text=text,
        parent_id=parent_id,
        root_id=root_id or uri,
        media=tuple(media),
        card=card,
        quote=quote,
        links=tuple(dict.fromkeys(links)),
        content_notes=author_notes(view, record),
        extra=tuple(extra),
    )


def placeholder(
    uri: str,
    author: Author,
    *,
    parent_id: str | None,
    root_id: str | None,
    created_at: str = "",
    why: str = "unavailable",
) -> Post:
    """A deleted, blocked or hidden post that keeps its place in the thread."""
    return Post(
        id=uri,
        url=post_web_url(uri, author.handle if author.handle != author.id else ""),
        author=author,
        created_at=created_at,
        text="",
        parent_id=parent_id,
        root_id=root_id,
        status="unavailable",
        extra=(("unavailable", why),),
    )
