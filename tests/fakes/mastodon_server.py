"""A local server that behaves like Mastodon's REST API for anonymous readers.

Backed by an in-memory store that tests and benchmarks populate with builders (accounts,
posts, N-post self-threads with others' replies interleaved, branches, hidden and deleted
posts). It enforces what the real server does to anonymous callers:

* ``context``: at most 40 ancestors (the nearest ones), 60 descendants in depth-first id
  order down to depth 20, both limits applied before hidden posts are filtered out, and
  self-replies brought to the top;
* ``accounts/:id/statuses``: newest first, at most 40 per page, ``max_id``/``since_id``/
  ``min_id`` paging with ``Link`` headers, ``exclude_replies`` dropping replies to other
  accounts, ``X-RateLimit-*`` headers;
* ``in_reply_to_account_id`` carried down a self-reply chain: below the author's reply to
  someone, each self-reply names that someone (so ``exclude_replies`` drops it too);
* 404 ``Record not found`` for missing, deleted and non-public posts; 401 when the server
  requires login, unless the request carries the server's access token;
* ``software`` "pleroma" or "gotosocial" plays those servers where they differ:
  ``exclude_replies`` drops every reply (Pleroma) or self-replies that mention anyone
  (GoToSocial), and GoToSocial answers 401 to every anonymous API call; NodeInfo and
  ``/api/v1/instance`` name the software;
* ActivityPub: a status' ``uri`` (``/users/<u>/statuses/<id>`` on Mastodon, Pleroma's
  ``/objects/<uuid>``, Friendica's ``/objects/<guid>`` with ``/display/<guid>`` pages)
  answers ``Accept: application/activity+json`` with the Note (401 with
  ``signed_fetch``, as servers in "authorized fetch" mode do), other Accepts with the web
  page; ``/api/v2/search`` finds a status by its uri or url (anonymous Mastodon callers
  get nothing for an address and 401 for ``resolve=true``).

Ids are Mastodon snowflakes (``ms << 16 | sequence``) or, with ``id_style="flake"``,
fixed-length base62 strings that sort like Pleroma's FlakeIDs but carry no usable clock.
Two instances can stand for a post's origin server and a server that caches it.
"""

from __future__ import annotations

import html
import itertools
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from tests.fakes.base import FakeServer, json_response
from tests.fakes.fediverse import activity_response, add_nodeinfo, addressing, wants_activity
from tests.fakes.thread_builder import SynthPost, SynthThread

NOT_FOUND = {"error": "Record not found"}
AUTH_REQUIRED = {"error": "This API requires an authenticated user"}
GTS_AUTH_REQUIRED = {"error": "Unauthorized: token not supplied"}
BAD_TOKEN = {"error": "The access token is invalid"}
# What /api/v1/instance says as its version, per software.
INSTANCE_VERSION = {
    "mastodon": "4.3.2",
    "pleroma": "2.7.2 (compatible; Pleroma 2.6.3)",
    "akkoma": "2.7.2 (compatible; Akkoma 3.13.2)",
    "gotosocial": "0.17.3+git-7a3c4ff",
}
_B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
ANCESTORS_LIMIT = 40
DESCENDANTS_LIMIT = 60
DESCENDANTS_DEPTH = 20
PAGE_DEFAULT = 20
PAGE_MAX = 40


def _iso(ms: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms / 1000)) + f".{ms % 1000:03d}Z"


@dataclass(eq=False)
class FakeAccount:
    id: str
    username: str
    display_name: str
    # For accounts of another server (cached copies): their acct host and pages.
    domain: str | None = None
    remote_uri: str | None = None
    remote_url: str | None = None


