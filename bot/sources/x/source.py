"""X (Twitter) threads through the FxTwitter API (``api.fxtwitter.com`` or a self-hosted one).

One call, ``GET /2/thread/{id}``, returns the linked post, its ancestors and the author's
self-replies below it (``thread: [post]`` for a post without any). Instances without X
credentials answer ``thread: null``; then we walk up ``replying_to`` with
``GET /2/status/{id}`` (same author only) and tell the reader that later posts may be
missing, since nothing public lists replies without credentials.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit

from bot.errors import NotFound, Refused, UpstreamUnavailable, quoted
from bot.http import BlockedAddress, HttpClient, HttpError, TransportError, transport_message
from bot.models import Author, FetchedPosts, Post, PostRef
from bot.sources.x.links import canonical_url, parse_x_url
from bot.sources.x.mapping import (
    Malformed,
    as_dict,
    is_protected,
    is_tombstone,
    map_author,
    map_status,
    opt_dict,
    opt_str,
    parent_of,
    placeholder,
    post_id,
    snowflake_of,
    unknown_author,
)

DEFAULT_API_URL = "https://api.fxtwitter.com"
NOTICE_SINGLE_POST = (
    "Later posts may be missing: this FxTwitter instance returned only the linked post."
)
_NOT_PUBLIC = "That post on X is not public (the account is protected), so it cannot be unrolled."
_TOMBSTONE_REASONS = {
    "deleted": "That post on X was deleted.",
    "suspended": "That post's X account is suspended.",
    "blocked": "That post on X is not available to us.",
    "unavailable": "That post on X is unavailable.",
}


class XSource:
    name = "x"

    def __init__(self, http: HttpClient, api_url: str = DEFAULT_API_URL) -> None:
        self.http = http
        self.api_url = api_url.rstrip("/")
        self._api_host = urlsplit(self.api_url).netloc or self.api_url

    def parse(self, url: str) -> PostRef | None:
        found = parse_x_url(url)
        if found is None:
            return None
        user, snowflake = found
        return PostRef(source=self.name, url=canonical_url(user, snowflake), key=(snowflake,))

    async def fetch(self, ref: PostRef, max_posts: int) -> FetchedPosts:
        if not ref.key or not (ref.key[0].isascii() and ref.key[0].isdigit()):
            raise NotFound(f"Not a post id on X: {ref.url}")
        snowflake = ref.key[0]
        max_posts = max(1, max_posts)
        body = await self._get(f"/2/thread/{snowflake}", snowflake)
        try:
            return await self._from_thread(body, snowflake, max_posts)
        except Malformed as exc:
            raise self._malformed(exc) from None

    # -- the two shapes of answer ---------------------------------------------------------

    async def _from_thread(self, body: Any, snowflake: str, max_posts: int) -> FetchedPosts:
        focal = self._focal_status(body, snowflake)
        if is_protected(focal):
            raise Refused(_NOT_PUBLIC)
        author = map_author(focal.get("author"), "status.author")
        thread = as_dict(body, "response").get("thread")
        if thread is not None and not isinstance(thread, list):
            raise Malformed("thread is not a list")
        others = [
            item
            for item in thread or []
            if not (isinstance(item, dict) and item.get("id") == focal.get("id"))
        ]
        if others:
            return self._full_thread(thread or [], focal, author, max_posts)
        fetched = await self._walk_up(focal, author, max_posts)
        # ``thread: [post]`` is the answer for a post without self-replies; only ``null``
        # (the instance could not read the conversation), or a list that leaves out the
        # author's own post this one answers, means posts may be missing. A post with no
        # replies at all has no later posts to miss.
        parent = parent_of(focal)
        own_parent_left_out = parent is not None and parent[1].lower() in (
            "",
            author.handle.lower(),
        )
        if focal.get("replies") != 0 and (thread is None or own_parent_left_out):
            fetched.notices.append(NOTICE_SINGLE_POST)
        return fetched

    def _full_thread(
        self, items: list[Any], focal: dict[str, Any], author: Author, max_posts: int
    ) -> FetchedPosts:
        focal_id = snowflake_of(focal, "status")
        statuses: list[dict[str, Any]] = [as_dict(it, f"thread[{i}]") for i, it in enumerate(items)]
        if not any(s.get("id") == focal_id for s in statuses):
            statuses.append(focal)
        found = [(s, self._item_id(s, i, statuses)) for i, s in enumerate(statuses)]
        # A tombstone with no id and no reply below it has no place we could name: drop it.
        statuses = [s for s, sid in found if sid is not None]
        ids = [sid for _, sid in found if sid is not None]
        anchor = ids.index(focal_id)
        capped = len(statuses) > max_posts
        if capped:
            # Keep the top of the thread; when the link points further down, keep the
            # window that ends at the linked post so it is always there.
            start = 0 if anchor < max_posts else anchor - max_posts + 1
            statuses, ids = statuses[start : start + max_posts], ids[start : start + max_posts]
        first = statuses[0]
        root = ids[0] if not is_tombstone(first) and parent_of(first) is None else None
        root_id = post_id(root) if root else None
        posts: dict[str, Post] = {}
        for i, (status, snowflake) in enumerate(zip(statuses, ids, strict=True)):
            prev = post_id(ids[i - 1]) if i > 0 else None
            readable = status.get("type") in ("status", None) and not is_protected(status)
            if snowflake == focal_id:
                post = map_status(focal, "status", root_id)  # checked readable above
            elif readable:
                post = map_status(status, f"thread[{i}]", root_id)
            else:
                post = self._placeholder_for(status, snowflake, statuses, i, author, prev)
            posts[post.id] = post
        return FetchedPosts(
            source=self.name, anchor_id=post_id(focal_id), posts=posts, capped=capped
        )

    async def _walk_up(self, focal: dict[str, Any], author: Author, max_posts: int) -> FetchedPosts:
        """The instance gave us the linked post only: fetch its same-author ancestors one by
        one up to the first post (each needs the previous answer, so they are sequential)."""
        chain: list[Post] = [map_status(focal, "status")]
        capped = False
        current = focal
        while (parent := parent_of(current)) is not None:
            parent_snowflake, parent_handle = parent
            if parent_handle and parent_handle.lower() != author.handle.lower():
                break  # a reply to someone else: the author's thread starts here
            if len(chain) >= max_posts:
                capped = True
                break
            status = await self._parent_status(parent_snowflake)
            if status is None or is_tombstone(status):
                # Deleted or withheld: keep its place, but nothing above it is reachable.
                url = opt_str(status, "url") if status else ""
                chain.append(placeholder(parent_snowflake, author, None, url))
                break
            if opt_dict(status.get("author")) is None or (
                map_author(status.get("author"), "status.author").id != author.id
            ):
                break
            chain.append(map_status(status, "status"))
            current = status
        top = chain[-1]
        root_id = top.id if top.parent_id is None and top.status == "ok" else None
        posts = {p.id: _with_root(p, root_id) for p in reversed(chain)}
        return FetchedPosts(
            source=self.name,
            anchor_id=chain[0].id,
            posts=posts,
            capped=capped,
        )

    async def _parent_status(self, snowflake: str) -> dict[str, Any] | None:
        try:
            body = await self._get(f"/2/status/{snowflake}", snowflake)
            envelope = as_dict(body, "response")
            self._check_code(envelope, snowflake)
        except (NotFound, Refused):
            return None
        status = envelope.get("status")
        return as_dict(status, "status") if status is not None else None

    def _check_code(self, envelope: dict[str, Any], snowflake: str) -> None:
        """The body's ``code`` mirrors the HTTP status; honour it when a proxy in between
        turned an error into a 200."""
        code = envelope.get("code")
        if isinstance(code, int) and not isinstance(code, bool) and code >= 400:
            raise self._http_error(HttpError(code, self.api_url, envelope), snowflake)

    # -- helpers --------------------------------------------------------------------------

    def _focal_status(self, body: Any, snowflake: str) -> dict[str, Any]:
        envelope = as_dict(body, "response")
        self._check_code(envelope, snowflake)
        status = envelope.get("status")
        if status is None:
            raise NotFound(f"No post {snowflake} on X (it may have been deleted).")
        status = as_dict(status, "status")
        if is_tombstone(status):
            raise self._tombstone_error(status, snowflake)
        if status.get("type") not in ("status", None):
            raise Malformed(f"status has unexpected type {quoted(status.get('type'))}")
        return status

    @staticmethod
    def _item_id(status: dict[str, Any], i: int, statuses: list[dict[str, Any]]) -> str | None:
        """A thread item's id; a tombstone without one takes it from the post replying to
        it (FxTwitter tombstones need not carry an id), else None."""
        if not is_tombstone(status) or status.get("id") is not None:
            return snowflake_of(status, f"thread[{i}]")
        if i + 1 < len(statuses) and (parent := parent_of(statuses[i + 1])) is not None:
            return parent[0]
        return None

    @staticmethod
    def _placeholder_for(
        status: dict[str, Any],
        snowflake: str,
        statuses: list[dict[str, Any]],
        i: int,
        thread_author: Author,
        prev: str | None,
    ) -> Post:
        # Who wrote it: the tombstone may say; else the reply below it names its parent's
        # author. Within the author's own chain that is the thread author.
        handle = ""
        author_obj = opt_dict(status.get("author"))
        if author_obj is not None:
            handle = opt_str(author_obj, "screen_name")
        if not handle and i + 1 < len(statuses):
            below = parent_of(statuses[i + 1])
            if below is not None and below[0] == snowflake:
                handle = below[1]
        author = (
            thread_author
            if handle.lower() == thread_author.handle.lower()
            else unknown_author(handle)
        )
        # Keep its place: its parent is the item above it in the thread.
        above = parent_of(status)
        parent_id = post_id(above[0]) if above else prev
        return placeholder(snowflake, author, parent_id, opt_str(status, "url"))

    async def _get(self, path: str, snowflake: str) -> Any:
        url = f"{self.api_url}{path}"
        try:
            return await self.http.get_json(url)
        except HttpError as exc:
            raise self._http_error(exc, snowflake) from None
        except TransportError as exc:
            raise UpstreamUnavailable(
                transport_message(exc, f"The FxTwitter API at {self._api_host}")
            ) from None
        except BlockedAddress as exc:
            raise UpstreamUnavailable(
                f"The configured FxTwitter API address is not allowed: {exc}"
            ) from None

    def _http_error(self, exc: HttpError, snowflake: str) -> Exception:
        body = exc.body if isinstance(exc.body, dict) else {}
        status = opt_dict(body.get("status"))
        if exc.status == 404:
            if status is not None and is_tombstone(status):
                return self._tombstone_error(status, snowflake)
            return NotFound(f"No post {snowflake} on X (it may have been deleted).")
        if exc.status == 401:
            if "user-agent" in str(body.get("error", "")).lower():
                return UpstreamUnavailable(
                    f"The FxTwitter API at {self._api_host} wants a User-Agent header; "
                    "set [network] user_agent in the config."
                )
            return Refused(_NOT_PUBLIC)
        if exc.status == 429:
            wait = ""
            if exc.retry_after is not None:
                wait = f" It asked the bot to wait {_duration(exc.retry_after)}."
            return UpstreamUnavailable(
                f"The FxTwitter API at {self._api_host} is rate-limiting the bot.{wait} "
                "Try again later."
            )
        if exc.status >= 500:
            return UpstreamUnavailable(
                f"The FxTwitter API at {self._api_host} is failing (HTTP {exc.status}). "
                "Try again later."
            )
        message = opt_str(body, "message")
        return UpstreamUnavailable(
            f"The FxTwitter API at {self._api_host} refused the request (HTTP {exc.status}"
            + (f": {message[:200]}" if message else "")
            + ")."
        )

    @staticmethod
    def _tombstone_error(status: dict[str, Any], snowflake: str) -> Exception:
        reason = opt_str(status, "reason")
        if reason == "private":
            return Refused(_NOT_PUBLIC)
        return NotFound(_TOMBSTONE_REASONS.get(reason, f"Post {snowflake} on X is unavailable."))

    def _malformed(self, exc: Malformed) -> UpstreamUnavailable:
        return UpstreamUnavailable(
            f"The FxTwitter API at {self._api_host} sent a response the bot could not read "
            f"({exc}). Try again later."
        )


def _with_root(post: Post, root_id: str | None) -> Post:
    if root_id is None or post.root_id == root_id:
        return post
    return replace(post, root_id=root_id)


def _duration(seconds: float) -> str:
    if seconds < 1.5:
        return "about a second"
    if seconds < 90:
        return f"{round(seconds)} seconds"
    return f"{round(seconds / 60)} minutes"
