"""Links that name an ActivityPub object instead of a status id (Pleroma/Akkoma
``/objects/<uuid>``, Misskey-family ``/notes/<id>``, Friendica ``/display/<guid>``).

A ``/notes/`` link on a Misskey-family server is read through Misskey's own API
(misskey.py). Otherwise the object is fetched as ActivityPub JSON (through the shared HTTP
client and its address guard), which gives its id and its home server. Where that server
has the Mastodon API, its search finds the status and the thread is walked as usual.
Otherwise (or when the search does not list the post) the post is read from ActivityPub
alone: the linked post and the posts above it, with a notice that replies below it cannot
be listed.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from bot.errors import NotFound, Refused, UpstreamUnavailable, UsageError, UserError
from bot.http import BlockedAddress, HttpError, MalformedJson, TransportError
from bot.models import Author, ContentNote, FetchedPosts, Media, Post
from bot.sources.html_text import html_to_text
from bot.sources.mastodon.api import MastodonApi, translate
from bot.sources.mastodon.mapping import (
    clean_alt,
    host_of,
    media_kind,
    sensitive_note,
    str_field,
)
from bot.sources.mastodon.misskey import MisskeyApi, fetch_thread
from bot.sources.mastodon.software import ServerSoftware
from bot.sources.mastodon.urls import ObjectLink, StatusLink

AP_ACCEPT = 'application/activity+json, application/ld+json; profile="https://www.w3.org/ns/activitystreams"'
_PUBLIC = frozenset({"https://www.w3.org/ns/activitystreams#Public", "as:Public", "Public"})
_POST_TYPES = frozenset({"Note", "Article", "Question", "Page", "Event", "Video", "Audio", "Image"})
_ACTOR_TYPES = frozenset({"Person", "Service", "Group", "Application", "Organization"})
_WRAPPERS = frozenset({"Create", "Update", "Announce"})
MAX_ANCESTORS = 10  # posts above the linked one read one by one (no API lists them)


def _id_of(value: Any) -> str:
    """An ActivityPub reference: a string, or an object (or Link) with an id/href."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return str_field(value, "id") or str_field(value, "href")
    if isinstance(value, list) and value:
        return _id_of(value[0])
    return ""


def _addresses(value: Any) -> set[str]:
    items = value if isinstance(value, list) else [value]
    return {i for i in (_id_of(v) for v in items) if i}


def _visibility(obj: dict[str, Any]) -> str:
    if _addresses(obj.get("to")) & _PUBLIC:
        return "public"
    if _addresses(obj.get("cc")) & _PUBLIC:
        return "unlisted"
    return "private"


def _web_url(obj: dict[str, Any]) -> str:
    url = obj.get("url")
    if isinstance(url, list):
        # Misskey lists the note's page; Friendica may add other forms: take a web page.
        pages = [
            u
            for u in url
            if not isinstance(u, dict) or str_field(u, "mediaType") in ("", "text/html")
        ]
        url = pages[0] if pages else None
    return _id_of(url) or str_field(obj, "id")


def _base_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{host_of(url)}"


