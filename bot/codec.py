"""Neutral models to and from JSON-ready dicts: full fidelity for storage, and the public
shape of `unrollbot unroll --format json` (a stable contract)."""

from __future__ import annotations

from typing import Any

from bot.models import (
    Author,
    ContentNote,
    LinkCard,
    Media,
    Post,
    Quote,
    Thread,
    ThreadLink,
)


def author_to_dict(a: Author) -> dict[str, Any]:
    return {"id": a.id, "handle": a.handle, "name": a.name, "url": a.url, "labels": list(a.labels)}


def author_from_dict(d: dict[str, Any]) -> Author:
    return Author(d["id"], d["handle"], d["name"], d["url"], tuple(d.get("labels", ())))


def note_to_dict(n: ContentNote) -> dict[str, Any]:
    return {"category": n.category, "origin": n.origin, "reason": n.reason}


def note_from_dict(d: dict[str, Any]) -> ContentNote:
    return ContentNote(d["category"], d["origin"], d["reason"])


def post_to_dict(p: Post) -> dict[str, Any]:
    """Full fidelity, for storage."""
    return {
        "id": p.id,
        "url": p.url,
        "author": author_to_dict(p.author),
        "created_at": p.created_at,
        "text": p.text,
        "parent_id": p.parent_id,
        "root_id": p.root_id,
        "media": [
            {"type": m.type, "url": m.url, "alt": m.alt, "thumbnail": m.thumbnail} for m in p.media
        ],
        "card": None
        if p.card is None
        else {"url": p.card.url, "title": p.card.title, "description": p.card.description},
        "quote": None
        if p.quote is None
        else {
            "url": p.quote.url,
            "author": p.quote.author,
            "text": p.quote.text,
            "hidden_reason": p.quote.hidden_reason,
        },
        "links": list(p.links),
        "content_notes": [note_to_dict(n) for n in p.content_notes],
        "status": p.status,
        "visibility": p.visibility,
        "extra": [list(kv) for kv in p.extra],
    }


def post_from_dict(d: dict[str, Any]) -> Post:
    card = d.get("card")
    quote = d.get("quote")
    return Post(
        id=d["id"],
        url=d["url"],
        author=author_from_dict(d["author"]),
        created_at=d["created_at"],
        text=d["text"],
        parent_id=d.get("parent_id"),
        root_id=d.get("root_id"),
        media=tuple(
            Media(m["type"], m["url"], m.get("alt", ""), m.get("thumbnail"))
            for m in d.get("media", ())
        ),
        card=None
        if card is None
        else LinkCard(card["url"], card.get("title", ""), card.get("description", "")),
        quote=None
        if quote is None
        else Quote(
            quote["url"], quote.get("author", ""), quote.get("text", ""), quote.get("hidden_reason")
        ),
        links=tuple(d.get("links", ())),
        content_notes=tuple(note_from_dict(n) for n in d.get("content_notes", ())),
        status=d.get("status", "ok"),
        visibility=d.get("visibility", "public"),
        extra=tuple((str(k), str(v)) for k, v in d.get("extra", ())),
    )


def link_to_dict(link: ThreadLink) -> dict[str, Any]:
    return {
        "kind": link.kind,
        "post": link.post,
        "target": link.target,
        "origin": link.origin,
        "evidence": link.evidence,
    }


# --- the public JSON output -------------------------------------------------------------


def public_post(p: Post, notes: tuple[ContentNote, ...] = (), mark: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": p.id,
        "url": p.url,
        "created_at": p.created_at,
        "text": p.text,
        "media": [{"type": m.type, "url": m.url, "alt": m.alt} for m in p.media],
        "quote": None
        if p.quote is None
        else {
            "url": p.quote.url,
            "author": p.quote.author,
            "text": p.quote.hidden_reason or p.quote.text,
        },
        "status": p.status,
    }
    if p.card is not None:
        out["card"] = {"url": p.card.url, "title": p.card.title, "description": p.card.description}
    if notes:
        out["content_notes"] = [note_to_dict(n) for n in notes]
    if mark:
        out["mark"] = mark
    return out


def public_thread(t: Thread) -> dict[str, Any]:
    post_notes = dict(t.post_notes)
    marks = dict(t.marks)
    out: dict[str, Any] = {
        "source": t.source,
        "url": t.url,
        "author": {
            "id": t.author.id,
            "handle": t.author.handle,
            "name": t.author.name,
            "url": t.author.url,
        },
        "posts": [public_post(p, post_notes.get(p.id, ()), marks.get(p.id, "")) for p in t.posts],
        "asides": [
            {
                "after": a.after,
                "posts": [
                    public_post(p, post_notes.get(p.id, ()), marks.get(p.id, "")) for p in a.posts
                ],
            }
            for a in t.asides
        ],
        "links": [link_to_dict(link) for link in t.links],
        "content_notes": [note_to_dict(n) for n in t.content_notes],
        "truncated": t.truncated,
    }
    if t.notices:
        out["notices"] = list(t.notices)
    if t.continuation is not None:
        out["continuation"] = public_thread(t.continuation)
    return out
