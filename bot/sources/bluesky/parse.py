"""Bluesky links and identifiers: share URLs, at:// URIs, handles, DIDs, record keys.

Pure functions, no network. A link on a Bluesky host that names a post wrongly raises
UsageError with the reason; links to other sites give None.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from urllib.parse import unquote, urlsplit

from bot.errors import UsageError, quoted
from bot.models import PostRef
from bot.sources.base import iso_ms

POST_COLLECTION = "app.bsky.feed.post"

# Web clients and embed fixers that use bsky.app's /profile/<actor>/post/<rkey> paths.
BSKY_HOSTS = frozenset(
    {
        "bsky.app",
        "www.bsky.app",
        "staging.bsky.app",
        "main.bsky.dev",
        "fxbsky.app",
        "bskyx.app",
        "vxbsky.app",
        "bsyy.app",
        "blacksky.community",
        "deer.social",
    }
)
# Embed fixers also serve from subdomains (canary.fxbsky.app, o.fxbsky.app, ...).
BSKY_HOST_SUFFIXES = (".fxbsky.app", ".bskyx.app", ".vxbsky.app")

TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"
# A TID: 13 base32-sortable characters; the first one keeps the top bit clear.
TID_RE = re.compile(r"^[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}$")
DID_RE = re.compile(r"^did:[a-z]+:[a-zA-Z0-9._:%-]*[a-zA-Z0-9._-]$")
HANDLE_RE = re.compile(r"^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]([a-z0-9-]{0,61}[a-z0-9])?$")


def is_bsky_host(host: str) -> bool:
    host = host.lower().rstrip(".")
    return host in BSKY_HOSTS or host.endswith(BSKY_HOST_SUFFIXES)


def normalise_actor(raw: str) -> str | None:
    """A DID as given, or a handle lowercased; None when it is neither."""
    actor = unquote(raw).strip()
    if actor.startswith("did:"):
        return actor if len(actor) <= 2048 and DID_RE.match(actor) else None
    actor = actor.removeprefix("@").lower()
    if len(actor) > 253 or not HANDLE_RE.match(actor):
        return None
    return actor


def is_tid(rkey: str) -> bool:
    return bool(TID_RE.match(rkey))


def post_uri(actor: str, rkey: str) -> str:
    return f"at://{actor}/{POST_COLLECTION}/{rkey}"


def web_url(actor: str, rkey: str) -> str:
    return f"https://bsky.app/profile/{actor}/post/{rkey}"


def split_post_uri(uri: str) -> tuple[str, str] | None:
    """(actor, rkey) of an at:// post URI, or None when it is not one."""
    if not uri.startswith("at://"):
        return None
    parts = uri[5:].split("/")
    if len(parts) != 3 or parts[1] != POST_COLLECTION or not parts[0] or not parts[2]:
        return None
    return parts[0], parts[2]


def uri_did(uri: str) -> str | None:
    """The DID an at:// URI names, when it names one (replies always do)."""
    parts = split_post_uri(uri)
    if parts is None or not parts[0].startswith("did:"):
        return None
    return parts[0]


def _ref(actor_raw: str, rkey: str, shown: str) -> PostRef:
    actor = normalise_actor(actor_raw)
    if actor is None:
        raise UsageError(
            f"That Bluesky link names an account wrongly ({quoted(unquote(actor_raw))} is neither "
            f"a handle nor a DID): {shown}"
        )
    if not is_tid(rkey):
        raise UsageError(
            f"That Bluesky link has a broken post id ({quoted(rkey)}; post ids are 13 letters "
            f"and digits, e.g. 3mlshypfnq2u7): {shown}"
        )
    return PostRef(source="bluesky", url=web_url(actor, rkey), key=(actor, rkey))


def parse_post_link(url: str) -> PostRef | None:
    text = url.strip().strip("<>")
    if text.lower().startswith("at://"):
        body = text[5:].split("?", 1)[0].split("#", 1)[0]
        parts = body.split("/")
        if len(parts) < 3 or parts[1] != POST_COLLECTION or not parts[2]:
            raise UsageError(
                f"That at:// address does not name a Bluesky post "
                f"(expected at://<account>/{POST_COLLECTION}/<id>): {text}"
            )
        if len(parts) > 3 and any(parts[3:]):
            raise UsageError(f"That at:// address has extra parts after the post id: {text}")
        return _ref(parts[0], parts[2], text)
    try:
        parts_url = urlsplit(text)
    except ValueError:
        return None
    if parts_url.scheme.lower() not in ("http", "https") or not parts_url.hostname:
        return None
    if not is_bsky_host(parts_url.hostname):
        return None
    segs = [s for s in parts_url.path.split("/") if s]
    if len(segs) >= 4 and segs[0] == "profile" and segs[2] == "post":
        return _ref(segs[1], segs[3], text)
    if len(segs) >= 1 and segs[0] == "profile":
        if len(segs) >= 3 and segs[2] == "post":
            raise UsageError(f"That Bluesky link is missing the post id: {text}")
        raise UsageError(
            "That Bluesky link points to a profile or a list, not a post. Give the link "
            f"of a post (…/profile/<account>/post/<id>): {text}"
        )
    return None


def parse_author_spec(spec: str) -> str | None:
    """An account named as @handle, handle, DID or profile/post link -> normalised actor."""
    text = spec.strip().strip("<>")
    if text.lower().startswith(("http://", "https://")):
        try:
            parts = urlsplit(text)
        except ValueError:
            return None
        if not parts.hostname or not is_bsky_host(parts.hostname):
            return None
        segs = [s for s in parts.path.split("/") if s]
        if len(segs) >= 2 and segs[0] == "profile":
            return normalise_actor(segs[1])
        return None
    if text.lower().startswith("at://"):
        return normalise_actor(text[5:].split("/", 1)[0])
    return normalise_actor(text)


def tid_time(rkey: str) -> str:
    """The creation time a TID record key encodes (ISO, UTC, milliseconds), or ""."""
    if not is_tid(rkey):
        return ""
    value = 0
    for ch in rkey:
        value = value * 32 + TID_ALPHABET.index(ch)
    micros = value >> 10
    try:
        when = datetime.fromtimestamp(micros / 1_000_000, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return ""
    return iso_ms(when)
