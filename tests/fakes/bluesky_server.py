"""A fake Bluesky AppView: the public XRPC endpoints the bot uses, with the real caps.

Built from an in-memory store that tests and benchmarks fill with ``add_thread`` (from
``tests/fakes/thread_builder.py``). Behaviour copied from the public AppView:

- getPostThread returns at most 10 reply levels whatever ``depth`` asks (``depth`` and
  ``parentHeight`` must be 0..1000), replies newest first, ``replies`` absent where the
  depth ran out; a deleted parent ends the parent chain as ``notFoundPost``; deleted
  replies are dropped; a missing anchor is HTTP 400 ``NotFound``. The uri may name the
  author by handle.
- getPosts takes at most 25 DID-form uris and silently omits missing ones.
- getAuthorFeed pages newest first (limit 1..100, cursor); ``posts_and_author_threads``
  keeps a reply only when its whole self-thread up to the root is on the same page, as the
  real AppView does.
- getProfile and resolveHandle answer 400 with the real error bodies.

Use from a test or a script:

    async with FakeBluesky(latency_s=0.05) as fake:
        fake.add_thread(builder.build())     # every author and post of a ThreadBuilder
        url = fake.url(keys[0])              # bsky.app link (fake.uri(key): at:// URI)
        fake.set_author_labels("alice", ("!no-unauthenticated",))
        fake.add_repost("alice", keys[3], when)
        ... fake.requests, fake.sequential_round_trips(), fake.inject(path, Fault(...))
"""

from __future__ import annotations

import hashlib
from base64 import b32encode
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache, lru_cache
from typing import Any

from aiohttp import web

from tests.fakes.base import FakeServer, json_response
from tests.fakes.thread_builder import SynthAuthor, SynthPost, SynthThread

TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"
MAX_DEPTH = 10
POST = "app.bsky.feed.post"
FILTERS = (
    "posts_with_replies",
    "posts_no_replies",
    "posts_with_media",
    "posts_and_author_threads",
    "posts_with_video",
)


def tid(when: datetime, clock_id: int = 0) -> str:
    micros = int(when.timestamp() * 1_000_000)
    value = (micros << 10) | (clock_id & 0x3FF)
    out = ""
    for _ in range(13):
        out = TID_ALPHABET[value & 31] + out
        value >>= 5
    return out


def _b32(data: bytes, n: int) -> str:
    return b32encode(data).decode().lower().rstrip("=")[:n]


@cache
def did_for(key: str) -> str:
    return "did:plc:" + _b32(hashlib.sha256(key.encode()).digest(), 24)


@lru_cache(maxsize=65536)
def cid_for(text: str) -> str:
    return "bafyrei" + _b32(hashlib.sha256(text.encode()).digest(), 52)


