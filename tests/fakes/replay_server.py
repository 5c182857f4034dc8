"""Serves answers recorded from real servers, as those servers gave them.

One recording file (``kind`` mastodon, bluesky or x) is served by one local aiohttp app
per recorded host. Every URL of a recorded host in an answer is rewritten to the local
server that plays that host, so links, origin look-ups and handles stay inside 127.0.0.1.
A request the recording does not hold gets the real server's answer for something it does
not have (404 with that software's error body); ``unrecorded`` lists such requests.

NodeInfo and ``/api/v1/instance`` answer with the recording's ``flavor`` (what that
software says about itself; these calls were not recorded). A recording of a login-only
server opens to a request carrying the ``token`` a test sets.

Mastodon contexts that were not recorded are derived from the recorded statuses'
``in_reply_to_id`` links (what the server would compute from the same posts); derived
answers are listed in ``derived`` so a test can tell recorded from derived.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from tests.fakes.base import FakeServer, json_response
from tests.fakes.fediverse import add_nodeinfo

REPO = Path(__file__).resolve().parents[2]
# Beside the repository (``../shared``); a worktree one level deeper looks one further up.
DATA_DIR = next(
    (
        d / "shared" / "real_replay" / "data"
        for d in (REPO.parent, REPO.parent.parent)
        if (d / "shared" / "real_replay" / "data").is_dir()
    ),
    REPO.parent / "shared" / "real_replay" / "data",
)

# What each server software answers for a missing record or an anonymous call.
NOT_FOUND_BODY = {
    "mastodon": {"error": "Record not found"},
    "pleroma": {"error": "Not found"},
    "gotosocial": {"error": "Not Found"},
}
AUTH_BODY = {
    "mastodon": {"error": "This API requires an authenticated user"},
    "pleroma": {"error": "Invalid credentials."},
    "gotosocial": {"error": "Unauthorized: token not supplied"},
}
PAGE_DEFAULT, PAGE_MAX = 20, 40
# What each software says about itself in NodeInfo and /api/v1/instance.
SOFTWARE = {
    "mastodon": ("mastodon", "4.3.2", "4.3.2"),
    "pleroma": ("pleroma", "2.6.3", "2.7.2 (compatible; Pleroma 2.6.3)"),
    "gotosocial": ("gotosocial", "0.17.3", "0.17.3+git-7a3c4ff"),
}


def recording_path(name: str) -> Path:
    return DATA_DIR / (name if name.endswith(".json") else f"{name}.json")


def load_recording(name: str) -> dict[str, Any]:
    return json.loads(recording_path(name).read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def _id_key(status_id: str) -> tuple[int, str]:
    return (int(status_id), "") if status_id.isdigit() else (0, status_id)


class ReplayServer(FakeServer):
    """Plays one host of a recording. ``rewrite`` maps recorded base URLs (``https://host``)
    to the local servers playing them; it is filled in by :class:`ReplaySet`."""

    def __init__(self, recording: dict[str, Any], host: str | None = None) -> None:
        super().__init__()
        self.rec = recording
        self.kind: str = recording["kind"]
        self.host = host or recording.get("host", "")
        self.flavor: str = recording.get("flavor", "mastodon")
        self.rewrite: dict[str, str] = {}
        self.unrecorded: list[str] = []
        self.derived: list[str] = []
        self.token: str | None = None  # opens a login-only recording

    # -- output --------------------------------------------------------------------------

    def _out(
        self, data: Any, status: int = 200, headers: dict[str, str] | None = None
    ) -> web.Response:
        text = json.dumps(data)
        for recorded, local in self.rewrite.items():
            text = text.replace(json.dumps(recorded)[1:-1], local)
        return web.Response(
            status=status, body=text.encode(), content_type="application/json", headers=headers
        )

    def _missing(self, request: web.Request, status: int, body: Any) -> web.Response:
        self.unrecorded.append(request.path_qs)
        return json_response(body, status)

    def _not_found(self, request: web.Request) -> web.Response:
        return self._missing(
            request, 404, NOT_FOUND_BODY.get(self.flavor, NOT_FOUND_BODY["mastodon"])
        )

    # -- routes --------------------------------------------------------------------------

    def routes(self, app: web.Application) -> None:
        if self.kind == "mastodon":
            add_nodeinfo(app, self, lambda: self._software()[:2])
            app.router.add_get("/api/v1/instance", self._instance)
            app.router.add_get("/api/v1/statuses/{id}", self._status)
            app.router.add_get("/api/v1/statuses/{id}/context", self._context)
            app.router.add_get("/api/v1/accounts/lookup", self._lookup)
            app.router.add_get("/api/v1/accounts/{id}/statuses", self._account_statuses)
        elif self.kind == "bluesky":
            app.router.add_get("/xrpc/app.bsky.feed.getPostThread", self._bsky_thread)
            app.router.add_get("/xrpc/app.bsky.feed.getAuthorFeed", self._bsky_feed)
            app.router.add_get("/xrpc/app.bsky.feed.getPosts", self._bsky_posts)
            app.router.add_get("/xrpc/app.bsky.actor.getProfile", self._bsky_profile)
            app.router.add_get("/xrpc/com.atproto.identity.resolveHandle", self._bsky_resolve)
        elif self.kind == "x":
            app.router.add_get("/2/{what:thread|status}/{id}", self._fx)
        app.router.add_route("*", "/{tail:.*}", self._fallback)

    async def _fallback(self, request: web.Request) -> web.Response:
        if self.kind == "bluesky":
            return self._missing(
                request, 501, {"error": "MethodNotImplemented", "message": "Method Not Implemented"}
            )
        return self._not_found(request)

    # -- Mastodon API ----------------------------------------------------------------------

    @property
    def statuses(self) -> dict[str, dict[str, Any]]:
        return self.rec.get("statuses") or {}

    def _recorded_error(self, request: web.Request) -> web.Response | None:
        err = (self.rec.get("errors") or {}).get(request.path)
        if err is not None:
            return json_response(err[1], err[0])
        given = request.headers.get("Authorization")
        if self.token is not None and given == f"Bearer {self.token}":
            return None
        if self.rec.get("mode") == "auth_required" or given:
            return json_response(AUTH_BODY.get(self.flavor, AUTH_BODY["mastodon"]), 401)
        return None

    def _software(self) -> tuple[str, str, str]:
        return SOFTWARE.get(self.flavor, SOFTWARE["mastodon"])

    async def _instance(self, request: web.Request) -> web.Response:
        if (err := self._recorded_error(request)) is not None:
            return err
        return json_response({"uri": self.host, "version": self._software()[2]})

    def _status_json(self, st: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in st.items() if k != "tagged_collections"}

    async def _status(self, request: web.Request) -> web.Response:
        if (err := self._recorded_error(request)) is not None:
            return err
        st = self.statuses.get(request.match_info["id"])
        if st is None:
            return self._not_found(request)
        return self._out(self._status_json(st))

    async def _context(self, request: web.Request) -> web.Response:
        if (err := self._recorded_error(request)) is not None:
            return err
        sid = request.match_info["id"]
        if sid not in self.statuses:
            return self._not_found(request)
        ctx = (self.rec.get("contexts") or {}).get(sid)
        if ctx is None:
            self.derived.append(request.path)
            ancestors, descendants = self._derive_context(sid)
        else:
            ancestors, descendants = ctx["ancestors"], ctx["descendants"]
        body = {
            "ancestors": [
                self._status_json(self.statuses[i]) for i in ancestors if i in self.statuses
            ],
            "descendants": [
                self._status_json(self.statuses[i]) for i in descendants if i in self.statuses
            ],
        }
        return self._out(body)

    def _derive_context(self, sid: str) -> tuple[list[str], list[str]]:
        ancestors: list[str] = []
        parent = self.statuses[sid].get("in_reply_to_id")
        while parent in self.statuses and parent not in ancestors:
            ancestors.insert(0, parent)
            parent = self.statuses[parent].get("in_reply_to_id")
        children: dict[str, list[str]] = {}
        for st in self.statuses.values():
            if st.get("in_reply_to_id"):
                children.setdefault(st["in_reply_to_id"], []).append(st["id"])
        descendants: list[str] = []
        stack = sorted(children.get(sid, []), key=_id_key, reverse=True)
        while stack:
            cur = stack.pop()
            if cur in descendants:
                continue
            descendants.append(cur)
            stack.extend(sorted(children.get(cur, []), key=_id_key, reverse=True))
        return ancestors, descendants

    def _accounts(self) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        for st in self.statuses.values():
            acc = st.get("account") or {}
            if acc.get("id"):
                found.setdefault(str(acc["id"]), acc)
        return found

    async def _lookup(self, request: web.Request) -> web.Response:
        if (err := self._recorded_error(request)) is not None:
            return err
        acct = request.query.get("acct", "").removeprefix("@")
        for acc in self._accounts().values():
            if acct in (acc.get("acct"), f"{acc.get('acct')}@{self.host}"):
                return self._out(acc)
        return self._not_found(request)

    def _listed(self, st: dict[str, Any], account_id: str, exclude_replies: bool) -> bool:
        if str((st.get("account") or {}).get("id")) != account_id:
            return False
        if exclude_replies and st.get("in_reply_to_id"):
            # Mastodon keeps self-replies; Pleroma drops every reply; GoToSocial drops
            # self-replies that mention anyone.
            if self.flavor == "pleroma":
                return False
            if str(st.get("in_reply_to_account_id")) != account_id:
                return False
            if self.flavor == "gotosocial" and st.get("mentions"):
                return False
        return True

    async def _account_statuses(self, request: web.Request) -> web.Response:
        if (err := self._recorded_error(request)) is not None:
            return err
        account_id = request.match_info["id"]
        if account_id not in self._accounts():
            return self._not_found(request)
        q = request.query
        if q.get("pinned") == "true":
            return self._out([])
        try:
            limit = min(PAGE_MAX, max(1, int(q.get("limit", PAGE_DEFAULT))))
        except ValueError:
            limit = PAGE_DEFAULT
        exclude = q.get("exclude_replies") in ("true", "1")
        rows = [s for s in self.statuses.values() if self._listed(s, account_id, exclude)]
        if q.get("only_media") in ("true", "1"):
            rows = [s for s in rows if s.get("media_attachments")]
        rows.sort(key=lambda s: _id_key(s["id"]))
        max_id, since_id, min_id = q.get("max_id"), q.get("since_id"), q.get("min_id")
        trusted = self.rec.get("listing_trusted") or {}
        if trusted.get("account") != account_id or (
            max_id is None or _id_key(max_id) <= _id_key(trusted["min"])
        ):
            # Only part of the listing was recorded: the page is what the recording holds.
            self.unrecorded.append(request.path_qs)
        if max_id:
            rows = [s for s in rows if _id_key(s["id"]) < _id_key(max_id)]
        if min_id:
            rows = [s for s in rows if _id_key(s["id"]) > _id_key(min_id)][:limit]
            rows.reverse()
        else:
            if since_id:
                rows = [s for s in rows if _id_key(s["id"]) > _id_key(since_id)]
            rows = list(reversed(rows))[:limit]
        headers: dict[str, str] = {}
        if rows:
            keep = [(k, v) for k, v in q.items() if k not in ("max_id", "min_id", "since_id")]
            path = f"{self.base_url}{request.path}"
            links = []
            if len(rows) == limit:
                links.append(
                    f'<{path}?{urlencode([*keep, ("max_id", rows[-1]["id"])])}>; rel="next"'
                )
            links.append(f'<{path}?{urlencode([*keep, ("min_id", rows[0]["id"])])}>; rel="prev"')
            headers["Link"] = ", ".join(links)
        return self._out([self._status_json(s) for s in rows], headers=headers)

    # -- Bluesky AppView -------------------------------------------------------------------

    def _bsky_posts_by_uri(self) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}

        def walk(node: Any) -> None:
            if isinstance(node, dict):
                post = node.get("post")
                if isinstance(post, dict) and "uri" in post and "record" in post:
                    found.setdefault(post["uri"], post)
                for v in node.values():
                    walk(v)
            elif isinstance(node, list):
                for v in node:
                    walk(v)

        walk(self.rec.get("threads"))
        walk(self.rec.get("feeds"))
        return found

    def _bsky_profiles(self) -> dict[str, dict[str, Any]]:
        return {
            key: p["author"]
            for p in self._bsky_posts_by_uri().values()
            for key in (p["author"]["did"], p["author"]["handle"])
        }

    def _bsky_error(self, request: web.Request, error: str, message: str) -> web.Response:
        return self._missing(request, 400, {"error": error, "message": message})

    async def _bsky_thread(self, request: web.Request) -> web.Response:
        uri = request.query.get("uri", "")
        rkey = uri.rsplit("/", 1)[-1]
        thread = (self.rec.get("threads") or {}).get(rkey)
        if thread is None or "/app.bsky.feed.post/" not in uri:
            return self._bsky_error(request, "NotFound", f"Post not found: {uri}")
        return self._out(thread["body"])

    async def _bsky_feed(self, request: web.Request) -> web.Response:
        actor = request.query.get("actor", "")
        actor = (self.rec.get("actor_aliases") or {}).get(actor, actor)
        feed = (self.rec.get("feeds") or {}).get(actor)
        if feed is None:
            return self._bsky_error(request, "InvalidRequest", "Profile not found")
        if request.query.get("cursor"):
            # Only the first page was recorded.
            self.unrecorded.append(request.path_qs)
            return self._out({"feed": []})
        return self._out(feed)

    async def _bsky_posts(self, request: web.Request) -> web.Response:
        known = self._bsky_posts_by_uri()
        uris = request.query.getall("uris", [])
        missing = [u for u in uris if u not in known]
        if missing:
            self.unrecorded.append(request.path_qs)
        return self._out({"posts": [known[u] for u in uris if u in known]})

    async def _bsky_profile(self, request: web.Request) -> web.Response:
        prof = self._bsky_profiles().get(request.query.get("actor", ""))
        if prof is None:
            return self._bsky_error(request, "InvalidRequest", "Profile not found")
        return self._out(prof)

    async def _bsky_resolve(self, request: web.Request) -> web.Response:
        prof = self._bsky_profiles().get(request.query.get("handle", ""))
        if prof is None:
            return self._bsky_error(request, "InvalidRequest", "Unable to resolve handle")
        return self._out({"did": prof["did"]})

    # -- FxTwitter -------------------------------------------------------------------------

    async def _fx(self, request: web.Request) -> web.Response:
        answer = (self.rec.get("responses") or {}).get(request.path)
        if answer is None:
            return self._missing(
                request, 404, {"status": None, "thread": None, "author": None, "code": 404}
            )
        return self._out(answer[1], answer[0])


class ReplaySet:
    """Starts a server for the recording's host and one for each of its ``origin_hosts``
    (which answer like servers that hold none of these posts, unless the recording says
    otherwise), all rewriting each other's URLs to local ones."""

    def __init__(self, name: str) -> None:
        self.recording = load_recording(name)
        self.main = ReplayServer(self.recording)
        self.origins = {
            h: ReplayServer(
                {"kind": "mastodon", "host": h, "statuses": {}, "flavor": "mastodon"}, h
            )
            for h in self.recording.get("origin_hosts") or []
        }

    @property
    def servers(self) -> list[ReplayServer]:
        return [self.main, *self.origins.values()]

    def local(self, url: str) -> str:
        """A recorded URL pointing at the local server that plays its host."""
        for recorded, local in self.main.rewrite.items():
            if url.startswith(recorded):
                return local + url[len(recorded) :]
        return url

    @property
    def unrecorded(self) -> list[str]:
        return [r for s in self.servers for r in s.unrecorded]

    async def __aenter__(self) -> ReplaySet:
        for server in self.servers:
            await server.start()
        rewrite: dict[str, str] = {}
        base = self.recording.get("base")
        if base:
            rewrite[base] = self.main.base_url
        for host, server in self.origins.items():
            rewrite[f"https://{host}"] = server.base_url
        for server in self.servers:
            server.rewrite = rewrite
        return self

    async def __aexit__(self, *exc: object) -> None:
        for server in self.servers:
            await server.stop()
