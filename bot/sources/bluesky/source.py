"""Bluesky through the public AppView (no login).

fetch() gathers a whole self-thread in few sequential round trips (see walk.py for
the bookkeeping):

1. at once: getPostThread(anchor, depth=10, parentHeight=1000) and the author's feed
   (getAuthorFeed, posts_with_replies, 100 per page); the handle in the link is used as is,
   so no resolveHandle call comes first;
2. then, each round and concurrently: the next feed page while the feed has not reached
   back to the thread's first post; a getPostThread anchored at the parent of the oldest
   thread post the feed found, when the feed will not reach the rest soon (its parent
   chain joins the gap in one call); getPostThread at posts whose replies are not yet
   known, when the feed has not reached the thread at all (an old thread).

The feed filter is posts_with_replies, not posts_and_author_threads: the AppView keeps a
reply in the latter only when its whole self-thread up to the root is on the same page, so
threads longer than a page vanish from it.
"""

from __future__ import annotations

import asyncio
from typing import Any

from bot.errors import NotFound, Refused, UpstreamUnavailable, UserError
from bot.http import BlockedAddress, HttpClient, HttpError, TransportError, transport_message
from bot.models import Author, FetchedPosts, Post, PostRef
from bot.sources.bluesky.mapping import (
    Malformed,
    as_dict,
    as_list,
    author_opted_out,
    map_author,
    map_post,
    opt_str,
    post_opted_out,
)
from bot.sources.bluesky.parse import parse_author_spec, parse_post_link, post_uri
from bot.sources.bluesky.walk import Walk

REPLY_DEPTH = 10  # what the public AppView returns at most, whatever is asked
PARENT_HEIGHT = 1000  # the lexicon's maximum; the parent chain is not capped lower
FEED_PAGE = 100
MAX_ROUNDS = 40
MAX_DESCENTS = 60
OPTED_OUT = (
    "This thread can't be unrolled: its author asked Bluesky apps not to show their "
    "posts to logged-out viewers, and this bot reads Bluesky without logging in."
)
OPTED_OUT_AUTHOR = (
    "This account asked Bluesky apps not to show their posts to logged-out viewers, "
    "so the bot will not show them."
)


class _XrpcRejected(Exception):
    """HTTP 400 from the AppView, with its error name and message."""

    def __init__(self, error: str, message: str) -> None:
        super().__init__(f"{error}: {message}")
        self.error = error
        self.message = message