@dataclass(eq=False)
class FakeStatus:
    id: str
    account: FakeAccount
    created_ms: int
    content: str
    in_reply_to: FakeStatus | None = None
    visibility: str = "public"
    spoiler_text: str = ""
    sensitive: bool = False
    media: list[dict[str, Any]] = field(default_factory=list)
    card: dict[str, Any] | None = None
    quote: Any = None  # raw JSON for the "quote" field
    mentions: list[dict[str, Any]] = field(default_factory=list)
    poll: dict[str, Any] | None = None
    reblog: FakeStatus | None = None  # set for a boost
    deleted: bool = False
    # A reply whose parent was erased for good: no parent id, but still "a reply to".
    erased_parent_account: FakeAccount | None = None
    # Set for copies of another server's posts.
    remote_uri: str | None = None
    remote_url: str | None = None

    @property
    def visible(self) -> bool:
        return not self.deleted and self.visibility in ("public", "unlisted")


class FakeMastodon(FakeServer):
    def __init__(
        self,
        latency_s: float = 0.0,
        *,
        id_style: str = "snowflake",
        start_ms: int | None = None,
        require_auth: bool = False,
        software: str = "mastodon",
        token: str | None = None,
        signed_fetch: bool = False,
    ) -> None:
        super().__init__(latency_s)
        self.id_style = id_style
        self.software = software
        self.require_auth = require_auth or software == "gotosocial"
        self.token = token  # the access token that opens a login-only server
        self.signed_fetch = signed_fetch  # ActivityPub objects only for signed requests
        # The store's clock: 60 days ago by default, so ids are plausible snowflakes.
        self.clock_ms = (
            start_ms if start_ms is not None else int(time.time() * 1000) - 60 * 86_400_000
        )
        self._seq = itertools.count(1)
        self.accounts: dict[str, FakeAccount] = {}
        self.statuses: dict[str, FakeStatus] = {}
        # Site-neutral thread descriptions (tests/fakes/thread_builder.py): key -> status.
        self.by_key: dict[str, FakeStatus] = {}
        self.account_by_key: dict[str, FakeAccount] = {}

    # ---- ids and urls -------------------------------------------------------------------

    def _new_id(self, ms: int) -> str:
        raw = (ms << 16) | (next(self._seq) & 0xFFFF)
        if self.id_style == "snowflake":
            return str(raw)
        out = ""
        while raw:
            raw, r = divmod(raw, 62)
            out = _B62[r] + out
        return out.rjust(18, "0")

    @property
    def host(self) -> str:
        return self.base_url.split("://", 1)[1]

    @staticmethod
    def object_id(st: FakeStatus) -> str:
        """Pleroma's and Friendica's object id for a status: a UUID."""
        return str(uuid.uuid5(uuid.NAMESPACE_URL, st.id))

    def status_uri(self, st: FakeStatus) -> str:
        if st.remote_uri:
            return st.remote_uri
        if self.software in ("pleroma", "akkoma", "friendica"):
            return f"{self.base_url}/objects/{self.object_id(st)}"
        return f"{self.base_url}/users/{st.account.username}/statuses/{st.id}"

    def status_url(self, st: FakeStatus) -> str:
        if st.remote_url:
            return st.remote_url
        if self.software in ("pleroma", "akkoma"):
            return f"{self.base_url}/notice/{st.id}"
        if self.software == "friendica":
            return f"{self.base_url}/display/{self.object_id(st)}"
        return f"{self.base_url}/@{st.account.username}/{st.id}"

    def link(self, st: FakeStatus) -> str:
        """The link a user would paste: the status' page on this server."""
        if st.account.domain:
            return f"{self.base_url}/@{st.account.username}@{st.account.domain}/{st.id}"
        return self.status_url(st)

    # ---- builders -----------------------------------------------------------------------

    def account(self, username: str, display_name: str | None = None) -> FakeAccount:
        acc = FakeAccount(
            self._new_id(self.clock_ms - 86_400_000), username, display_name or username.title()
        )
        self.accounts[acc.id] = acc
        return acc

    def post(
        self,
        account: FakeAccount,
        text: str | None = None,
        *,
        html: str | None = None,
        reply_to: FakeStatus | None = None,
        visibility: str = "public",
        after_s: float = 60.0,
        spoiler_text: str = "",
        media: list[dict[str, Any]] | None = None,
        card: dict[str, Any] | None = None,
        quote: Any = None,
        mentions: list[dict[str, Any]] | None = None,
    ) -> FakeStatus:
        self.clock_ms += max(1, int(after_s * 1000))
        content = html if html is not None else f"<p>{text or ''}</p>"
        st = FakeStatus(
            id=self._new_id(self.clock_ms),
            account=account,
            created_ms=self.clock_ms,
            content=content,
            in_reply_to=reply_to,
            visibility=visibility,
            spoiler_text=spoiler_text,
            sensitive=bool(spoiler_text),
            media=list(media or []),
            card=card,
            quote=quote,
            mentions=list(mentions or []),
        )
        self.statuses[st.id] = st
        return st

    def thread(
        self,
        account: FakeAccount,
        n: int,
        *,
        reply_to: FakeStatus | None = None,
        interval_s: float = 60.0,
        others: FakeAccount | None = None,
        others_every: int = 0,
        continuation_visibility: str = "unlisted",
        label: str = "Post",
    ) -> list[FakeStatus]:
        """An ``n``-post self-reply chain; with ``others``, that account replies to every
        ``others_every``-th post in between (so replies interleave in time)."""
        posts: list[FakeStatus] = []
        parent = reply_to
        for i in range(1, n + 1):
            st = self.post(
                account,
                f"{label} {i}/{n}",
                reply_to=parent,
                visibility="public" if i == 1 else continuation_visibility,
                after_s=interval_s,
            )
            posts.append(st)
            if others is not None and others_every and i % others_every == 0:
                self.post(others, f"Reply to {i}", reply_to=st, after_s=interval_s / 3)
            parent = st
        return posts

    # ---- site-neutral threads ------------------------------------------------------------

    def add_thread(self, thread: SynthThread) -> None:
        """Statuses for a ThreadBuilder description: its times become snowflake ids, its
        text, links, mentions, tags, images, card, quote and content warning Mastodon's
        HTML and fields."""
        for key, author in thread.authors.items():
            if key not in self.account_by_key:
                self.account_by_key[key] = self.account(key, author.name)
        for p in sorted(thread.posts, key=lambda p: p.created_at):
            ms = int(p.created_at.timestamp() * 1000)
            st = FakeStatus(
                id=self._new_id(ms),
                account=self.account_by_key[p.author],
                created_ms=ms,
                content=self._synth_html(p),
                in_reply_to=self.by_key.get(p.parent) if p.parent else None,
                visibility=p.visibility,
                spoiler_text=p.spoiler,
                sensitive=bool(p.spoiler),
                media=[
                    {
                        "id": f"{p.key}-{i}",
                        "type": {"gif": "gifv"}.get(img.kind, img.kind),
                        "url": f"{self.base_url}/media/{p.key}/{i}.png",
                        "preview_url": f"{self.base_url}/media/{p.key}/{i}-small.png",
                        "description": img.alt or None,
                    }
                    for i, img in enumerate(p.images)
                ],
                card=(
                    {"url": p.card.url, "title": p.card.title, "description": p.card.description}
                    if p.card
                    else None
                ),
                mentions=[
                    {
                        "id": self.account_by_key[m.author].id,
                        "username": m.author,
                        "acct": m.author,
                        "url": f"{self.base_url}/@{m.author}",
                    }
                    for m in p.mentions
                    if m.author in self.account_by_key
                ],
                deleted=p.deleted,
            )
            quoted = self.by_key.get(p.quote) if p.quote else None
            if quoted is not None:
                st.quote = {
                    "state": "revoked" if p.quote_detached else "accepted",
                    "quoted_status": None if p.quote_detached else self.status_json(quoted),
                }
            self.clock_ms = max(self.clock_ms, ms)
            self.statuses[st.id] = st
            self.by_key[p.key] = st

    def _synth_html(self, p: SynthPost) -> str:
        text = html.escape(p.text)
        for link in p.links:
            shown = html.escape(link.shown)
            anchor = (
                f'<a href="{html.escape(link.url)}" rel="nofollow noopener" target="_blank">'
                f'<span class="invisible">https://</span><span class="ellipsis">{shown}'
                "</span></a>"
            )
            text = text.replace(shown, anchor, 1) if shown in text else f"{text} {anchor}"
        for m in p.mentions:
            shown = html.escape(m.shown)
            anchor = (
                f'<span class="h-card"><a href="{self.base_url}/@{m.author}" '
                f'class="u-url mention">@<span>{m.author}</span></a></span>'
            )
            text = text.replace(shown, anchor, 1) if shown in text else f"{anchor} {text}"
        for tag in p.tags:
            anchor = (
                f'<a href="{self.base_url}/tags/{tag}" class="mention hashtag" rel="tag">'
                f"#<span>{tag}</span></a>"
            )
            text = text.replace(f"#{tag}", anchor, 1)
        return "<p>" + text.replace("\n\n", "</p><p>").replace("\n", "<br>") + "</p>"

    def url(self, key: str) -> str:
        return self.link(self.by_key[key])

    def uri(self, key: str) -> str:
        return self.status_uri(self.by_key[key])

    def status_id(self, key: str) -> str:
        return self.by_key[key].id

    def account_id(self, author_key: str) -> str:
        return self.account_by_key[author_key].id

    def boost(self, account: FakeAccount, st: FakeStatus) -> FakeStatus:
        """A boost of ``st`` by ``account`` (a status of its own, with ``reblog``)."""
        b = self.post(account, html="", after_s=1)
        b.reblog = st
        return b

    def delete(self, st: FakeStatus, *, erase: bool = False) -> None:
        """Delete a post. Recently deleted rows stay in the database (hidden), so
        context still walks through them; ``erase`` removes the row, which clears its
        replies' parent id (the database nulls the foreign key)."""
        st.deleted = True
        if erase:
            for child in self.statuses.values():
                if child.in_reply_to is st:
                    child.in_reply_to = None
                    child.erased_parent_account = st.account
            del self.statuses[st.id]

    def mirror(self, origin: FakeMastodon, statuses: list[FakeStatus]) -> list[FakeStatus]:
        """Copies of ``origin``'s statuses as this server caches them: own ids, the
        origin's uri/url, accounts as ``user@origin-host``."""
        accounts: dict[str, FakeAccount] = {}
        copies: dict[str, FakeStatus] = {}
        out = []
        for st in sorted(statuses, key=lambda s: (len(s.id), s.id)):
            acc = accounts.get(st.account.id)
            if acc is None:
                acc = FakeAccount(
                    self._new_id(self.clock_ms),
                    st.account.username,
                    st.account.display_name,
                    domain=origin.host,
                    remote_uri=f"{origin.base_url}/users/{st.account.username}",
                    remote_url=f"{origin.base_url}/@{st.account.username}",
                )
                accounts[st.account.id] = acc
                self.accounts[acc.id] = acc
            copy = FakeStatus(
                id=self._new_id(st.created_ms),
                account=acc,
                created_ms=st.created_ms,
                content=st.content,
                in_reply_to=copies.get(st.in_reply_to.id) if st.in_reply_to else None,
                visibility=st.visibility,
                spoiler_text=st.spoiler_text,
                remote_uri=origin.status_uri(st),
                remote_url=origin.status_url(st),
            )
            copies[st.id] = copy
            self.statuses[copy.id] = copy
            out.append(copy)
        return out

    # ---- JSON ---------------------------------------------------------------------------

    def account_json(self, acc: FakeAccount) -> dict[str, Any]:
        local = acc.domain is None
        return {
            "id": acc.id,
            "username": acc.username,
            "acct": acc.username if local else f"{acc.username}@{acc.domain}",
            "display_name": acc.display_name,
            "locked": False,
            "bot": False,
            "discoverable": True,
            "indexable": True,
            "group": False,
            "created_at": "2023-05-21T00:00:00.000Z",
            "note": "",
            "url": acc.remote_url or f"{self.base_url}/@{acc.username}",
            "uri": acc.remote_uri or f"{self.base_url}/users/{acc.username}",
            "avatar": f"{self.base_url}/avatars/original/missing.png",
            "followers_count": 1,
            "following_count": 1,
            "statuses_count": sum(1 for s in self.statuses.values() if s.account is acc),
            "noindex": False,
            "emojis": [],
            "fields": [],
        }

    def replies_count(self, st: FakeStatus) -> int:
        # Mastodon counts public and unlisted replies only.
        return sum(1 for s in self.statuses.values() if s.in_reply_to is st and s.visible)

    def replied_account_id(self, st: FakeStatus) -> str | None:
        """Mastodon carries the account over down a self-reply chain: a reply to one's own
        reply to someone names that someone, not oneself."""
        parent = st.in_reply_to
        if parent is None:
            return st.erased_parent_account.id if st.erased_parent_account else None
        if parent.account is st.account and (parent.in_reply_to or parent.erased_parent_account):
            return self.replied_account_id(parent)
        return parent.account.id

    def status_json(self, st: FakeStatus) -> dict[str, Any]:
        parent = st.in_reply_to
        return {
            "id": st.id,
            "created_at": _iso(st.created_ms),
            "in_reply_to_id": parent.id if parent else None,
            "in_reply_to_account_id": self.replied_account_id(st),
            "sensitive": st.sensitive,
            "spoiler_text": st.spoiler_text,
            "visibility": st.visibility,
            "language": "en",
            "uri": self.status_uri(st),
            "url": self.status_url(st),
            "replies_count": self.replies_count(st),
            "reblogs_count": 0,
            "favourites_count": 0,
            "quotes_count": 0,
            "edited_at": None,
            "content": st.content,
            "reblog": self.status_json(st.reblog) if st.reblog else None,
            "account": self.account_json(st.account),
            "media_attachments": st.media,
            "mentions": st.mentions,
            "tags": [],
            "emojis": [],
            "card": st.card,
            "poll": st.poll,
            "quote": st.quote,
        }

    # ---- behaviour ----------------------------------------------------------------------

    @staticmethod
    def _key(status_id: str) -> tuple[int, str]:
        return (len(status_id), status_id)

    def _children(self, st: FakeStatus) -> list[FakeStatus]:
        # Deleted rows still link the tree; they are filtered out after the limits.
        kids = [s for s in self.statuses.values() if s.in_reply_to is st]
        return sorted(kids, key=lambda s: self._key(s.id))

    def ancestors(self, st: FakeStatus) -> list[FakeStatus]:
        found: list[FakeStatus] = []
        cur = st.in_reply_to
        while cur is not None and len(found) < ANCESTORS_LIMIT:
            found.append(cur)
            cur = cur.in_reply_to
        return [s for s in reversed(found) if s.visible]

    def descendants(self, st: FakeStatus) -> list[FakeStatus]:
        # Depth-first in id-path order, limit and depth applied before visibility.
        found: list[FakeStatus] = []
        stack = [(c, 1) for c in reversed(self._children(st))]
        while stack and len(found) < DESCENDANTS_LIMIT:
            cur, depth = stack.pop()
            found.append(cur)
            if depth < DESCENDANTS_DEPTH:
                stack.extend((c, depth + 1) for c in reversed(self._children(cur)))
        shown = [s for s in found if s.visible]

        def self_reply(s: FakeStatus) -> bool:
            return s.in_reply_to is not None and s.in_reply_to.account is s.account

        return [s for s in shown if self_reply(s)] + [s for s in shown if not self_reply(s)]

    def routes(self, app: web.Application) -> None:
        add_nodeinfo(app, self, self._software)
        app.router.add_get("/api/v1/instance", self._instance)
        app.router.add_get("/api/v2/search", self._search)
        app.router.add_get("/objects/{oid}", self._ap_object)
        app.router.add_get("/display/{oid}", self._ap_object)
        app.router.add_get("/users/{name}/statuses/{id}", self._ap_object)
        app.router.add_get("/users/{name}", self._ap_actor)
        app.router.add_get("/api/v1/statuses/{id}", self._status)
        app.router.add_get("/api/v1/statuses/{id}/context", self._context)
        app.router.add_get("/api/v1/accounts/lookup", self._lookup)
        app.router.add_get("/api/v1/accounts/{id}/statuses", self._account_statuses)

    def _software(self) -> tuple[str, str]:
        """(name, version) as NodeInfo gives them."""
        return self.software, INSTANCE_VERSION.get(self.software, "1.0").split()[0]

    def _headers(self) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": "300",
            "X-RateLimit-Remaining": str(max(0, 300 - len(self.requests))),
            "X-RateLimit-Reset": _iso(int(time.time() * 1000) + 300_000),
        }

    async def _instance(self, request: web.Request) -> web.Response:
        if (denied := self._denied(request)) is not None:
            return denied
        version = INSTANCE_VERSION.get(self.software, "1.0")
        return json_response({"uri": self.host, "title": "Fake", "version": version})

    # ---- ActivityPub ------------------------------------------------------------------------

    def ap_note(self, st: FakeStatus) -> dict[str, Any]:
        actor = f"{self.base_url}/users/{st.account.username}"
        to, cc = addressing(actor, st.visibility)
        return {
            "@context": ["https://www.w3.org/ns/activitystreams"],
            "id": self.status_uri(st),
            "type": "Note",
            "attributedTo": actor,
            "content": st.content,
            "published": _iso(st.created_ms),
            "url": self.status_url(st),
            "to": to,
            "cc": cc,
            "inReplyTo": self.status_uri(st.in_reply_to) if st.in_reply_to else None,
            "summary": st.spoiler_text or None,
            "sensitive": st.sensitive,
            "attachment": [],
            "tag": [],
        }

    def _by_object_path(self, request: web.Request) -> FakeStatus | None:
        path = f"{self.base_url}{request.path}"
        for st in self.statuses.values():
            if path in (self.status_uri(st), self.status_url(st)):
                return st
        return None

    _wants_activity = staticmethod(wants_activity)  # a test swaps it for a browser's Accept

    async def _ap_object(self, request: web.Request) -> web.Response:
        st = self._by_object_path(request)
        if st is None or not st.visible:
            return json_response(NOT_FOUND, 404)
        if not self._wants_activity(request):
            return web.Response(text="<html><body>a post</body></html>", content_type="text/html")
        if self.signed_fetch:
            return json_response({"error": "Request not signed"}, 401)
        return activity_response(self.ap_note(st))

    async def _ap_actor(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        acc = next((a for a in self.accounts.values() if a.username == name), None)
        if acc is None or acc.domain is not None:
            return json_response(NOT_FOUND, 404)
        if self.signed_fetch:
            return json_response({"error": "Request not signed"}, 401)
        return json_response(
            {
                "id": f"{self.base_url}/users/{acc.username}",
                "type": "Person",
                "preferredUsername": acc.username,
                "name": acc.display_name,
                "url": f"{self.base_url}/@{acc.username}",
            }
        )

    async def _search(self, request: web.Request) -> web.Response:
        if (denied := self._denied(request)) is not None:
            return denied
        q = request.query.get("q", "")
        signed_in = "Authorization" in request.headers
        resolve = request.query.get("resolve") in ("true", "1")
        if self.software == "mastodon" and not signed_in:
            if resolve:
                return json_response(
                    {
                        "error": "Search queries that resolve remote resources are not "
                        "supported without authentication"
                    },
                    401,
                )
            return json_response({"accounts": [], "statuses": [], "hashtags": []})
        found = [
            self.status_json(st)
            for st in self.statuses.values()
            if st.visible and q in (self.status_uri(st), self.status_url(st))
        ]
        return json_response({"accounts": [], "statuses": found, "hashtags": []})

    def _denied(self, request: web.Request) -> web.Response | None:
        """401 for a login-only server, unless the request carries its token."""
        given = request.headers.get("Authorization", "")
        if self.token is not None and given == f"Bearer {self.token}":
            return None
        if given:
            return json_response(BAD_TOKEN, 401)
        if not self.require_auth:
            return None
        return json_response(
            GTS_AUTH_REQUIRED if self.software == "gotosocial" else AUTH_REQUIRED, 401
        )

    def _visible_status(self, request: web.Request) -> FakeStatus | None:
        st = self.statuses.get(request.match_info["id"])
        return st if st is not None and st.visible else None

    async def _status(self, request: web.Request) -> web.Response:
        if (denied := self._denied(request)) is not None:
            return denied
        st = self._visible_status(request)
        if st is None:
            return json_response(NOT_FOUND, 404)
        return json_response(self.status_json(st), headers=self._headers())

    async def _context(self, request: web.Request) -> web.Response:
        if (denied := self._denied(request)) is not None:
            return denied
        st = self._visible_status(request)
        if st is None:
            return json_response(NOT_FOUND, 404)
        body = {
            "ancestors": [self.status_json(s) for s in self.ancestors(st)],
            "descendants": [self.status_json(s) for s in self.descendants(st)],
        }
        return json_response(body, headers=self._headers())

    async def _lookup(self, request: web.Request) -> web.Response:
        if (denied := self._denied(request)) is not None:
            return denied
        acct = request.query.get("acct", "").removeprefix("@")
        for acc in self.accounts.values():
            name = acc.username if acc.domain is None else f"{acc.username}@{acc.domain}"
            if name == acct or (acc.domain is None and acct == f"{acc.username}@{self.host}"):
                return json_response(self.account_json(acc), headers=self._headers())
        return json_response(NOT_FOUND, 404)

    def _kept_self_reply(self, st: FakeStatus, acc: FakeAccount) -> bool:
        """Whether ``exclude_replies`` keeps this reply: Mastodon keeps self-replies,
        Pleroma none, GoToSocial those that mention nobody."""
        if self.software in ("pleroma", "akkoma"):
            return False
        if self.software == "gotosocial":
            parent = st.in_reply_to.account if st.in_reply_to else st.erased_parent_account
            return parent is acc and not st.mentions
        # Mastodon keeps replies naming the author as the account answered (self-replies,
        # unless below a reply to someone else).
        return self.replied_account_id(st) == acc.id

    async def _account_statuses(self, request: web.Request) -> web.Response:
        if (denied := self._denied(request)) is not None:
            return denied
        acc = self.accounts.get(request.match_info["id"])
        if acc is None:
            return json_response(NOT_FOUND, 404)
        q = request.query
        try:
            limit = min(PAGE_MAX, max(1, int(q.get("limit", PAGE_DEFAULT))))
        except ValueError:
            limit = PAGE_DEFAULT
        if q.get("pinned") == "true":
            return json_response([], headers=self._headers())
        rows = [s for s in self.statuses.values() if s.account is acc and s.visible]
        if q.get("exclude_replies") in ("true", "1"):
            rows = [
                s
                for s in rows
                if (s.in_reply_to is None and s.erased_parent_account is None)
                or self._kept_self_reply(s, acc)
            ]
        if q.get("exclude_reblogs") in ("true", "1"):
            rows = [s for s in rows if s.reblog is None]
        if q.get("only_media") in ("true", "1"):
            rows = [s for s in rows if s.media]
        key = self._key
        rows.sort(key=lambda s: key(s.id))
        max_id, since_id, min_id = q.get("max_id"), q.get("since_id"), q.get("min_id")
        if max_id:
            rows = [s for s in rows if key(s.id) < key(max_id)]
        if min_id:
            # Ascending from min_id, then newest first (Mastodon's paginate_by_min_id).
            rows = [s for s in rows if key(s.id) > key(min_id)][:limit]
            rows.reverse()
        else:
            if since_id:
                rows = [s for s in rows if key(s.id) > key(since_id)]
            rows = list(reversed(rows))[:limit]
        headers = self._headers()
        if rows:
            keep = [(k, v) for k, v in q.items() if k not in ("max_id", "min_id", "since_id")]
            path = f"{self.base_url}{request.path}"
            links = []
            if len(rows) == limit:
                links.append(f'<{path}?{urlencode([*keep, ("max_id", rows[-1].id)])}>; rel="next"')
            links.append(f'<{path}?{urlencode([*keep, ("min_id", rows[0].id)])}>; rel="prev"')
            headers["Link"] = ", ".join(links)
        return json_response([self.status_json(s) for s in rows], headers=headers)
