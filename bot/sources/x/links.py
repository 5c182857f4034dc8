"""Recognising links to posts on X (twitter.com, x.com and the embed-fixing mirrors).

Pure string work, no network. Accepts the forms people paste: any of the hosts below with
``www.``, ``mobile.``, ``m.`` or a one/two-letter mirror subdomain (``d.``, ``dl.``, ``g.``),
``/<user>/status/<id>``, ``/statuses/``, ``/i/web/status/<id>``, ``/i/status/<id>``, the
user-less ``/status/<id>``, the mirrors' ``/dir`` and ``/dl`` prefixes, and anything after
the id (``/photo/N``, ``/video/N``, a language code). Query strings and fragments are dropped.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from bot.errors import UsageError, quoted

# Hosts whose post links name an X post (the mirrors reuse X's paths and ids).
X_DOMAINS = frozenset(
    {
        "twitter.com",
        "x.com",
        "fxtwitter.com",
        "fixupx.com",
        "twittpr.com",
        "vxtwitter.com",
        "fixvx.com",
    }
)
_SUBDOMAIN = re.compile(r"(?:www|mobile|[a-z]{1,2})")
_USER = r"[A-Za-z0-9_]{1,50}"
_ID = r"[0-9]{1,20}"
# Case-insensitive: people paste /Status/ and /PHOTO/1 too.
_PATH = re.compile(
    rf"""
    ^(?:/(?:dir|dl))?                          # mirror prefixes
    (?:
        /i(?:/web)?/status(?:es)?/(?P<iid>{_ID})
      | /status(?:es)?/(?P<bare>{_ID})
      | /(?P<user>{_USER})/status(?:es)?/(?P<uid>{_ID})
    )
    # Whatever follows the id names a part or view of the same post: /photo/1, /video/1,
    # a translation language (/en), /analytics, /quotes.
    (?:/[^/]*)*$
    """,
    re.VERBOSE | re.IGNORECASE,
)
# Anything that looks like an attempt at a post path, to tell "malformed" from "not a post".
_STATUSISH = re.compile(r"/status(?:es)?(?:/|$)", re.IGNORECASE)


def is_x_host(host: str) -> bool:
    host = host.lower().rstrip(".")
    if host in X_DOMAINS:
        return True
    sub, _, rest = host.partition(".")
    return rest in X_DOMAINS and _SUBDOMAIN.fullmatch(sub) is not None


def parse_x_url(url: str) -> tuple[str, str] | None:
    """``(user, id)`` for a link to an X post (user ``"i"`` when the link has none), None
    when the link is not an X post link. Raises UsageError for an X status link whose post
    id is malformed."""
    text = url.strip().strip("<>")
    if "://" not in text:
        # Bare "x.com/user/status/1" as typed in chat.
        text = "https://" + text
    try:
        parts = urlsplit(text)
        host = parts.hostname or ""
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not is_x_host(host):
        return None
    path = re.sub(r"/{2,}", "/", parts.path)
    m = _PATH.match(path)
    if m is None:
        if _STATUSISH.search(path):
            raise UsageError(
                f"That X link has no valid post id: {quoted(url)}. "
                "A post link looks like https://x.com/<user>/status/<digits>."
            )
        return None
    if m.group("iid"):
        return "i", m.group("iid")
    if m.group("bare"):
        return "i", m.group("bare")
    return m.group("user"), m.group("uid")


def canonical_url(user: str, post_id: str) -> str:
    return f"https://x.com/{user}/status/{post_id}"
