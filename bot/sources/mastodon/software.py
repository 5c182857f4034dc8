"""Which software a fediverse server runs, read once per host and cached.

Mastodon-API servers differ where it matters to the walk and to link resolution:
Mastodon lists self-replies under ``exclude_replies``, Pleroma/Akkoma list no replies
there, GoToSocial drops self-replies that mention anyone (and answers 401 to every
anonymous API call); Misskey-family servers have no Mastodon API at all. NodeInfo
(``/.well-known/nodeinfo``) names the software on all of them without signing in;
``/api/v1/instance``'s version string settles the common ones sooner. Statuses with
snowflake ids already prove Mastodon (api.py), so nothing is asked there.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from bot.http import BlockedAddress, HttpClient, HttpError, TransportError

log = logging.getLogger(__name__)

# NodeInfo software names (lower-case) of servers whose statuses list under
# exclude_replies keeps every self-reply (Mastodon and its forks).
_LISTS_SELF_REPLIES = frozenset({"mastodon", "hometown", "glitch-soc", "glitchsoc"})
# Servers with a Mastodon-compatible REST API.
_MASTODON_API = _LISTS_SELF_REPLIES | frozenset(
    {
        "pleroma",
        "akkoma",
        "gotosocial",
        "friendica",
        "iceshrimp.net",
        "sharkey",
        "firefish",
        "calckey",
        "takahe",
        "mitra",
        "snac",
        "pixelfed",
        "fedibird",
    }
)
# Misskey and its forks: their own API, notes at /notes/<id>.
_MISSKEY_API = frozenset(
    {"misskey", "sharkey", "firefish", "calckey", "foundkey", "cherrypick", "iceshrimp"}
)
# Servers that answer only signed-in apps, whatever the post's visibility.
_TOKEN_ONLY = frozenset({"gotosocial"})
_NODEINFO_SCHEMA = re.compile(r"^https?://nodeinfo\.diaspora\.software/ns/schema/2\.[01]$")
_COMPATIBLE = re.compile(r"\(compatible;\s*([A-Za-z][\w.\-]*)", re.IGNORECASE)
CACHE_SIZE = 2048
CACHE_TTL_S = 24 * 3600.0
# A server that could not be told (down, or answering badly) is asked again sooner: a
# Misskey server taken for unknown would have its notes read from ActivityPub alone.
UNKNOWN_TTL_S = 600.0


@dataclass(frozen=True)
class ServerSoftware:
    name: str  # NodeInfo's software name, lower-case; "" when it could not be told
    version: str = ""

    @property
    def known(self) -> bool:
        return bool(self.name)

    @property
    def display(self) -> str:
        return {
            "gotosocial": "GoToSocial",
            "pleroma": "Pleroma",
            "akkoma": "Akkoma",
            "misskey": "Misskey",
            "friendica": "Friendica",
            "mastodon": "Mastodon",
        }.get(self.name, self.name or "unknown software")

    @property
    def lists_self_replies(self) -> bool:
        """Whether ``exclude_replies`` keeps every self-reply. Unknown software is
        assumed not to, so no conclusion rests on it."""
        return self.name in _LISTS_SELF_REPLIES

    @property
    def mastodon_api(self) -> bool:
        return self.name in _MASTODON_API

    @property
    def misskey_api(self) -> bool:
        return self.name in _MISSKEY_API

    @property
    def needs_token(self) -> bool:
        return self.name in _TOKEN_ONLY


UNKNOWN = ServerSoftware("")


def _from_nodeinfo(doc: Any) -> ServerSoftware | None:
    software = doc.get("software") if isinstance(doc, dict) else None
    name = software.get("name") if isinstance(software, dict) else None
    if not isinstance(name, str) or not name.strip():
        return None
    version = software.get("version") if isinstance(software, dict) else None
    return ServerSoftware(
        name.strip().lower()[:64], version[:64] if isinstance(version, str) else ""
    )


def _from_instance(doc: Any) -> ServerSoftware | None:
    """Pleroma and Akkoma say "2.7.2 (compatible; Pleroma 2.5.0)"; plain Mastodon gives
    only a version number."""
    version = doc.get("version") if isinstance(doc, dict) else None
    if not isinstance(version, str) or not version:
        return None
    m = _COMPATIBLE.search(version)
    if m:
        return ServerSoftware(m.group(1).lower(), version[:64])
    # Mastodon and its forks: "4.3.2", "4.3.2+glitch". GoToSocial's "0.17.3+git-..."
    # looks alike, so a 0.x version is left to NodeInfo.
    if re.fullmatch(r"[1-9]\d*\.\d+\.\d+(?:[+\-][\w.+\-]*)?", version.strip()):
        return ServerSoftware("mastodon", version[:64])
    return None


class SoftwareDirectory:
    """Server software per host: asked once (concurrent askers share the answer), kept
    for a day; failures count as unknown for a few minutes."""

    def __init__(self, http: HttpClient) -> None:
        self.http = http
        self._known: OrderedDict[str, tuple[float, ServerSoftware]] = OrderedDict()
        self._pending: dict[str, asyncio.Future[ServerSoftware]] = {}
        self._tasks: set[asyncio.Future[ServerSoftware]] = set()

    def infer(self, base: str, software: ServerSoftware) -> None:
        """Record what the server's answers already prove (unless it was read)."""
        found = self.cached(base)
        if (found is None or not found.known) and base not in self._pending:
            self._remember(base, software)

    def prefetch(self, base: str) -> None:
        """Start reading the software in the background, so a later get() need not wait."""
        if self.cached(base) is not None or base in self._pending:
            return
        task = asyncio.ensure_future(self.get(base))
        self._tasks.add(task)
        task.add_done_callback(self._settled)

    def _settled(self, task: asyncio.Future[ServerSoftware]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            # E.g. the client closed while the bot shut down: the next get() asks again.
            log.debug("reading the server software failed: %r", task.exception())

    def cached(self, base: str) -> ServerSoftware | None:
        entry = self._known.get(base)
        if entry is None or entry[0] < time.monotonic():
            return None
        return entry[1]

    async def get(self, base: str) -> ServerSoftware:
        found = self.cached(base)
        if found is not None:
            return found
        pending = self._pending.get(base)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[ServerSoftware] = asyncio.get_running_loop().create_future()
        self._pending[base] = future
        try:
            found = await self._detect(base)
        except BaseException:
            # Cancelled: the waiters learn nothing, and nothing is remembered.
            self._pending.pop(base, None)
            future.set_result(UNKNOWN)
            raise
        self._pending.pop(base, None)
        self._remember(base, found)
        future.set_result(found)
        return found

    def _remember(self, base: str, software: ServerSoftware) -> None:
        ttl = CACHE_TTL_S if software.known else UNKNOWN_TTL_S
        self._known[base] = (time.monotonic() + ttl, software)
        self._known.move_to_end(base)
        while len(self._known) > CACHE_SIZE:
            self._known.popitem(last=False)

    async def _fetch(self, url: str) -> Any:
        try:
            return await self.http.get_json(url)
        except (HttpError, TransportError, BlockedAddress):
            return None

    async def _detect(self, base: str) -> ServerSoftware:
        """``/api/v1/instance`` and the NodeInfo index at once: the version string settles
        Mastodon, Pleroma and Akkoma in one round trip; NodeInfo names the rest."""
        instance, index = await asyncio.gather(
            self._fetch(f"{base}/api/v1/instance"), self._fetch(f"{base}/.well-known/nodeinfo")
        )
        found = _from_instance(instance)
        if found is not None:
            return found
        links = index.get("links") if isinstance(index, dict) else None
        hrefs = [
            link["href"]
            for link in (links if isinstance(links, list) else [])
            if isinstance(link, dict)
            and isinstance(link.get("href"), str)
            and isinstance(link.get("rel"), str)
            and _NODEINFO_SCHEMA.match(link["rel"])
        ]
        for href in reversed(hrefs):  # the newest schema is listed last
            found = _from_nodeinfo(await self._fetch(href))
            if found is not None:
                return found
        return UNKNOWN