def iso(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def _err(error: str, message: str, status: int = 400) -> web.Response:
    return json_response({"error": error, "message": message}, status=status)


class XrpcError(Exception):
    def __init__(self, error: str, message: str) -> None:
        super().__init__(message)
        self.error = error
        self.message = message


@dataclass
class Profile:
    did: str
    handle: str
    name: str
    labels: tuple[str, ...] = ()
    invalid_handle: bool = False


@dataclass
class StoredPost:
    synth: SynthPost
    uri: str
    cid: str
    did: str
    rkey: str
    created: datetime
    parent_uri: str | None
    root_uri: str | None
    quote_uri: str | None
    record: dict[str, Any]
    children: list[str] = field(default_factory=list)

    @property
    def deleted(self) -> bool:
        return self.synth.deleted

    @property
    def blocked(self) -> bool:
        return self.synth.blocked


class FakeBluesky(FakeServer):
    def __init__(self, latency_s: float = 0.0) -> None:
        super().__init__(latency_s)
        self.profiles: dict[str, Profile] = {}  # did -> profile
        self.handles: dict[str, str] = {}  # handle -> did
        self.posts: dict[str, StoredPost] = {}  # uri -> post
        self.keys: dict[str, str] = {}  # builder key -> uri
        self.author_dids: dict[str, str] = {}  # builder author key -> did
        self.reposts: list[tuple[str, str, datetime]] = []  # (reposter did, uri, when)

    async def __aenter__(self) -> FakeBluesky:
        await self.start()
        return self

    # ---- populating -------------------------------------------------------------------

    def add_author(self, author: SynthAuthor) -> str:
        did = self.author_dids.get(author.key) or did_for(author.key)
        self.author_dids[author.key] = did
        self.profiles[did] = Profile(did, author.handle.lower(), author.name, author.labels)
        self.handles[author.handle.lower()] = did
        return did

    def set_author_labels(self, author_key: str, labels: tuple[str, ...]) -> None:
        self.profiles[self.author_dids[author_key]].labels = labels

    def set_invalid_handle(self, author_key: str) -> None:
        self.profiles[self.author_dids[author_key]].invalid_handle = True

    def add_thread(self, thread: SynthThread) -> None:
        """Store every author and post of a builder's output (posts in creation order)."""
        for author in thread.authors.values():
            if author.key not in self.author_dids:
                self.add_author(author)
        for i, sp in enumerate(thread.posts):
            if sp.key in self.keys:  # re-adding the same post updates it
                stored = self.posts[self.keys[sp.key]]
                stored.synth = sp
                continue
            did = self.author_dids[sp.author]
            rkey = tid(sp.created_at, i)
            uri = f"at://{did}/{POST}/{rkey}"
            self.keys[sp.key] = uri
            parent_uri = self.keys[sp.parent] if sp.parent else None
            root_uri = self.keys[sp.root] if sp.root else None
            quote_uri = None  # joined below: a test may quote a post added later
            stored = StoredPost(
                sp,
                uri,
                cid_for(uri),
                did,
                rkey,
                sp.created_at,
                parent_uri,
                root_uri,
                quote_uri,
                {},
            )
            self.posts[uri] = stored
            if parent_uri:
                self.posts[parent_uri].children.append(uri)
        for sp in thread.posts:
            stored = self.posts[self.keys[sp.key]]
            stored.quote_uri = self.keys.get(sp.quote) if sp.quote else None
            stored.record = self._record(stored)

    def add_repost(self, author_key: str, post_key: str, at: datetime) -> None:
        """``author_key`` reposts a stored post at ``at`` (shows in their feed)."""
        self.reposts.append((self.author_dids[author_key], self.keys[post_key], at))

    def uri(self, key: str) -> str:
        return self.keys[key]

    def url(self, key: str, *, by_handle: bool = True) -> str:
        p = self.posts[self.keys[key]]
        actor = self.profiles[p.did].handle if by_handle else p.did
        return f"https://bsky.app/profile/{actor}/post/{p.rkey}"

    def did(self, author_key: str) -> str:
        return self.author_dids[author_key]

    # ---- shapes -----------------------------------------------------------------------

    def _ref(self, uri: str) -> dict[str, str]:
        return {"uri": uri, "cid": self.posts[uri].cid}

    def _record(self, p: StoredPost) -> dict[str, Any]:
        sp = p.synth
        rec: dict[str, Any] = {
            "$type": POST,
            "createdAt": iso(sp.created_at),
            "langs": ["en"],
            "text": sp.text,
        }
        facets = self._facets(sp)
        if facets:
            rec["facets"] = facets
        if p.parent_uri and p.root_uri:
            rec["reply"] = {"parent": self._ref(p.parent_uri), "root": self._ref(p.root_uri)}
        if sp.labels:
            rec["labels"] = {
                "$type": "com.atproto.label.defs#selfLabels",
                "values": [{"val": v} for v in sp.labels],
            }
        media: dict[str, Any] | None = None
        if sp.images:
            media = {
                "$type": "app.bsky.embed.images",
                "images": [
                    {
                        "alt": im.alt,
                        "image": {"$type": "blob", "ref": {"$link": cid_for(f"{p.uri}#{i}")}},
                    }
                    for i, im in enumerate(sp.images)
                ],
            }
        elif sp.card:
            media = {"$type": "app.bsky.embed.external", "external": {"uri": sp.card.url}}
        if p.quote_uri:
            quote = {"$type": "app.bsky.embed.record", "record": self._ref(p.quote_uri)}
            if media and sp.images:
                rec["embed"] = {
                    "$type": "app.bsky.embed.recordWithMedia",
                    "media": media,
                    "record": quote,
                }
            else:
                rec["embed"] = quote
        elif media:
            rec["embed"] = media
        return rec

    def _facets(self, sp: SynthPost) -> list[dict[str, Any]]:
        raw = sp.text.encode()
        out: list[dict[str, Any]] = []

        def span(shown: str) -> tuple[int, int] | None:
            b = shown.encode()
            start = raw.find(b)
            return None if start < 0 else (start, start + len(b))

        for link in sp.links:
            s = span(link.shown)
            if s:
                out.append(
                    self._facet(s, {"$type": "app.bsky.richtext.facet#link", "uri": link.url})
                )
        for m in sp.mentions:
            s = span(m.shown)
            if s:
                did = self.author_dids.get(m.author) or did_for(m.author)
                out.append(self._facet(s, {"$type": "app.bsky.richtext.facet#mention", "did": did}))
        for tag in sp.tags:
            s = span("#" + tag)
            if s:
                out.append(self._facet(s, {"$type": "app.bsky.richtext.facet#tag", "tag": tag}))
        return sorted(out, key=lambda f: int(f["index"]["byteStart"]))

    @staticmethod
    def _facet(s: tuple[int, int], feature: dict[str, Any]) -> dict[str, Any]:
        return {"index": {"byteStart": s[0], "byteEnd": s[1]}, "features": [feature]}

    def _labels(
        self, values: tuple[str, ...], src: str, uri: str, cid: str
    ) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for v in values:
            neg = v.startswith("neg:")
            label: dict[str, Any] = {
                "src": src,
                "uri": uri,
                "cid": cid,
                "val": v.removeprefix("neg:"),
                "cts": "1970-01-01T00:00:00.000Z",
            }
            if neg:
                label["neg"] = True
            out.append(label)
        return out

    def _author(self, did: str) -> dict[str, Any]:
        prof = self.profiles[did]
        profile_uri = f"at://{did}/app.bsky.actor.profile/self"
        return {
            "did": did,
            "handle": "handle.invalid" if prof.invalid_handle else prof.handle,
            "displayName": prof.name,
            "avatar": f"https://cdn.bsky.app/img/avatar/plain/{did}/{cid_for(did)}@jpeg",
            "associated": {"activitySubscription": {"allowSubscriptions": "followers"}},
            "labels": self._labels(prof.labels, did, profile_uri, cid_for(profile_uri)),
            "createdAt": "2023-06-02T18:44:10.120Z",
        }

    def _img(self, kind: str, did: str, blob: str) -> str:
        return f"https://cdn.bsky.app/img/{kind}/plain/{did}/{blob}@jpeg"

    def _media_view(self, p: StoredPost) -> dict[str, Any] | None:
        sp = p.synth
        if sp.images:
            first = sp.images[0]
            if first.kind in ("video", "gif"):
                blob = cid_for(f"{p.uri}#0")
                view: dict[str, Any] = {
                    "$type": "app.bsky.embed.video#view",
                    "cid": blob,
                    "playlist": f"https://video.bsky.app/watch/{p.did}/{blob}/playlist.m3u8",
                    "thumbnail": f"https://video.bsky.app/watch/{p.did}/{blob}/thumbnail.jpg",
                    "alt": first.alt,
                }
                if first.kind == "gif":
                    view["presentation"] = "gif"
                return view
            items = []
            for i, im in enumerate(sp.images):
                blob = cid_for(f"{p.uri}#{i}")
                thumb_key = "thumbnail" if sp.gallery else "thumb"
                items.append(
                    {
                        thumb_key: self._img("feed_thumbnail", p.did, blob),
                        "fullsize": self._img("feed_fullsize", p.did, blob),
                        "alt": im.alt,
                        "aspectRatio": {"width": 1600, "height": 900},
                    }
                )
            if sp.gallery:
                return {"$type": "app.bsky.embed.gallery#view", "items": items}
            return {"$type": "app.bsky.embed.images#view", "images": items}
        if sp.card:
            return {
                "$type": "app.bsky.embed.external#view",
                "external": {
                    "uri": sp.card.url,
                    "title": sp.card.title,
                    "description": sp.card.description,
                },
            }
        return None

    def _quoted_view(self, p: StoredPost, depth: int) -> dict[str, Any]:
        assert p.quote_uri is not None
        q = self.posts[p.quote_uri]
        if p.synth.quote_detached:
            return {"$type": "app.bsky.embed.record#viewDetached", "uri": q.uri, "detached": True}
        if q.deleted:
            return {"$type": "app.bsky.embed.record#viewNotFound", "uri": q.uri, "notFound": True}
        if q.blocked:
            return {
                "$type": "app.bsky.embed.record#viewBlocked",
                "uri": q.uri,
                "blocked": True,
                "author": {"did": q.did},
            }
        embeds = []
        inner = self._embed_view(q, depth + 1) if depth < 1 else None
        if inner:
            embeds.append(inner)
        return {
            "$type": "app.bsky.embed.record#viewRecord",
            "uri": q.uri,
            "cid": q.cid,
            "author": self._author(q.did),
            "value": q.record,
            "labels": self._labels(q.synth.labels, q.did, q.uri, q.cid),
            "likeCount": 0,
            "replyCount": 0,
            "repostCount": 0,
            "quoteCount": 0,
            "indexedAt": iso(q.created + timedelta(milliseconds=300)),
            "embeds": embeds,
        }

    def _embed_view(self, p: StoredPost, depth: int = 0) -> dict[str, Any] | None:
        media = self._media_view(p)
        if p.quote_uri:
            record = {"$type": "app.bsky.embed.record#view", "record": self._quoted_view(p, depth)}
            if media and p.synth.images:
                return {
                    "$type": "app.bsky.embed.recordWithMedia#view",
                    "media": media,
                    "record": {"record": record["record"]},
                }
            return record
        return media

    def post_view(self, p: StoredPost) -> dict[str, Any]:
        view: dict[str, Any] = {
            "uri": p.uri,
            "cid": p.cid,
            "author": self._author(p.did),
            "record": p.record,
            "bookmarkCount": 0,
            "replyCount": sum(1 for c in p.children if not self.posts[c].deleted),
            "repostCount": 0,
            "likeCount": 0,
            "quoteCount": 0,
            "indexedAt": iso(p.created + timedelta(milliseconds=300)),
            "labels": self._labels(p.synth.labels, p.did, p.uri, p.cid),
        }
        embed = self._embed_view(p)
        if embed:
            view["embed"] = embed
        return view

    # ---- lookups ----------------------------------------------------------------------

    def _actor_did(self, actor: str) -> str | None:
        if actor.startswith("did:"):
            return actor if actor in self.profiles else None
        return self.handles.get(actor.lower())

    def _lookup(self, uri: str, *, resolve_handles: bool) -> StoredPost | None:
        if not uri.startswith("at://"):
            raise XrpcError("InvalidRequest", "Error: uri must be a valid at-uri")
        parts = uri[5:].split("/")
        if len(parts) != 3 or parts[1] != POST:
            return None
        actor = parts[0]
        if not actor.startswith("did:"):
            if not resolve_handles:
                return None
            did = self.handles.get(actor.lower())
            if did is None:
                return None
            actor = did
        return self.posts.get(f"at://{actor}/{POST}/{parts[2]}")

    @staticmethod
    def _int(request: web.Request, name: str, default: int, lo: int, hi: int) -> int:
        raw = request.query.get(name)
        if raw is None:
            return default
        try:
            value = int(raw)
        except ValueError:
            raise XrpcError("InvalidRequest", f"Error: {name} must be an integer") from None
        if value < lo:
            raise XrpcError("InvalidRequest", f"Error: {name} can not be less than {lo}")
        if value > hi:
            raise XrpcError("InvalidRequest", f"Error: {name} can not be greater than {hi}")
        return value

    @staticmethod
    def _required(request: web.Request, name: str) -> str:
        value = request.query.get(name)
        if not value:
            raise XrpcError("InvalidRequest", f'Error: Params must have the property "{name}"')
        return value

    # ---- endpoints --------------------------------------------------------------------

    def routes(self, app: web.Application) -> None:
        handlers = {
            "app.bsky.feed.getPostThread": self.get_post_thread,
            "app.bsky.feed.getPosts": self.get_posts,
            "app.bsky.feed.getAuthorFeed": self.get_author_feed,
            "app.bsky.actor.getProfile": self.get_profile,
            "com.atproto.identity.resolveHandle": self.resolve_handle,
        }
        for nsid, handler in handlers.items():
            app.router.add_get(f"/xrpc/{nsid}", self._wrap(handler))

    @staticmethod
    def _wrap(handler: Any) -> Any:
        async def run(request: web.Request) -> web.Response:
            try:
                return json_response(handler(request))
            except XrpcError as exc:
                return _err(exc.error, exc.message)

        return run

    def _thread_node(self, p: StoredPost, depth_left: int) -> dict[str, Any]:
        node: dict[str, Any] = {
            "$type": "app.bsky.feed.defs#threadViewPost",
            "post": self.post_view(p),
        }
        if depth_left > 0:
            replies = []
            kids = [self.posts[c] for c in p.children if not self.posts[c].deleted]
            for child in sorted(kids, key=lambda c: c.created, reverse=True):
                if child.blocked:
                    replies.append(self._blocked(child))
                else:
                    replies.append(self._thread_node(child, depth_left - 1))
            node["replies"] = replies
        return node

    def _blocked(self, p: StoredPost) -> dict[str, Any]:
        return {
            "$type": "app.bsky.feed.defs#blockedPost",
            "uri": p.uri,
            "blocked": True,
            "author": {"did": p.did},
        }

    def _parent_chain(self, p: StoredPost, height: int) -> dict[str, Any] | None:
        if height < 1 or p.parent_uri is None:
            return None
        parent = self.posts.get(p.parent_uri)
        if parent is None or parent.deleted:
            return {
                "$type": "app.bsky.feed.defs#notFoundPost",
                "uri": p.parent_uri,
                "notFound": True,
            }
        if parent.blocked:
            return self._blocked(parent)
        node: dict[str, Any] = {
            "$type": "app.bsky.feed.defs#threadViewPost",
            "post": self.post_view(parent),
        }
        above = self._parent_chain(parent, height - 1)
        if above is not None:
            node["parent"] = above
        return node

    def get_post_thread(self, request: web.Request) -> dict[str, Any]:
        uri = self._required(request, "uri")
        depth = self._int(request, "depth", 6, 0, 1000)
        height = self._int(request, "parentHeight", 80, 0, 1000)
        post = self._lookup(uri, resolve_handles=True)
        if post is None or post.deleted:
            raise XrpcError("NotFound", f"Post not found: {uri}")
        if post.blocked:
            return {"thread": self._blocked(post)}
        # The public AppView ignores depths above its own cap.
        node = self._thread_node(post, min(depth, MAX_DEPTH))
        parent = self._parent_chain(post, height)
        if parent is not None:
            node["parent"] = parent
        return {"thread": node}

    def get_posts(self, request: web.Request) -> dict[str, Any]:
        uris = request.query.getall("uris", [])
        if not uris:
            raise XrpcError("InvalidRequest", 'Error: Params must have the property "uris"')
        if len(uris) > 25:
            raise XrpcError("InvalidRequest", "Error: uris must not have more than 25 elements")
        out = []
        for uri in uris:
            p = self._lookup(uri, resolve_handles=False)
            if p is not None and not p.deleted and not p.blocked:
                out.append(self.post_view(p))
        return {"posts": out}

    def _ref_view(self, uri: str) -> dict[str, Any]:
        p = self.posts.get(uri)
        if p is None or p.deleted:
            return {"$type": "app.bsky.feed.defs#notFoundPost", "uri": uri, "notFound": True}
        if p.blocked:
            return self._blocked(p)
        return {**self.post_view(p), "$type": "app.bsky.feed.defs#postView"}

    def get_author_feed(self, request: web.Request) -> dict[str, Any]:
        actor = self._required(request, "actor")
        limit = self._int(request, "limit", 50, 1, 100)
        filt = request.query.get("filter", "posts_with_replies")
        if filt not in FILTERS:
            raise XrpcError("InvalidRequest", f"Error: filter must be one of {', '.join(FILTERS)}")
        did = self._actor_did(actor)
        if did is None:
            raise XrpcError("InvalidRequest", "Profile not found")
        cursor = request.query.get("cursor")
        mine = [p for p in self.posts.values() if p.did == did and not p.deleted and not p.blocked]
        if filt == "posts_no_replies":
            mine = [p for p in mine if p.parent_uri is None]
        elif filt == "posts_with_media":
            mine = [p for p in mine if p.synth.images]
        elif filt == "posts_with_video":
            mine = [p for p in mine if p.synth.images and p.synth.images[0].kind == "video"]
        elif filt == "posts_and_author_threads":
            mine = [
                p
                for p in mine
                if p.parent_uri is None or (p.root_uri or "").startswith(f"at://{did}/")
            ]
        # (sort time, post, repost time or None), newest first
        entries: list[tuple[datetime, StoredPost, datetime | None]] = [
            (p.created, p, None) for p in mine
        ]
        if filt not in ("posts_with_media", "posts_with_video"):
            for by, uri, when in self.reposts:
                post = self.posts.get(uri)
                if by == did and post is not None and not post.deleted:
                    entries.append((when, post, when))
        entries.sort(key=lambda e: e[0], reverse=True)
        if cursor:
            entries = [e for e in entries if iso(e[0]) < cursor]
        page = entries[:limit]
        items = page
        if filt == "posts_and_author_threads":
            on_page = {p.uri for _, p, rep in page if rep is None}

            def self_thread(p: StoredPost) -> bool:
                # The real AppView checks the chain against this page only.
                while p.parent_uri is not None:
                    if p.parent_uri not in on_page:
                        return False
                    p = self.posts[p.parent_uri]
                return True

            items = [e for e in page if e[2] is not None or self_thread(e[1])]
        feed = []
        for _, p, reposted in items:
            item: dict[str, Any] = {"post": self.post_view(p)}
            if p.parent_uri and p.root_uri:
                reply: dict[str, Any] = {
                    "root": self._ref_view(p.root_uri),
                    "parent": self._ref_view(p.parent_uri),
                }
                parent = self.posts.get(p.parent_uri)
                if parent is not None and parent.parent_uri and parent.parent_uri in self.posts:
                    reply["grandparentAuthor"] = self._author(self.posts[parent.parent_uri].did)
                item["reply"] = reply
            if reposted is not None:
                item["reason"] = {
                    "$type": "app.bsky.feed.defs#reasonRepost",
                    "by": self._author(did),
                    "indexedAt": iso(reposted),
                }
            feed.append(item)
        body: dict[str, Any] = {"feed": feed}
        if len(page) == limit:
            body["cursor"] = iso(page[-1][0])
        return body

    def get_profile(self, request: web.Request) -> dict[str, Any]:
        actor = self._required(request, "actor")
        did = self._actor_did(actor)
        if did is None:
            raise XrpcError("InvalidRequest", "Profile not found")
        count = sum(1 for p in self.posts.values() if p.did == did and not p.deleted)
        return {
            **self._author(did),
            "description": "",
            "followersCount": 0,
            "followsCount": 0,
            "postsCount": count,
            "indexedAt": "2026-04-30T11:20:08.772Z",
        }

    def resolve_handle(self, request: web.Request) -> dict[str, Any]:
        handle = self._required(request, "handle")
        did = self.handles.get(handle.lower())
        if did is None:
            raise XrpcError("InvalidRequest", "Unable to resolve handle")
        return {"did": did}