class BlueskySource:
    name = "bluesky"

    def __init__(self, http: HttpClient, appview_url: str = "https://public.api.bsky.app") -> None:
        self._http = http
        self._base = appview_url.rstrip("/")

    # ---- links ------------------------------------------------------------------------

    def parse(self, url: str) -> PostRef | None:
        return parse_post_link(url)

    # ---- requests ---------------------------------------------------------------------

    async def _call(self, nsid: str, params: list[tuple[str, str]]) -> dict[str, Any]:
        url = f"{self._base}/xrpc/{nsid}"
        try:
            body = await self._http.get_json(url, params=params)
        except HttpError as exc:
            raise self._http_error(exc) from None
        except TransportError as exc:
            raise UpstreamUnavailable(transport_message(exc, "Bluesky")) from None
        except BlockedAddress as exc:
            raise UpstreamUnavailable(f"The Bluesky address is not allowed: {exc}") from None
        if not isinstance(body, dict):
            raise UpstreamUnavailable(
                f"Bluesky answered {nsid} with something unexpected (not a JSON object)."
            )
        return body

    @staticmethod
    def _http_error(exc: HttpError) -> Exception:
        body = exc.body if isinstance(exc.body, dict) else {}
        error = str(body.get("error", ""))
        message = str(body.get("message", ""))
        if exc.status == 400:
            return _XrpcRejected(error, message)
        if exc.status == 429:
            return UpstreamUnavailable(
                "Bluesky is rate limiting the bot right now. Try again in a few minutes."
            )
        if exc.status >= 500:
            return UpstreamUnavailable(
                f"Bluesky is having trouble (HTTP {exc.status}). Try again in a moment."
            )
        return UpstreamUnavailable(
            f"Bluesky refused the request (HTTP {exc.status}{': ' + message if message else ''})."
        )

    async def _thread(self, uri: str, depth: int, height: int) -> dict[str, Any]:
        return await self._call(
            "app.bsky.feed.getPostThread",
            [("uri", uri), ("depth", str(depth)), ("parentHeight", str(height))],
        )

    async def _feed(
        self,
        actor: str,
        cursor: str | None,
        *,
        filt: str = "posts_with_replies",
        limit: int = FEED_PAGE,
    ) -> dict[str, Any]:
        params = [("actor", actor), ("filter", filt), ("limit", str(limit))]
        if cursor:
            params.append(("cursor", cursor))
        return await self._call("app.bsky.feed.getAuthorFeed", params)

    # ---- fetching a thread ------------------------------------------------------------

    async def fetch(self, ref: PostRef, max_posts: int) -> FetchedPosts:
        if len(ref.key) != 2:
            raise NotFound(f"Not a Bluesky post reference: {ref.url}")
        actor, rkey = ref.key
        walk = Walk(max_posts=max(1, max_posts))
        first: Any
        feed: Any
        first, feed = await asyncio.gather(
            self._thread(post_uri(actor, rkey), REPLY_DEPTH, PARENT_HEIGHT),
            self._feed(actor, None),
            return_exceptions=True,
        )
        if isinstance(first, BaseException):
            raise self._anchor_error(first, feed, actor, ref.url)
        try:
            walk.add_anchor_thread(first)
        except LookupError:
            raise NotFound(f"That Bluesky post is not available: {ref.url}") from None
        except Malformed as exc:
            raise _malformed("getPostThread", exc) from None
        anchor_view = walk.views[walk.anchor]
        if post_opted_out(anchor_view):
            raise Refused(OPTED_OUT)
        notices: list[str] = []
        if isinstance(feed, BaseException):
            if not isinstance(feed, (UserError, _XrpcRejected)):
                raise feed
            walk.feed_failed()
        else:
            self._take_feed(walk, feed)

        max_pages = max(3, walk.max_posts // FEED_PAGE + 2)
        descents = 0
        for _ in range(MAX_ROUNDS):
            walk.recompute()
            if walk.over_cap() or walk.complete():
                break
            plan = walk.plan(
                max_pages=max_pages,
                descents_left=MAX_DESCENTS - descents,
                per_round=self._http.settings.per_host_concurrency,
            )
            if plan.empty:
                walk.incomplete = True
                break
            descents += len(plan.descents)
            await self._run_round(walk, plan, notices)
        else:
            walk.incomplete = True
        walk.recompute()

        first_view = walk.views.get(walk.first)
        if first_view is not None and post_opted_out(first_view):
            raise Refused(OPTED_OUT)
        posts, capped = walk.result()
        if walk.incomplete and not capped and not walk.complete():
            notices.append(
                "Later posts of this thread may be missing: Bluesky did not return them all."
            )
        return FetchedPosts(
            source=self.name,
            anchor_id=walk.anchor,
            posts=posts,
            notices=list(dict.fromkeys(notices)),
            capped=capped,
        )

    def _anchor_error(self, exc: BaseException, feed: Any, actor: str, url: str) -> BaseException:
        if isinstance(exc, _XrpcRejected):
            if isinstance(feed, _XrpcRejected) and "profile not found" in feed.message.lower():
                return NotFound(f"There is no Bluesky account @{actor}.")
            if exc.error == "NotFound":
                return NotFound(f"That Bluesky post does not exist or was deleted: {url}")
            if exc.error in ("AccountTakedown", "AccountDeactivated"):
                return NotFound(f"That Bluesky account is not available ({exc.message}).")
            return UpstreamUnavailable(
                f"Bluesky rejected the request ({exc.error or 'error'}: {exc.message})."
            )
        if isinstance(exc, Malformed):
            return _malformed("getPostThread", exc)
        return exc

    def _take_feed(self, walk: Walk, body: dict[str, Any]) -> None:
        try:
            walk.add_feed_page(body)
        except Malformed:
            walk.feed_failed()

    async def _run_round(self, walk: Walk, plan: Any, notices: list[str]) -> None:
        jobs: list[tuple[str, str, Any]] = []
        if plan.feed_page:
            jobs.append(("feed", "", self._feed(walk.author, walk.feed.cursor)))
        for uri in plan.gap_fills:
            walk.requested.add(uri)
            jobs.append(("gap", uri, self._thread(uri, REPLY_DEPTH, PARENT_HEIGHT)))
        for uri in plan.descents:
            walk.requested.add(uri)
            jobs.append(("descent", uri, self._thread(uri, REPLY_DEPTH, 0)))
        results = await asyncio.gather(*(j[2] for j in jobs), return_exceptions=True)
        for (kind, uri, _), res in zip(jobs, results, strict=True):
            if isinstance(res, BaseException):
                if isinstance(res, _XrpcRejected) and res.error == "NotFound" and kind == "gap":
                    walk.gap_missing(uri)
                    continue
                if not isinstance(res, (UserError, _XrpcRejected)):
                    raise res
                if kind == "feed":
                    walk.feed_failed()
                notices.append("Bluesky did not answer every request; later posts may be missing.")
                continue
            if kind == "feed":
                self._take_feed(walk, res)
                continue
            try:
                walk.add_thread(res)
            except Malformed:
                notices.append(
                    "Bluesky sent a response the bot could not read; some posts may be missing."
                )

    # ---- authors (subscriptions) -------------------------------------------------------

    async def resolve_author(self, spec: str) -> Author | None:
        actor = parse_author_spec(spec)
        if actor is None:
            return None
        try:
            body = await self._call("app.bsky.actor.getProfile", [("actor", actor)])
        except _XrpcRejected as exc:
            if exc.error in ("AccountTakedown", "AccountDeactivated"):
                raise NotFound(
                    f"The Bluesky account @{actor} is not available ({exc.message})."
                ) from None
            return None
        try:
            author = map_author(body)
        except Malformed as exc:
            raise _malformed("getProfile", exc) from None
        if author_opted_out(body):
            raise Refused(OPTED_OUT_AUTHOR)
        return author

    async def recent_posts(self, author: Author, limit: int) -> FetchedPosts:
        """The author's newest posts, newest first, reposts left out. Replies within the
        author's own threads are included (parent_id set); top-level posts have none."""
        posts: dict[str, Post] = {}
        cursor: str | None = None
        want = max(1, limit)
        pages = 0
        while len(posts) < want and pages < 5:
            try:
                body = await self._feed(
                    author.id,
                    cursor,
                    # Full pages: the AppView keeps a thread reply only when its whole
                    # self-thread is on the same page.
                    filt="posts_and_author_threads",
                    limit=FEED_PAGE,
                )
            except _XrpcRejected as exc:
                if "profile not found" in exc.message.lower():
                    raise NotFound(f"There is no Bluesky account @{author.handle}.") from None
                raise UpstreamUnavailable(
                    f"Bluesky rejected the request ({exc.error}: {exc.message})."
                ) from None
            pages += 1
            try:
                for raw in as_list(body.get("feed"), "feed"):
                    item = as_dict(raw, "feed item")
                    if item.get("reason") is not None:
                        continue
                    view = as_dict(item.get("post"), "feed item.post")
                    if opt_str(as_dict(view.get("author"), "author"), "did") != author.id:
                        continue
                    if post_opted_out(view):
                        raise Refused(OPTED_OUT_AUTHOR)
                    post = map_post(view)
                    posts.setdefault(post.id, post)
            except Malformed as exc:
                raise _malformed("getAuthorFeed", exc) from None
            nxt = body.get("cursor")
            if not isinstance(nxt, str) or not nxt:
                break
            cursor = nxt
        ordered = sorted(posts.values(), key=lambda p: p.sort_key, reverse=True)[:want]
        return FetchedPosts(
            source=self.name,
            anchor_id=ordered[0].id if ordered else "",
            posts={p.id: p for p in ordered},
        )


def _malformed(what: str, exc: Exception) -> UpstreamUnavailable:
    return UpstreamUnavailable(f"Bluesky sent a response the bot could not read ({what}: {exc}).")
