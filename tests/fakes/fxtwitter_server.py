"""A local stand-in for the FxTwitter API v2 (``/2/thread/{id}``, ``/2/status/{id}``).

Populated from in-memory statuses shaped like the real ones (see ``make_status``). It behaves
like the service where it matters to us:

- 401 with FxTwitter's error body when the request has no User-Agent;
- ``/2/thread`` walks back through parents (any author) and forward through the focal
  author's self-replies (the earliest reply first), like ``constructTwitterThread``;
- ``mode="single"`` answers ``thread: null`` like an instance without X credentials, and
  ``mode="single_list"`` answers with only the focal post in ``thread``;
- deleted or withheld posts come back as tombstones (inside a thread, as a quote, or as a
  404 for the linked post); protected accounts get 401; unknown ids 404; bad ids 400;
- polls come as ``poll`` with per-choice counts and shares, the end time and the
  "time left" wording, outside ``text``, as FxEmbed answers;
- ``text`` has t.co links expanded while ``raw_text`` keeps the t.co links and facets,
  unless ``expand_links=False`` (older instances);
- faults (429 with Retry-After, 5xx, hangs, malformed bodies) come from ``FakeServer.inject``.
"""

from __future__ import annotations

import copy
import re
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from aiohttp import web

from tests.fakes.base import FakeServer, json_response

Mode = Literal["thread", "single", "single_list"]

NO_USER_AGENT_BODY = {
    "error": "You must identify yourself with a User-Agent header in order to use the "
    "FxTwitter API. We recommend using a descriptive User-Agent header to identify your app, "
    "such as 'MyAwesomeBot/1.0 (+http://example.com/myawesomebot)'. We don't track or save "
    "what kinds of data you are pulling, but you may be blocked if you send too many requests "
    "from an unidentifiable user agent."
}
NOT_FOUND_BODY: dict[str, Any] = {"code": 404, "status": None, "thread": None, "author": None}
PRIVATE_BODY: dict[str, Any] = {"code": 401, "status": None, "thread": None, "author": None}
TOMBSTONE_MESSAGES = {
    "deleted": "This post was deleted by the post author.",
    "suspended": "This post is from a suspended account.",
    "private": "This post is from an account that has protected its posts.",
    "blocked": "This post is unavailable.",
    "unavailable": "This post is unavailable.",
}
_SNOWFLAKE_EPOCH_MS = 1288834974657
_URL = re.compile(r"https?://\S+")


def snowflake_at(iso: str, seq: int = 0) -> str:
    """A snowflake id whose embedded time is ``iso`` (for fixtures that need ids)."""
    ms = int(datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp() * 1000)
    return str(((ms - _SNOWFLAKE_EPOCH_MS) << 22) | (0x1A3 << 12) | (seq & 0xFFF))


def _time_of(snowflake: str) -> datetime:
    return datetime.fromtimestamp(((int(snowflake) >> 22) + _SNOWFLAKE_EPOCH_MS) / 1000, UTC)


def make_user(
    screen_name: str, user_id: str, name: str = "", protected: bool = False
) -> dict[str, Any]:
    return {
        "type": "profile",
        "id": user_id,
        "name": name or screen_name,
        "screen_name": screen_name,
        "avatar_url": f"https://pbs.twimg.com/profile_images/{user_id}/a_200x200.jpg",
        "banner_url": None,
        "description": "",
        "raw_description": {"text": "", "facets": []},
        "location": "",
        "url": f"https://x.com/{screen_name}",
        "protected": protected,
        "followers": 100,
        "following": 100,
        "statuses": 1000,
        "media_count": 10,
        "likes": 10,
        "joined": "Tue Jun 08 21:14:51 +0000 2021",
        "website": None,
        "verification": {"verified": False, "type": None},
    }


