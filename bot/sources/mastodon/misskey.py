"""Misskey-family threads (Misskey, Sharkey, Firefish…) through Misskey's own API.

Misskey has no Mastodon API; its API reads by POST with a JSON body. A thread comes in few
round trips: the note and its ancestors (``notes/show`` and ``notes/conversation``) at
once, then the author's notes after the thread's first one (``users/notes`` with replies,
100 per page, oldest first), from which the self-replies below it are taken.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

from bot.errors import NotFound, Refused, UpstreamUnavailable, UserError
from bot.http import BlockedAddress, HttpClient, HttpError, TransportError
from bot.models import Author, ContentNote, FetchedPosts, Media, Post
from bot.sources.mastodon.api import translate
from bot.sources.mastodon.mapping import (
    clean_alt,
    host_of,
    media_kind,
    sensitive_note,
    str_field,
)

PAGE = 100  # the API's largest page
MAX_PAGES = 10
_SHOWN = {"public": "public", "home": "unlisted"}
_URL = re.compile(r"https?://[^\s<>\"'`|()\[\]]+", re.IGNORECASE)


def is_note(obj: Any) -> bool:
    return (
        isinstance(obj, dict)
        and bool(str_field(obj, "id"))
        and isinstance(obj.get("user"), dict)
        and bool(str_field(obj["user"], "id"))
    )


class MisskeyApi:
    def __init__(self, http: HttpClient) -> None:
        self.http = http

    async def _post(self, base: str, endpoint: str, payload: dict[str, Any], what: str) -> Any:
        host = host_of(base)
        try:
            return await self.http.post_json(f"{base}/api/{endpoint}", payload)
        except HttpError as exc:
            error = exc.body.get("error") if isinstance(exc.body, dict) else None
            code = str_field(error, "code")
            if code == "NO_SUCH_NOTE" or (exc.status == 400 and "NO_SUCH" in code):
                raise NotFound(f"{host} says {what} cannot be found or seen publicly.") from exc
            if exc.status in (401, 403):
                raise Refused(f"{host} shows {what} only to signed-in users.") from exc
            raise translate(exc, base, what) from exc
        except (TransportError, BlockedAddress) as exc:
            raise translate(exc, base, what) from exc

    async def note(self, base: str, note_id: str) -> dict[str, Any]:
        body = await self._post(base, "notes/show", {"noteId": note_id}, "that post")
        if not is_note(body):
            raise UpstreamUnavailable(f"{host_of(base)} returned a malformed post.")
        return dict(body)

    async def conversation(self, base: str, note_id: str) -> list[dict[str, Any]]:
        """The posts above a note, nearest first."""
        body = await self._post(
            base, "notes/conversation", {"noteId": note_id, "limit": PAGE}, "the posts above it"
        )
        if not isinstance(body, list):
            raise UpstreamUnavailable(
                f"{host_of(base)} returned a malformed list of the posts above that post."
            )
        return [dict(n) for n in body if is_note(n)]

    async def user_notes(self, base: str, user_id: str, since_id: str) -> list[dict[str, Any]]:
        payload = {"userId": user_id, "sinceId": since_id, "limit": PAGE, "withReplies": True}
        body = await self._post(base, "users/notes", payload, "the author's posts")
        if not isinstance(body, list):
            raise UpstreamUnavailable(f"{host_of(base)} returned a malformed list of posts.")
        return [dict(n) for n in body if is_note(n)]


def note_uri(note: dict[str, Any], base: str) -> str:
    """The ActivityPub id: the origin's for a copy, else the note's page on this server."""
    return str_field(note, "uri") or f"{base}/notes/{note['id']}"


def _author(user: dict[str, Any], base: str) -> Author:
    username = str_field(user, "username") or str_field(user, "id")
    host = str_field(user, "host") or host_of(base)
    local = not str_field(user, "host")
    url = f"{base}/@{username}" if local else f"https://{host}/@{username}"
    return Author(
        id=f"{base}/users/{user['id']}" if local else url,
        handle=f"{username}@{host}",
        name=str_field(user, "name") or username,
        url=url,
    )


def map_note(note: dict[str, Any], base: str, parent_id: str | None, root_id: str | None) -> Post:
    text = str_field(note, "text")
    media: list[Media] = []
    sensitive = False
    files = note.get("files")
    for f in files if isinstance(files, list) else []:
        url = str_field(f, "url")
        if not url.startswith(("https://", "http://")):
            continue
        sensitive = sensitive or f.get("isSensitive") is True
        media.append(
            Media(
                type=media_kind(str_field(f, "type")),
                url=url,
                alt=clean_alt(str_field(f, "comment"), [url]),
                thumbnail=str_field(f, "thumbnailUrl") or None,
            )
        )
    notes: tuple[ContentNote, ...] = ()
    cw = " ".join(str_field(note, "cw").split())
    if cw:
        notes = (ContentNote(category="other", origin="author", reason=cw),)
    elif sensitive:
        notes = (sensitive_note(True),)
    links = tuple(dict.fromkeys(u.rstrip(".,;:!?") for u in _URL.findall(text)))
    uri = note_uri(note, base)
    return Post(
        id=uri,
        url=str_field(note, "url") or uri,
        author=_author(note["user"], base),
        created_at=str_field(note, "createdAt"),
        text=text.strip(),
        parent_id=parent_id,
        root_id=root_id,
        media=tuple(media),
        links=links,
        content_notes=notes,
        visibility=_SHOWN.get(str_field(note, "visibility"), "private"),
        extra=(("note_id", note["id"]), ("api_base", base)),
    )


async def fetch_thread(api: MisskeyApi, base: str, note_id: str, max_posts: int) -> FetchedPosts:
    anchor, ancestors = await asyncio.gather(
        api.note(base, note_id), api.conversation(base, note_id)
    )
    if str_field(anchor, "visibility") not in _SHOWN or anchor.get("isHidden") is True:
        raise Refused("That post is not public, so it is not unrolled.")
    author = anchor["user"]["id"]
    by_id = {n["id"]: n for n in [anchor, *ancestors] if str_field(n, "visibility") in _SHOWN}
    # The thread's first post: up the chain while the author replies to themselves.
    top = anchor
    for parent in ancestors:
        if (
            parent["user"]["id"] != author
            or parent["id"] != top.get("replyId")
            or parent["id"] not in by_id  # not public: the thread starts below it
        ):
            break
        top = parent
    notices: list[str] = []
    since = top["id"]
    for _ in range(MAX_PAGES):
        try:
            page = await api.user_notes(base, author, since)
        except UserError as exc:
            notices.append(
                f"Later posts could not be listed ({exc}); the thread may be incomplete."
            )
            break
        for n in page:
            if str_field(n, "visibility") in _SHOWN and not n.get("isHidden"):
                by_id.setdefault(n["id"], n)
        if len(page) < PAGE or len(by_id) >= max_posts:
            break
        since = max(n["id"] for n in page)
    else:
        notices.append("The thread is very long; some of its posts may be missing.")
    # The author's replies below the first post, branches included.
    children: dict[str, list[str]] = {}
    for n in by_id.values():
        if n.get("replyId") and n["user"]["id"] == author:
            children.setdefault(n["replyId"], []).append(n["id"])
    tree: list[str] = []
    stack = [top["id"]]
    while stack and len(tree) < max_posts:
        nid = stack.pop()
        if nid not in by_id:
            continue
        tree.append(nid)
        stack.extend(sorted(children.get(nid, []), reverse=True))
    chosen = [*(a["id"] for a in ancestors if a["id"] in by_id), *tree, anchor["id"]]
    root = note_uri(ancestors[-1] if ancestors else top, base)
    posts: dict[str, Post] = {}
    for nid in dict.fromkeys(chosen):
        n = by_id[nid]
        reply = str_field(n, "replyId")
        parent = note_uri(by_id[reply], base) if reply in by_id else None
        if reply and parent is None:
            parent = f"{base}/notes/{reply}"
        post = map_note(n, base, parent, root)
        posts[post.id] = post
    return FetchedPosts(
        source="mastodon",
        anchor_id=note_uri(anchor, base),
        posts=posts,
        notices=notices,
        capped=len(tree) >= max_posts,
    )
