"""Links to posts on Mastodon-API servers (Mastodon, Pleroma, Akkoma, GoToSocial...).

Any host can run such a server, so the forms are recognised by path alone; hosts that
belong to other sources (Bluesky, X and their mirrors) are never claimed. Status ids are
opaque: digits (Mastodon snowflakes), FlakeIDs (Pleroma) or ULIDs (GoToSocial).

Links that name an ActivityPub object rather than a status id (Pleroma/Akkoma
``/objects/<uuid>``, Misskey-family ``/notes/<id>``, Friendica ``/display/<guid>``) are
recognised too; the source resolves them through the object (objects.py).
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import NamedTuple
from urllib.parse import unquote, urlsplit

from bot.errors import UsageError

# Hosts handled by other sources, or well-known sites whose paths look alike.
_NOT_FEDIVERSE = (
    "bsky.app",
    "bsky.social",
    "fxbsky.app",
    "vxbsky.app",
    "bskyx.app",
    "bskye.app",
    "x.com",
    "twitter.com",
    "fxtwitter.com",
    "fixupx.com",
    "twittpr.com",
    "vxtwitter.com",
    "fixvx.com",
    "nitter.net",
    "xcancel.com",
    "youtube.com",
    "youtu.be",
    "medium.com",
    "tiktok.com",
    "threads.net",
    "threads.com",
    "instagram.com",
)

_ID = re.compile(r"[0-9A-Za-z]{1,64}")
_USER = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-]{0,99}")
_HOST = re.compile(r"[a-z0-9]([a-z0-9\-]{0,62}\.)*[a-z0-9\-]{1,63}(:\d{1,5})?")


@dataclass(frozen=True)
class StatusLink:
    scheme: str
    host: str  # netloc, lower-case, with port when given
    status_id: str
    canonical: str

    @property
    def base(self) -> str:
        return f"{self.scheme}://{self.host}"


def is_other_source_host(host: str) -> bool:
    host = host.lower().rstrip(".")
    return any(host == d or host.endswith("." + d) for d in _NOT_FEDIVERSE)


def _user_ok(user: str) -> bool:
    """``user`` or ``user@remote.host``."""
    name, _, remote = user.partition("@")
    return bool(_USER.fullmatch(name)) and (not remote or bool(_HOST.fullmatch(remote.lower())))


def _id_or_error(seg: str, url: str) -> str:
    if not _ID.fullmatch(seg):
        raise UsageError(
            f"That looks like a fediverse post link, but its post id is invalid: {url}"
        )
    return seg


class _Split(NamedTuple):
    scheme: str
    netloc: str
    segs: list[str]  # path segments, without the old web app's "/web" prefix
    web: bool  # the path had that prefix
    credentials: bool  # user:password@ in the link


def _split(url: str) -> _Split | None:
    """A web link to a host that may run the Mastodon API, in parts; None otherwise."""
    try:
        parts = urlsplit(url.strip())
        host = (parts.hostname or "").lower()
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not host or is_other_source_host(host):
        return None
    netloc = f"{host}:{port}" if port else host
    segs = [unquote(s) for s in parts.path.split("/") if s]
    web = bool(segs) and segs[0] == "web"
    return _Split(
        parts.scheme, netloc, segs[1:] if web else segs, web, bool(parts.username or parts.password)
    )


def parse_status_link(url: str) -> StatusLink | None:
    """The server and status id a post link names; None when it is not such a link.
    Raises UsageError for a link that is clearly a fediverse post link but malformed."""
    split = _split(url)
    if split is None or split.credentials:
        return None
    scheme, netloc, segs = split.scheme, split.netloc, split.segs
    if len(segs) >= 1 and segs[-1] == "activity" and len(segs) == 5:
        segs = segs[:-1]  # /users/<u>/statuses/<id>/activity: the Create activity

    def link(path: str, status_id: str) -> StatusLink:
        return StatusLink(scheme, netloc, status_id, f"{scheme}://{netloc}{path}")

    if not segs:
        return None
    head = segs[0]
    if head.startswith("@"):
        user = head[1:]
        if len(segs) == 2:
            # /@user/<id>: ids always hold a digit; letters only is a profile tab (media...).
            seg = segs[1]
            if not _ID.fullmatch(seg) or not any(c.isdigit() for c in seg):
                return None
            if not _user_ok(user):
                raise UsageError(f"That fediverse post link has an invalid user name: {url}")
            return link(f"/@{user}/{seg}", seg)
        if len(segs) == 3 and segs[1] == "statuses":
            if not _user_ok(user):
                raise UsageError(f"That fediverse post link has an invalid user name: {url}")
            sid = _id_or_error(segs[2], url)
            return link(f"/@{user}/statuses/{sid}", sid)
        return None
    if head == "users" and len(segs) >= 3 and segs[2] == "statuses":
        if len(segs) != 4 or not segs[3]:
            raise UsageError(f"That fediverse post link is incomplete or malformed: {url}")
        if not _user_ok(segs[1]) or "@" in segs[1]:
            raise UsageError(f"That fediverse post link has an invalid user name: {url}")
        sid = _id_or_error(segs[3], url)
        return link(f"/users/{segs[1]}/statuses/{sid}", sid)
    if (head == "statuses" and split.web) or (head == "notice" and not split.web):
        if len(segs) != 2:
            raise UsageError(f"That fediverse post link is incomplete or malformed: {url}")
        sid = _id_or_error(segs[1], url)
        path = f"/notice/{sid}" if head == "notice" else f"/web/statuses/{sid}"
        return link(path, sid)
    return None


_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
# Misskey's aid (10), aidx (16), meid/objectid (24) and ulid (26) ids, with a digit.
_MISSKEY_ID = re.compile(r"(?=[a-z]*[0-9])[0-9a-z]{10,26}")
# An aid or aidx opens with its time (milliseconds since 2000, 8 base-36 characters), which
# holds no digit some of the time since late 2024: such an id is told from a word
# ("background") by naming a time that has come.
_LETTERS_AID = re.compile(r"[a-z]{10}|[a-z]{16}")
_AID_EPOCH_MS = 946_684_800_000
_FRIENDICA_GUID = re.compile(r"(?=[A-Za-z\-]*[0-9])[0-9A-Za-z][0-9A-Za-z\-]{7,63}")
# Path head -> (what runs there, the id's form).
_OBJECT_FORMS = {
    "objects": ("Pleroma or Akkoma", _UUID),
    "notes": ("Misskey-family", _MISSKEY_ID),
    "display": ("Friendica", _FRIENDICA_GUID),
}


def _letters_aid(oid: str) -> bool:
    if not _LETTERS_AID.fullmatch(oid):
        return False
    made_ms = _AID_EPOCH_MS + int(oid[:8], 36)
    return made_ms <= time.time() * 1000 + 86_400_000  # a day of clock skew


@dataclass(frozen=True)
class ObjectLink:
    """A link to an ActivityPub object (not a status id): fetched, then resolved."""

    scheme: str
    host: str
    path: str  # "/objects/<uuid>", "/notes/<id>", "/display/<guid>"
    canonical: str
    kind: str  # the software such links come from, for messages

    @property
    def base(self) -> str:
        return f"{self.scheme}://{self.host}"


def parse_object_link(url: str) -> ObjectLink | None:
    """``/objects/<uuid>``, ``/notes/<id>`` or ``/display/<guid>`` on any host; None
    otherwise (also for ids of another form: such paths are common on ordinary sites)."""
    split = _split(url)
    if split is None or split.credentials or split.web or len(split.segs) != 2:
        return None
    head, oid = split.segs
    form = _OBJECT_FORMS.get(head)
    if form is None:
        return None
    kind, pattern = form
    if not (pattern.fullmatch(oid) or (head == "notes" and _letters_aid(oid))):
        return None
    path = f"/{head}/{oid}"
    return ObjectLink(
        split.scheme, split.netloc, path, f"{split.scheme}://{split.netloc}{path}", kind
    )


def parse_profile_link(url: str) -> tuple[str, str, str] | None:
    """``(scheme, host, acct)`` for ``https://host/@user[@remote]`` or
    ``https://host/users/user``; None otherwise."""
    split = _split(url)
    if split is None:
        return None
    scheme, netloc, segs = split.scheme, split.netloc, split.segs
    if len(segs) == 1 and segs[0].startswith("@") and _user_ok(segs[0][1:]):
        return scheme, netloc, segs[0][1:]
    if len(segs) == 2 and segs[0] == "users" and _user_ok(segs[1]) and "@" not in segs[1]:
        return scheme, netloc, segs[1]
    return None