def make_status(
    status_id: str,
    user: dict[str, Any],
    text: str,
    *,
    parent: dict[str, Any] | None = None,
    photos: list[tuple[str, str]] | None = None,
    videos: list[tuple[str, str]] | None = None,
    gifs: list[str] | None = None,
    card: dict[str, Any] | None = None,
    quote: dict[str, Any] | None = None,
    sensitive: bool = False,
    replies: int = 1,
    mention_prefix: str = "",
    poll: list[tuple[str, int]] | None = None,
    poll_ends_at: str = "",
) -> dict[str, Any]:
    """A v2 ``APITwitterStatus``. ``text`` is the displayed text with full URLs; each URL
    becomes a t.co link with a url facet in ``raw_text``, as X stores it. ``photos`` and
    ``videos`` are ``(url, alt)`` pairs. ``mention_prefix`` ("@someone ") is the reply
    mention X keeps in front of the displayed text."""
    when = _time_of(status_id)
    raw, facets = mention_prefix, []
    pos = 0
    for i, m in enumerate(_URL.finditer(text)):
        raw += text[pos : m.start()]
        tco = f"https://t.co/{status_id[-6:]}{i:02d}"
        start = len(raw)
        raw += tco
        facets.append(
            {
                "type": "url",
                "indices": [start, len(raw)],
                "original": tco,
                "replacement": m.group(0),
                "display": m.group(0).split("://", 1)[1][:30],
            }
        )
        pos = m.end()
    raw += text[pos:]
    media: dict[str, Any] = {}
    all_media: list[dict[str, Any]] = []
    for n, (url, alt) in enumerate(photos or []):
        item = {"type": "photo", "id": f"{status_id}{n}", "url": url, "width": 1200}
        item |= {"height": 800, "altText": alt} if alt else {"height": 800}
        media.setdefault("photos", []).append(item)
        all_media.append(item)
    for n, (url, alt) in enumerate(videos or []):
        item = {
            "type": "video",
            "id": f"{status_id}v{n}",
            "url": url,
            "thumbnail_url": url.rsplit(".", 1)[0] + ".jpg",
            "width": 1280,
            "height": 720,
            "duration": 12.5,
            "formats": [{"container": "mp4", "codec": "h264", "bitrate": 2176000, "url": url}],
        }
        if alt:
            item["altText"] = alt
        media.setdefault("videos", []).append(item)
        all_media.append(item)
    for n, url in enumerate(gifs or []):
        item = {
            "type": "gif",
            "id": f"{status_id}g{n}",
            "url": url,
            "thumbnail_url": url.rsplit(".", 1)[0] + ".jpg",
            "width": 480,
            "height": 270,
            "duration": 0,
            "formats": [{"container": "mp4", "url": url}],
        }
        media.setdefault("videos", []).append(item)
        all_media.append(item)
    if all_media:
        media["all"] = all_media
    status: dict[str, Any] = {
        "type": "status",
        "id": status_id,
        "url": f"https://x.com/{user['screen_name']}/status/{status_id}",
        "text": mention_prefix + text,
        "created_at": when.strftime("%a %b %d %H:%M:%S +0000 %Y"),
        "created_timestamp": int(when.timestamp()),
        "likes": 10,
        "reposts": 1,
        "quotes": 0,
        "replies": replies,
        "author": user,
        "media": media,
        "raw_text": {
            "text": raw,
            "display_text_range": [len(mention_prefix), len(raw)],
            "facets": facets,
        },
        "lang": "en",
        "possibly_sensitive": sensitive,
        "replying_to": None,
        "source": "Twitter Web App",
        "embed_card": "tweet",
        "provider": "twitter",
        "views": 1000,
        "bookmarks": 1,
        "is_note_tweet": False,
        "community_note": None,
        "reposted_by": None,
    }
    if parent is not None:
        status["replying_to"] = {
            "screen_name": parent["author"]["screen_name"],
            "status": parent["id"],
            "url": parent["url"],
            "profile_url": parent["author"]["url"],
            "display_name": parent["author"]["name"],
        }
    if card is not None:
        status["card"] = card
    if poll is not None:
        ends = poll_ends_at or (when + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        status["poll"] = make_poll(poll, ends)
    if quote is not None:
        status["quote"] = quote
    return status


def make_poll(choices: list[tuple[str, int]], ends_at: str) -> dict[str, Any]:
    """FxTwitter's ``APIPoll``: shares to one decimal, the total, the end time and the
    English "time left" as of the answer ("Final results" once voting is over)."""
    total = sum(votes for _, votes in choices)
    return {
        "ends_at": ends_at,
        "time_left_en": _time_left(datetime.fromisoformat(ends_at.replace("Z", "+00:00"))),
        "total_votes": total,
        "choices": [
            {
                "label": label,
                "count": votes,
                "percentage": round(votes / total * 100, 1) if total else 0,
            }
            for label, votes in choices
        ],
    }


def _time_left(ends: datetime) -> str:
    left = (ends - datetime.now(UTC)).total_seconds()
    if left <= 0:
        return "Final results"
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60), ("second", 1)):
        if left >= size:
            n = int(left // size)
            return f"{n} {unit}{'' if n == 1 else 's'} left"
    return "1 second left"


def make_tombstone(
    reason: str = "deleted", status_id: str | None = None, with_id: bool = True
) -> dict[str, Any]:
    tomb: dict[str, Any] = {
        "type": "tombstone",
        "provider": "twitter",
        "reason": reason,
        "message": TOMBSTONE_MESSAGES.get(reason, "This post is unavailable."),
    }
    if status_id is not None and with_id:
        tomb["id"] = status_id
        tomb["url"] = f"https://x.com/i/status/{status_id}"
    return tomb


class FxTwitterFake(FakeServer):
    def __init__(
        self,
        latency_s: float = 0.0,
        mode: Mode = "thread",
        expand_links: bool = True,
        tombstone_ids: bool = True,
        thread_cap: int | None = None,
    ) -> None:
        super().__init__(latency_s)
        self.mode: Mode = mode
        self.expand_links = expand_links
        self.tombstone_ids = tombstone_ids
        self.thread_cap = thread_cap
        self.statuses: dict[str, dict[str, Any]] = {}
        # Posts that exist in the conversation but are served as tombstones: id -> reason.
        self.gone: dict[str, str] = {}

    async def __aenter__(self) -> FxTwitterFake:
        await self.start()
        return self

    # -- population -----------------------------------------------------------------------

    def add(self, *statuses: dict[str, Any]) -> None:
        for status in statuses:
            self.statuses[status["id"]] = status

    def remove(self, status_id: str, reason: str = "deleted") -> None:
        """Serve this post as a tombstone from now on (deleted, suspended, ...)."""
        self.gone[status_id] = reason

    # -- routes ---------------------------------------------------------------------------

    def routes(self, app: web.Application) -> None:
        app.router.add_get("/2/thread/{id}", self._thread)
        app.router.add_get("/2/status/{id}", self._status)

    def _gate(self, request: web.Request) -> web.Response | None:
        if not request.headers.get("User-Agent", "").strip():
            return json_response(NO_USER_AGENT_BODY, status=401)
        status_id = request.match_info["id"]
        if not re.fullmatch(r"[0-9]{2,20}", status_id):
            return json_response({"code": 400, "message": "Invalid status ID"}, status=400)
        if status_id in self.gone:
            body = dict(NOT_FOUND_BODY)
            body["status"] = make_tombstone(self.gone[status_id], status_id)
            return json_response(body, status=404)
        status = self.statuses.get(status_id)
        if status is None:
            return json_response(NOT_FOUND_BODY, status=404)
        if status["author"].get("protected"):
            return json_response(PRIVATE_BODY, status=401)
        return None

    async def _status(self, request: web.Request) -> web.Response:
        refused = self._gate(request)
        if refused is not None:
            return refused
        status = self._view(request.match_info["id"])
        return json_response(
            {"code": 200, "status": status, "thread": None, "author": status["author"]}
        )

    async def _thread(self, request: web.Request) -> web.Response:
        refused = self._gate(request)
        if refused is not None:
            return refused
        focal_id = request.match_info["id"]
        status = self._view(focal_id)
        thread: list[dict[str, Any]] | None
        if self.mode == "single":
            thread = None
        elif self.mode == "single_list":
            thread = [status]
        else:
            thread = [self._view(i) for i in self._conversation(focal_id)]
        return json_response(
            {"code": 200, "status": status, "thread": thread, "author": status["author"]}
        )

    # -- thread construction --------------------------------------------------------------

    def _conversation(self, focal_id: str) -> list[str]:
        focal = self.statuses[focal_id]
        back: list[str] = []
        current = focal
        while (rt := current.get("replying_to")) and rt["status"] in self.statuses:
            back.append(rt["status"])
            current = self.statuses[rt["status"]]
        forward: list[str] = []
        author_id = focal["author"]["id"]
        current_id = focal_id
        while True:
            children = [
                s["id"]
                for s in self.statuses.values()
                if (s.get("replying_to") or {}).get("status") == current_id
                and s["author"]["id"] == author_id
            ]
            if not children:
                break
            current_id = min(children, key=int)
            forward.append(current_id)
        ids = [*reversed(back), focal_id, *forward]
        if self.thread_cap is not None and len(ids) > self.thread_cap:
            # Keep the linked post inside the window, as the service keeps it in view.
            at = ids.index(focal_id)
            start = max(0, min(at, len(ids) - self.thread_cap))
            ids = ids[start : start + self.thread_cap]
        return ids

    def _view(self, status_id: str) -> dict[str, Any]:
        """The status as served: a tombstone when gone, quotes resolved, links as the
        instance would render them."""
        if status_id in self.gone:
            return make_tombstone(self.gone[status_id], status_id, self.tombstone_ids)
        status = copy.deepcopy(self.statuses[status_id])
        if status["author"].get("protected"):
            return make_tombstone("private", status_id, self.tombstone_ids)
        quote = status.get("quote")
        if isinstance(quote, dict) and quote.get("id") in self.gone:
            status["quote"] = make_tombstone(self.gone[quote["id"]], quote["id"])
        if not self.expand_links:
            status["text"] = status["raw_text"]["text"]
        if isinstance(status.get("poll"), dict):
            # The wording is the service's at answer time, like the real one.
            ends = datetime.fromisoformat(status["poll"]["ends_at"].replace("Z", "+00:00"))
            status["poll"]["time_left_en"] = _time_left(ends)
        return status


def self_thread(user: dict[str, Any], posts: list[Any]) -> list[dict[str, Any]]:
    """Statuses for a self-thread given as neutral dicts ``{"id", "text"}`` (for example
    ``tests.fixtures.seed_thread.POSTS``): each replies to the one before it."""
    out: list[dict[str, Any]] = []
    for i, post in enumerate(posts):
        last = i == len(posts) - 1
        parent = out[-1] if out else None
        out.append(
            make_status(post["id"], user, post["text"], parent=parent, replies=0 if last else 1)
        )
    return out
