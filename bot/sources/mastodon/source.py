"""Mastodon and every server with its REST API (Pleroma, Akkoma, GoToSocial...), without
login, or with the access token configured for a server that answers only signed-in apps.
Links that name an ActivityPub object (Pleroma ``/objects/``, Misskey ``/notes/``,
Friendica ``/display/``) are resolved first (objects.py).

fetch() gathers a whole self-thread (bookkeeping in walk.py):

1. at once: the linked status and its context (up to 40 ancestors, 60 descendants, depth
   20 for anonymous readers);
2. for a post cached from another server, the same two calls on the post's origin
   server (it has every reply); on failure the cached copy is used, with a notice;
3. each round, up to four calls at once: windows of the author's statuses list after the
   thread's first post (``min_id``/``max_id`` cut by the snowflake clock), the holes a
   full window left, windows before the first known post when the link points deep into
   a thread; ``context`` re-anchored at the deepest post on servers whose ids are not
   snowflakes.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from bot.errors import NotFound, UsageError, UserError, quoted
from bot.http import HttpClient
from bot.models import Author, FetchedPosts, Post, PostRef
from bot.sources.mastodon.api import MastodonApi
from bot.sources.mastodon.mapping import (
    SHOWN_VISIBILITY,
    guess_parent_uri,
    host_of,
    is_status,
    map_author,
    map_status,
    status_uri,
)
from bot.sources.mastodon.objects import ObjectResolver
from bot.sources.mastodon.urls import (
    ObjectLink,
    StatusLink,
    is_other_source_host,
    parse_object_link,
    parse_profile_link,
    parse_status_link,
)
from bot.sources.mastodon.walk import ThreadCrawl

log = logging.getLogger(__name__)


class MastodonSource:
    name = "mastodon"
    generic = True  # any host: asked after every specific site

    def __init__(
        self,
        http: HttpClient,
        *,
        handle_scheme: str = "https",
        tokens: Mapping[str, str] | None = None,
    ) -> None:
        # ``tokens``: host -> access token, for servers that answer only signed-in apps.
        self.api = MastodonApi(http, tokens)
        self.objects = ObjectResolver(self.api)
        # Scheme for servers named only by a handle (@user@host); tests use plain http.
        self.handle_scheme = handle_scheme
        # Account uri -> (API base, account id), so polling skips the lookup.
        self._accounts: dict[str, tuple[str, str]] = {}
        # Figures of the last fetch, for tests and benchmarks.
        self.last_rounds = 0
        self.last_requests = 0

    # ---- links ------------------------------------------------------------------------

    def parse(self, url: str) -> PostRef | None:
        link = parse_status_link(url)
        if link is not None:
            return PostRef(source=self.name, url=link.canonical, key=(link.host, link.status_id))
        obj = parse_object_link(url)
        if obj is None:
            return None
        # The key holds the object's path (status ids never start with "/").
        return PostRef(source=self.name, url=obj.canonical, key=(obj.host, obj.path))

    @staticmethod
    def _link(ref: PostRef) -> StatusLink | ObjectLink:
        if len(ref.key) != 2:
            raise UsageError(f"Not a fediverse post reference: {ref.url}")
        scheme = "http" if ref.url.startswith("http://") else "https"
        host, status_id = ref.key
        if status_id.startswith("/"):
            obj = parse_object_link(f"{scheme}://{host}{status_id}")
            if obj is None:
                raise UsageError(f"Not a fediverse post reference: {ref.url}")
            return obj
        return StatusLink(scheme, host, status_id, ref.url)

    # ---- threads ----------------------------------------------------------------------

    async def fetch(self, ref: PostRef, max_posts: int) -> FetchedPosts:
        link = self._link(ref)
        if isinstance(link, ObjectLink):
            resolved = await self.objects.resolve(link, max_posts)
            if isinstance(resolved, FetchedPosts):
                return resolved
            link = resolved
        crawl = ThreadCrawl(self.api, link.base, max_posts)
        await crawl.start(link.status_id)
        boosted = crawl.anchor.get("reblog")
        if is_status(boosted):
            # A link to a boost: unroll the boosted post.
            assert isinstance(boosted, dict)
            again = ThreadCrawl(self.api, link.base, max_posts)
            again.rounds, again.requests = crawl.rounds, crawl.requests
            await again.start(boosted["id"])
            crawl = again
        origin = self._origin_of(crawl.anchor, link)
        if origin is not None:
            crawl = await self._from_origin(crawl, origin, max_posts)
        await crawl.run()
        self.last_rounds, self.last_requests = crawl.rounds, crawl.requests
        log.debug(
            "mastodon fetch %s: %d rounds, %d requests", ref.url, crawl.rounds, crawl.requests
        )
        return crawl.result()

    def _origin_of(self, status: dict[str, Any], link: StatusLink) -> StatusLink | None:
        """Where a post cached from another server lives, when that can be told."""
        uri = status.get("uri") if isinstance(status.get("uri"), str) else ""
        if not uri or host_of(uri) in ("", link.host):
            return None
        for candidate in (status.get("url"), uri):
            if not isinstance(candidate, str):
                continue
            try:
                origin = parse_status_link(candidate)
            except UsageError:
                origin = None
            if origin is not None and origin.host != link.host:
                return origin
        return None

    async def _from_origin(
        self, cached: ThreadCrawl, origin: StatusLink, max_posts: int
    ) -> ThreadCrawl:
        crawl = ThreadCrawl(self.api, origin.base, max_posts)
        crawl.rounds, crawl.requests = cached.rounds, cached.requests
        try:
            await crawl.start(origin.status_id)
        except UserError as exc:
            cached.rounds, cached.requests = crawl.rounds, crawl.requests
            cached.notices.append(
                f"The post's home server {origin.host} could not be read ({exc}); "
                f"showing what {host_of(cached.base)} knows, which may miss replies."
            )
            return cached
        if status_uri(crawl.anchor, origin.base) != status_uri(cached.anchor, cached.base):
            cached.rounds, cached.requests = crawl.rounds, crawl.requests
            cached.notices.append(
                f"{origin.host} answered with a different post; showing what "
                f"{host_of(cached.base)} knows."
            )
            return cached
        return crawl

    # ---- authors (subscriptions) ------------------------------------------------------

    def _author_spec(self, spec: str) -> tuple[str, str] | None:
        """(API base, acct to look up) for ``@user@host``, ``user@host`` or a profile
        link; None when the spec is not a fediverse account."""
        spec = spec.strip()
        if spec.startswith(("http://", "https://")):
            found = parse_profile_link(spec)
            if found is None:
                return None
            scheme, host, acct = found
            return f"{scheme}://{host}", acct
        handle = spec.removeprefix("@")
        user, sep, host = handle.partition("@")
        if not sep or not user or not host or "@" in host or "/" in host:
            return None
        host = host.lower()
        if is_other_source_host(host) or "." not in host.split(":")[0]:
            return None
        return f"{self.handle_scheme}://{host}", user

    async def resolve_author(self, spec: str) -> Author | None:
        found = self._author_spec(spec)
        if found is None:
            return None
        base, acct = found
        try:
            account = await self.api.lookup(base, acct)
        except NotFound:
            raise NotFound(f"No account {quoted(acct)} was found on {host_of(base)}.") from None
        author = map_author(account, base)
        self._accounts[author.id] = (base, account["id"])
        return author

    async def recent_posts(self, author: Author, limit: int) -> FetchedPosts:
        """The author's newest public posts (no boosts, no replies to others)."""
        known = self._accounts.get(author.id)
        if known is None:
            resolved = await self.resolve_author(author.url or author.id)
            if resolved is None:
                resolved = await self.resolve_author(author.handle)
            if resolved is None or resolved.id not in self._accounts:
                raise NotFound(f"The account {author.handle} could not be found.")
            known = self._accounts[resolved.id]
        base, account_id = known
        page = await self.api.account_statuses(base, account_id, limit=str(max(1, min(limit, 40))))
        by_id = {s["id"]: s for s in page.statuses}
        posts: dict[str, Post] = {}
        for s in page.statuses:
            if s.get("visibility") not in SHOWN_VISIBILITY:
                continue
            if s.get("in_reply_to_account_id") not in (None, account_id):
                continue  # a reply to someone else (servers that list every reply)
            parent = by_id.get(s.get("in_reply_to_id") or "")
            parent_uri = status_uri(parent, base) if parent else guess_parent_uri(s, base)
            post = map_status(s, base, parent_uri, None)
            posts[post.id] = post
        newest = next(iter(posts), "")
        return FetchedPosts(source=self.name, anchor_id=newest, posts=posts)
