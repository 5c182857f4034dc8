"""A local server that answers like a Misskey-family server to anonymous readers.

Misskey has no Mastodon API (``/api/v1/...`` is 404). Its own API reads by POST with a
JSON body: ``notes/show``, ``notes/conversation`` (the posts above a note, nearest first)
and ``users/notes`` (``sinceId`` pages oldest first, 100 at most); a note that is not
public comes back with ``isHidden`` and no text, a missing one as 400 ``NO_SUCH_NOTE``.
A note is also read as ActivityPub JSON from ``/notes/<id>`` (``Accept:
application/activity+json``; other Accepts get the web page), its author from
``/users/<id>``; those that are not public are not served (404), deleted ones neither;
``tombstones`` answer with a Tombstone object instead. NodeInfo names the software; with
another ``software`` name the server stands for one whose API the bot does not know.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.fakes.base import FakeServer, json_response
from tests.fakes.fediverse import activity_response, add_nodeinfo, addressing, wants_activity

_B36 = "0123456789abcdefghijklmnopqrstuvwxyz"


def _base36(n: int) -> str:
    out = ""
    while n:
        n, r = divmod(n, 36)
        out = _B36[r] + out
    return out or "0"


@dataclass(eq=False)
class FakeUser:
    id: str
    username: str
    name: str


@dataclass(eq=False)
class FakeNote:
    id: str
    user: FakeUser
    text: str
    created_ms: int
    reply_to: FakeNote | None = None
    visibility: str = "public"  # public, home, followers, specified
    cw: str | None = None
    files: list[dict[str, Any]] = field(default_factory=list)
    mentions: list[tuple[str, str]] = field(default_factory=list)  # (href, @name@host)
    deleted: bool = False


class FakeMisskey(FakeServer):
    def __init__(self, software: str = "misskey") -> None:
        super().__init__()
        self.software = software
        self.users: dict[str, FakeUser] = {}
        self.notes: dict[str, FakeNote] = {}
        self.tombstones = False
        self._seq = itertools.count(1)
        self.clock_ms = int(time.time() * 1000) - 86_400_000

    def _aid(self) -> str:
        """Misskey's aid: milliseconds since 2000 in 8 base-36 characters, then a counter in 2."""
        return (
            _base36(self.clock_ms - 946_684_800_000).rjust(8, "0")
            + _base36(next(self._seq)).rjust(2, "0")[-2:]
        )

    # ---- builders -------------------------------------------------------------------------

    def user(self, username: str, name: str | None = None) -> FakeUser:
        u = FakeUser(self._aid(), username, name or username.title())
        self.users[u.id] = u
        return u

    def note(
        self,
        user: FakeUser,
        text: str,
        *,
        reply_to: FakeNote | None = None,
        visibility: str = "public",
        cw: str | None = None,
        files: list[dict[str, Any]] | None = None,
        mentions: list[tuple[str, str]] | None = None,
    ) -> FakeNote:
        self.clock_ms += 60_000
        n = FakeNote(
            self._aid(),
            user,
            text,
            self.clock_ms,
            reply_to,
            visibility,
            cw,
            list(files or []),
            list(mentions or []),
        )
        self.notes[n.id] = n
        return n

    @property
    def host_name(self) -> str:
        return self.base_url.split("://", 1)[1]

    def note_url(self, n: FakeNote) -> str:
        return f"{self.base_url}/notes/{n.id}"

    def user_url(self, u: FakeUser) -> str:
        return f"{self.base_url}/users/{u.id}"

    # ---- answers --------------------------------------------------------------------------

    def note_json(self, n: FakeNote) -> dict[str, Any]:
        to, cc = addressing(self.user_url(n.user), n.visibility)
        html = "".join(
            f'<a href="{href}" class="u-url mention">{name}</a> ' for href, name in n.mentions
        )
        return {
            "@context": ["https://www.w3.org/ns/activitystreams"],
            "id": self.note_url(n),
            "type": "Note",
            "attributedTo": self.user_url(n.user),
            "content": f"<p>{html}{n.text}</p>",
            "_misskey_content": n.text,
            "published": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(n.created_ms / 1000)),
            "to": to,
            "cc": cc,
            "inReplyTo": self.note_url(n.reply_to) if n.reply_to else None,
            "attachment": [
                {"type": "Document", "mediaType": f["type"], "url": f["url"], "name": f.get("name")}
                for f in n.files
            ],
            "sensitive": any(f.get("sensitive") for f in n.files),
            "summary": n.cw,
            "tag": [{"type": "Mention", "href": href, "name": name} for href, name in n.mentions],
        }

    def api_json(self, n: FakeNote) -> dict[str, Any]:
        hidden = n.visibility not in ("public", "home")
        return {
            "id": n.id,
            "createdAt": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(n.created_ms / 1000)),
            "userId": n.user.id,
            "user": {
                "id": n.user.id,
                "name": n.user.name,
                "username": n.user.username,
                "host": None,
            },
            "text": None if hidden else n.text,
            "cw": n.cw,
            "visibility": n.visibility,
            "replyId": n.reply_to.id if n.reply_to else None,
            "renoteId": None,
            "files": []
            if hidden
            else [
                {
                    "type": f["type"],
                    "url": f["url"],
                    "comment": f.get("comment"),
                    "name": f["url"].rsplit("/", 1)[-1],
                    "isSensitive": bool(f.get("sensitive")),
                    "thumbnailUrl": None,
                }
                for f in n.files
            ],
            "repliesCount": sum(1 for m in self.notes.values() if m.reply_to is n),
            **({"isHidden": True} if hidden else {}),
        }

    @property
    def _has_api(self) -> bool:
        return self.software in ("misskey", "sharkey", "firefish", "foundkey", "cherrypick")

    @staticmethod
    def _no_such_note() -> web.Response:
        body = {"error": {"message": "No such note.", "code": "NO_SUCH_NOTE", "id": "24fcbfc6"}}
        return json_response(body, 400)

    async def _payload(self, request: web.Request) -> dict[str, Any]:
        try:
            body = await request.json()
        except ValueError:
            body = None
        return body if isinstance(body, dict) else {}

    async def _api_show(self, request: web.Request) -> web.Response:
        if not self._has_api:
            return await self._missing(request)
        n = self.notes.get(str((await self._payload(request)).get("noteId")))
        if n is None or n.deleted:
            return self._no_such_note()
        return json_response(self.api_json(n))

    async def _api_conversation(self, request: web.Request) -> web.Response:
        if not self._has_api:
            return await self._missing(request)
        q = await self._payload(request)
        n = self.notes.get(str(q.get("noteId")))
        if n is None or n.deleted:
            return self._no_such_note()
        above: list[dict[str, Any]] = []
        cur = n.reply_to
        while cur is not None and len(above) < int(q.get("limit", 10)):
            if not cur.deleted:
                above.append(self.api_json(cur))
            cur = cur.reply_to
        return json_response(above)

    async def _api_user_notes(self, request: web.Request) -> web.Response:
        if not self._has_api:
            return await self._missing(request)
        q = await self._payload(request)
        limit = min(100, int(q.get("limit", 10)))
        rows = [
            n
            for n in self.notes.values()
            if n.user.id == q.get("userId")
            and not n.deleted
            and n.visibility in ("public", "home")
            and (q.get("withReplies") or n.reply_to is None)
        ]
        rows.sort(key=lambda n: n.id)
        since = q.get("sinceId")
        # With sinceId: the oldest after it first; without: the newest first.
        rows = [n for n in rows if n.id > since] if since else list(reversed(rows))
        rows = rows[:limit]
        return json_response([self.api_json(n) for n in rows])

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/api/notes/show", self._api_show)
        app.router.add_post("/api/notes/conversation", self._api_conversation)
        app.router.add_post("/api/users/notes", self._api_user_notes)
        add_nodeinfo(app, self, lambda: (self.software, "2024.11.0"), schema="2.1")
        app.router.add_get("/notes/{id}", self._note)
        app.router.add_get("/users/{id}", self._user)
        app.router.add_route("*", "/{tail:.*}", self._missing)

    async def _missing(self, request: web.Request) -> web.Response:
        return json_response(
            {"error": {"message": "Unknown API endpoint.", "code": "UNKNOWN_API_ENDPOINT"}}, 404
        )

    async def _note(self, request: web.Request) -> web.Response:
        n = self.notes.get(request.match_info["id"])
        if n is not None and n.deleted and self.tombstones:
            return activity_response({"id": self.note_url(n), "type": "Tombstone"})
        if n is None or n.deleted or n.visibility not in ("public", "home"):
            return web.Response(status=404, text="Not found", content_type="text/html")
        if not wants_activity(request):
            return web.Response(
                text=f"<html><body>{n.text}</body></html>", content_type="text/html"
            )
        return activity_response(self.note_json(n))

    async def _user(self, request: web.Request) -> web.Response:
        u = self.users.get(request.match_info["id"])
        if u is None:
            return web.Response(status=404, text="Not found", content_type="text/html")
        return activity_response(
            {
                "id": self.user_url(u),
                "type": "Person",
                "preferredUsername": u.username,
                "name": u.name,
                "url": f"{self.base_url}/@{u.username}",
            }
        )