class ObjectResolver:
    def __init__(self, api: MastodonApi) -> None:
        self.api = api
        self.misskey = MisskeyApi(api.http)

    async def _get(self, url: str) -> dict[str, Any]:
        host = host_of(url)
        try:
            body = await self.api.http.get_json(url, headers={"Accept": AP_ACCEPT})
        except HttpError as exc:
            if exc.status in (401, 403):
                raise Refused(
                    f"{host} shows its posts only to servers that sign their requests "
                    f"(HTTP {exc.status}), so the bot cannot read {url}. A link to the "
                    "post's page on a server with the Mastodon API (…/@user/ID) works."
                ) from exc
            raise translate(exc, _base_of(url), "that post") from exc
        except MalformedJson as exc:
            raise UpstreamUnavailable(
                f"{host} did not answer with an ActivityPub object for {url}, so the "
                "post cannot be read from that link."
            ) from exc
        except (TransportError, BlockedAddress) as exc:
            raise translate(exc, _base_of(url), "that post") from exc
        if not isinstance(body, dict):
            raise UpstreamUnavailable(f"{host} answered {url} with something that is not a post.")
        return body

    async def post_object(self, url: str) -> dict[str, Any]:
        """The public post an address names, unwrapped from its activity."""
        obj = await self._get(url)
        for _ in range(2):
            kind = obj.get("type")
            if kind not in _WRAPPERS:
                break
            inner = obj.get("object")
            if isinstance(inner, dict):
                obj = inner
                continue
            ref = _id_of(inner)
            if not ref.startswith(("https://", "http://")):
                raise UpstreamUnavailable(
                    f"{host_of(url)} answered {url} with an activity ({kind}) that names no post."
                )
            obj = await self._get(ref)
        kind = obj.get("type")
        if kind == "Tombstone":
            raise NotFound(f"{url} was deleted.")
        if kind in _ACTOR_TYPES:
            raise UsageError(f"{url} is an account's profile, not a post.")
        if kind not in _POST_TYPES or not str_field(obj, "id"):
            shown = kind if isinstance(kind, str) else "something"
            raise UsageError(f"{url} names a {shown[:40]} object, not a post.")
        if _visibility(obj) not in ("public", "unlisted"):
            raise Refused("That post is not public, so it is not unrolled.")
        return obj

    async def resolve(self, link: ObjectLink, max_posts: int) -> StatusLink | FetchedPosts:
        """The status the link names on a server with the Mastodon API, or the posts
        read through Misskey's API or from ActivityPub alone."""
        if link.path.startswith("/notes/"):
            software = await self.api.software.get(link.base)
            if software.misskey_api:
                note_id = link.path.rsplit("/", 1)[-1]
                return await fetch_thread(self.misskey, link.base, note_id, max_posts)
        else:
            self.api.software.prefetch(link.base)  # the object's server, most often
        obj = await self.post_object(link.canonical)
        ap_id = str_field(obj, "id")
        origin = _base_of(ap_id)
        if not host_of(ap_id):
            raise UpstreamUnavailable(f"{link.host} answered with a post without an address.")
        software = await self.api.software.get(origin)
        notice = ""
        if software.mastodon_api or not software.known:
            try:
                status = await self.api.search_status(
                    origin, ap_id, {link.canonical, _web_url(obj)}
                )
            except UserError as exc:
                status, notice = None, f"Its server's search could not be used ({exc}). "
            if status is not None:
                scheme = urlsplit(origin).scheme
                canonical = str_field(status, "url") or ap_id
                return StatusLink(scheme, host_of(origin), status["id"], canonical)
            if software.mastodon_api and not notice:
                notice = f"{host_of(origin)}'s search does not list that post. "
        return await self._from_objects(obj, origin, software, notice)

    # -- ActivityPub alone ------------------------------------------------------------------

    async def _from_objects(
        self, obj: dict[str, Any], origin: str, software: ServerSoftware, notice: str
    ) -> FetchedPosts:
        authors: dict[str, Author] = {}
        chain = [obj]
        above = ""
        while len(chain) <= MAX_ANCESTORS:
            parent = _id_of(chain[-1].get("inReplyTo"))
            if not parent:
                break
            try:
                chain.append(await self.post_object(parent))
            except UserError:
                above = " A post above it could not be read."
                break
        posts: dict[str, Post] = {}
        root = str_field(chain[-1], "id")
        for note in chain:
            actor = _id_of(note.get("attributedTo"))
            if actor not in authors:
                authors[actor] = await self._author(actor)
            post = map_note(note, authors[actor], root)
            posts[post.id] = post
        what = software.display if software.known else "software the bot does not know"
        return FetchedPosts(
            source="mastodon",
            anchor_id=str_field(obj, "id"),
            posts=posts,
            notices=[
                f"{notice}{host_of(origin)} runs {what}, whose replies the bot cannot list: "
                f"showing the linked post and the posts above it.{above}".strip()
            ],
        )

    async def _author(self, actor_id: str) -> Author:
        host = host_of(actor_id)
        try:
            actor = await self._get(actor_id) if actor_id else {}
        except UserError:
            actor = {}
        name = str_field(actor, "preferredUsername") or actor_id.rstrip("/").rsplit("/", 1)[-1]
        handle = f"{name}@{host}" if name else host
        return Author(
            id=actor_id or handle,
            handle=handle,
            name=str_field(actor, "name") or name or handle,
            url=_web_url(actor) if actor else actor_id,
        )


def _media(note: dict[str, Any]) -> tuple[Media, ...]:
    raw = note.get("attachment")
    out: list[Media] = []
    for item in raw if isinstance(raw, list) else [raw]:
        if not isinstance(item, dict):
            continue
        url = _id_of(item.get("url"))
        if not url.startswith(("https://", "http://")):
            continue
        kind = media_kind(str_field(item, "mediaType"))
        out.append(Media(type=kind, url=url, alt=clean_alt(str_field(item, "name"), [url])))
    return tuple(out)


def map_note(note: dict[str, Any], author: Author, root_id: str | None) -> Post:
    """An ActivityPub post object as a Post."""
    tags = note.get("tag")
    mentions: dict[str, str] = {}
    hashtags: set[str] = set()
    for tag in tags if isinstance(tags, list) else []:
        href, name = str_field(tag, "href"), str_field(tag, "name")
        if tag.get("type") == "Mention" and href and name:
            handle = name if name.count("@") >= 2 else f"{name}@{host_of(href)}"
            mentions[href] = handle if handle.startswith("@") else f"@{handle}"
        elif tag.get("type") == "Hashtag" and href:
            hashtags.add(href)
    content = str_field(note, "content")
    if not content and isinstance(note.get("contentMap"), dict):
        content = next((v for v in note["contentMap"].values() if isinstance(v, str)), "")
    html = html_to_text(content, mentions, tags=hashtags)
    title = str_field(note, "name") if note.get("type") in ("Article", "Page", "Event") else ""
    text = f"{title}\n\n{html.text}".strip() if title else html.text
    media = _media(note)
    notes: tuple[ContentNote, ...] = ()
    summary = " ".join(str_field(note, "summary").split())
    if summary and note.get("type") not in ("Article", "Page"):
        notes = (ContentNote(category="other", origin="author", reason=summary),)
    elif note.get("sensitive") is True:
        notes = (sensitive_note(bool(media)),)
    ap_id = str_field(note, "id")
    parent = _id_of(note.get("inReplyTo")) or None
    return Post(
        id=ap_id,
        url=_web_url(note),
        author=author,
        created_at=str_field(note, "published"),
        text=text,
        parent_id=parent,
        root_id=root_id,
        media=media,
        links=html.links,
        content_notes=notes,
        visibility=_visibility(note),
        extra=(("activitypub", "true"),),
    )
