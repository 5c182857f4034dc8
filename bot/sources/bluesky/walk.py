"""What we know about one Bluesky thread while fetching it, and what to ask for next.

The AppView gives at most 10 reply levels per getPostThread call, but the parent chain of
one call reaches up to 1000 levels, and an author's feed returns 100 posts per page. The
walk combines them:

- getPostThread(anchor) gives the ancestors and 10 levels below the anchor;
- the author's feed, paged newest first, gives every post of the author in a time window;
  once the window reaches back to the thread's first post, every self-reply has been seen;
- a thread post found in the feed whose parent is still unknown (a gap) is joined to the
  top with one getPostThread anchored at that parent (the parent chain is uncapped);
- a post whose replies may hold more of the author's posts (replyCount above the replies
  seen, not expanded, not covered by the feed) is a frontier post: it is expanded with
  getPostThread (10 levels) when the feed has not reached the thread yet.

Everything here is pure bookkeeping; the source performs the requests.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.models import Post
from bot.sources.bluesky.mapping import (
    as_dict,
    as_list,
    map_author,
    map_post,
    normalise_time,
    opt_int,
    opt_str,
    placeholder,
    post_opted_out,
    reply_refs,
    req_str,
)
from bot.sources.bluesky.parse import split_post_uri, tid_time, uri_did

THREAD_VIEW = "#threadViewPost"
NOT_FOUND = "#notFoundPost"
BLOCKED = "#blockedPost"


@dataclass
class Hole:
    """A post of the chain that could not be read (deleted, blocked)."""

    uri: str
    parent: str | None
    why: str
    guessed_parent: bool = False


@dataclass
class FeedState:
    cursor: str | None = None
    pages: int = 0
    started: bool = False
    failed: bool = False
    exhausted: bool = False
    oldest: str | None = None  # sort time of the oldest item seen so far
    thread_items: int = 0  # thread posts seen in the feed
    last_density: float = 0.0  # share of the last page that belonged to the thread

    def covers(self, when: str) -> bool:
        """Every post of the author created at or after ``when`` has been seen."""
        if self.failed or not self.started:
            return False
        if self.exhausted:
            return True
        return self.oldest is not None and bool(when) and self.oldest <= when


@dataclass
class Plan:
    feed_page: bool = False
    gap_fills: list[str] = field(default_factory=list)
    descents: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.feed_page or self.gap_fills or self.descents)


@dataclass
class Walk:
    max_posts: int
    anchor: str = ""
    author: str = ""  # the thread author's DID
    root: str = ""
    posts: dict[str, Post] = field(default_factory=dict)
    views: dict[str, dict[str, Any]] = field(default_factory=dict)
    holes: dict[str, Hole] = field(default_factory=dict)
    reply_count: dict[str, int] = field(default_factory=dict)
    children: dict[str, set[str]] = field(default_factory=dict)  # any author
    expanded: set[str] = field(default_factory=set)
    ancestors: list[str] = field(default_factory=list)  # of the anchor, nearest first
    requested: set[str] = field(default_factory=set)  # thread calls already made
    feed: FeedState = field(default_factory=FeedState)
    first: str = ""  # the author's first post of the thread
    top_gap: str | None = None  # unknown parent above the first known post
    chain: list[str] = field(default_factory=list)  # connected from first, by time
    incomplete: bool = False

    # ---- reading responses ------------------------------------------------------------

    def _add_view(self, raw: Any) -> str:
        view = as_dict(raw, "post")
        uri = req_str(view, "uri", "post")
        if uri in self.posts:
            # Seen in an earlier response (responses overlap): keep the larger count.
            count = opt_int(view, "replyCount")
            self.reply_count[uri] = max(self.reply_count.get(uri, 0), count)
            return uri
        post = map_post(view)
        self.views[uri] = view
        self.posts[uri] = post
        self.reply_count[uri] = opt_int(view, "replyCount")
        self.holes.pop(uri, None)
        if post.parent_id:
            self.children.setdefault(post.parent_id, set()).add(uri)
        return uri

    def _add_hole(self, uri: str, parent: str | None, why: str) -> None:
        if uri in self.posts or not uri:
            return
        known = self.holes.get(uri)
        if known is None or (known.parent is None and parent is not None):
            self.holes[uri] = Hole(uri, parent, why)
        if parent:
            self.children.setdefault(parent, set()).add(uri)

    def add_anchor_thread(self, body: Any) -> None:
        """The first getPostThread: sets the anchor, author and root."""
        thread = as_dict(as_dict(body, "response").get("thread"), "thread")
        kind = opt_str(thread, "$type")
        if not kind.endswith(THREAD_VIEW):
            raise LookupError(kind)
        anchor_view = as_dict(thread.get("post"), "thread.post")
        self.author = req_str(as_dict(anchor_view.get("author"), "author"), "did", "author")
        self.anchor = self._add_node(thread, None)
        anchor_post = self.posts[self.anchor]
        self.author = anchor_post.author.id
        self.root = anchor_post.root_id or self.anchor
        self.ancestors.extend(self._climb(thread, self.anchor))

    def add_thread(self, body: Any) -> None:
        """A later getPostThread (gap fill or descent); its parent chain joins gaps."""
        thread = as_dict(as_dict(body, "response").get("thread"), "thread")
        kind = opt_str(thread, "$type")
        if not kind.endswith(THREAD_VIEW):
            return
        self._climb(thread, self._add_node(thread, None))

    def _climb(self, thread: dict[str, Any], child: str) -> list[str]:
        """Join the parent chain above ``child``; the ancestors' URIs, nearest first. A
        deleted or blocked parent ends the chain (the AppView sends nothing above it)."""
        chain: list[str] = []
        parent = thread.get("parent")
        while parent is not None:
            node = as_dict(parent, "thread.parent")
            kind = opt_str(node, "$type")
            if kind.endswith(THREAD_VIEW):
                uri = self._add_view(node.get("post"))
                parent = node.get("parent")
            else:
                uri = req_str(node, "uri", "thread.parent")
                self._add_hole(uri, None, "blocked" if kind.endswith(BLOCKED) else "deleted")
                parent = None
            self.children.setdefault(uri, set()).add(child)
            chain.append(uri)
            child = uri
        return chain

    def _add_node(self, node: dict[str, Any], parent_uri: str | None) -> str:
        kind = opt_str(node, "$type")
        if not kind.endswith(THREAD_VIEW):
            uri = req_str(node, "uri", "thread reply")
            self._add_hole(uri, parent_uri, "blocked" if kind.endswith(BLOCKED) else "deleted")
            return uri
        uri = self._add_view(node.get("post"))
        if "replies" in node:
            self.expanded.add(uri)
            for reply in as_list(node.get("replies"), "thread.replies"):
                reply_node = as_dict(reply, "thread reply")
                post = reply_node.get("post")
                if isinstance(post, dict):
                    author = post.get("author")
                    did = opt_str(author, "did") if isinstance(author, dict) else ""
                    if did and did != self.author and self.author:
                        # Someone else's reply: counted, not kept, not followed.
                        self.children.setdefault(uri, set()).add(opt_str(post, "uri"))
                        continue
                self._add_node(reply_node, uri)
        return uri

    def add_feed_page(self, body: Any) -> None:
        page = as_dict(body, "response")
        items = as_list(page.get("feed"), "feed")
        cursor = page.get("cursor")
        self.feed.started = True
        self.feed.pages += 1
        self.feed.cursor = cursor if isinstance(cursor, str) and cursor else None
        in_thread = 0
        for raw in items:
            item = as_dict(raw, "feed item")
            post = as_dict(item.get("post"), "feed item.post")
            record = as_dict(post.get("record"), "feed item.post.record")
            sort = _sort_time(post, record)
            reason = item.get("reason")
            if isinstance(reason, dict):
                sort = normalise_time(opt_str(reason, "indexedAt")) or sort
            if sort and (self.feed.oldest is None or sort < self.feed.oldest):
                self.feed.oldest = sort
            if reason is not None:
                continue  # reposts and pins are not the author's thread posts
            author = post.get("author")
            if not isinstance(author, dict) or author.get("did") != self.author:
                continue
            uri = req_str(post, "uri", "feed item.post")
            _, root = reply_refs(record)
            if (root or uri) != self.root:
                continue
            in_thread += 1
            self._add_view(post)
            reply = item.get("reply")
            if isinstance(reply, dict):
                for ref in (reply.get("root"), reply.get("parent")):
                    if (
                        isinstance(ref, dict)
                        and opt_str(ref, "$type").endswith("#postView")
                        and ref.get("uri") not in self.posts
                    ):
                        ref_author = ref.get("author")
                        if isinstance(ref_author, dict) and ref_author.get("did") == self.author:
                            self._add_view({k: v for k, v in ref.items() if k != "$type"})
        self.feed.thread_items += in_thread
        self.feed.last_density = in_thread / len(items) if items else 0.0
        if self.feed.cursor is None:
            self.feed.exhausted = True

    def feed_failed(self) -> None:
        self.feed.failed = True
        self.feed.started = True

    def gap_missing(self, uri: str) -> None:
        """A gap fill found nothing: the post was deleted."""
        self._add_hole(uri, None, "deleted")

    # ---- working out where we are -----------------------------------------------------

    def _by_author(self, uri: str) -> bool:
        post = self.posts.get(uri)
        if post is not None:
            return post.author.id == self.author
        return uri_did(uri) == self.author

    def _parent(self, uri: str) -> str | None:
        post = self.posts.get(uri)
        if post is not None:
            return post.parent_id
        hole = self.holes.get(uri)
        return hole.parent if hole else None

    def _time(self, uri: str) -> str:
        post = self.posts.get(uri)
        if post is not None:
            return post.created_at
        parts = split_post_uri(uri)
        return tid_time(parts[1]) if parts else ""

    def _known(self, uri: str) -> bool:
        return uri in self.posts or uri in self.holes

    def _link_orphans(self) -> None:
        """A deleted post's own parent is unknowable; place it after the latest earlier
        post of the author that has no reply of theirs yet, so the chain stays whole."""
        for hole in self.holes.values():
            if hole.guessed_parent and hole.parent is not None:
                # Guess again: more of the thread may be known now.
                self.children.get(hole.parent, set()).discard(hole.uri)
                hole.parent = None
                hole.guessed_parent = False
            if hole.parent is not None or not self._by_author(hole.uri):
                continue
            when = self._time(hole.uri)
            best: str | None = None
            for uri, post in self.posts.items():
                if post.author.id != self.author or post.root_id != self.root:
                    continue
                if not post.created_at or (when and post.created_at >= when):
                    continue
                own_kids = [
                    c for c in self.children.get(uri, ()) if c != hole.uri and self._by_author(c)
                ]
                if own_kids:
                    continue
                if best is None or post.created_at > self.posts[best].created_at:
                    best = uri
            if best is not None:
                hole.parent = best
                hole.guessed_parent = True
                self.children.setdefault(best, set()).add(hole.uri)

    def recompute(self) -> None:
        self._holes_for_unknown_parents()
        self._link_orphans()
        # The first post: climb from the anchor while the parent is the author's.
        cur = self.anchor
        self.top_gap = None
        seen = {cur}
        while True:
            parent = self._parent(cur)
            if parent is None or parent in seen or not self._by_author(parent):
                break
            if not self._known(parent):
                self.top_gap = parent
                break
            seen.add(parent)
            cur = parent
        self.first = cur
        # Everything of the author's connected below the first post.
        chain: list[str] = []
        todo = [self.first]
        seen = set()
        while todo:
            uri = todo.pop()
            if uri in seen:
                continue
            seen.add(uri)
            chain.append(uri)
            for child in self.children.get(uri, ()):
                if self._known(child) and self._by_author(child) and self._parent(child) == uri:
                    todo.append(child)
        chain.sort(key=lambda u: (self._time(u), u))
        self.chain = chain

    def _unknown_own_parent(self, post: Post) -> str | None:
        """The parent of one of the author's thread posts, when it is the author's own and
        we have not seen it (a gap to fill, or a deleted post)."""
        parent = post.parent_id
        if (
            parent
            and post.author.id == self.author
            and post.root_id == self.root
            and not self._known(parent)
            and uri_did(parent) == self.author
        ):
            return parent
        return None

    def _holes_for_unknown_parents(self) -> None:
        """A parent of the author's that the feed should have shown (the feed reaches back
        past its creation time) but did not was deleted: keep its place."""
        for post in list(self.posts.values()):
            parent = self._unknown_own_parent(post)
            if parent and self.feed.covers(self._time(parent)):
                self._add_hole(parent, None, "deleted")

    def gaps(self) -> list[str]:
        """Unknown parents of the author's thread posts, oldest child first."""
        found: dict[str, str] = {}
        if self.top_gap:
            found[self.top_gap] = self._time(self.first)
        for post in self.posts.values():
            parent = self._unknown_own_parent(post)
            if parent:
                when = post.created_at
                if parent not in found or when < found[parent]:
                    found[parent] = when
        # A chain cut by a deleted post above the anchor: the root holds the start.
        first_hole = self.holes.get(self.first)
        if (
            first_hole is not None
            and first_hole.parent is None
            and self.root not in self.posts
            and uri_did(self.root) == self.author
        ):
            found.setdefault(self.root, "")
        return sorted(found, key=lambda u: (found[u], u))

    def frontier(self) -> list[str]:
        """Chain posts that may have replies of the author's that we have not seen."""
        out = []
        for uri in self.chain:
            post = self.posts.get(uri)
            if post is None or uri in self.expanded:
                continue
            if self.reply_count.get(uri, 0) <= len(self.children.get(uri, ())):
                continue
            if self.feed.covers(post.created_at):
                continue
            out.append(uri)
        return out

    def complete(self) -> bool:
        return not self.gaps() and not self.frontier()

    def over_cap(self) -> bool:
        return len(self.chain) > self.max_posts

    def plan(self, *, max_pages: int, descents_left: int, per_round: int = 4) -> Plan:
        """The next round's requests, at most ``per_round`` of them (more would queue
        behind the client's per-host limit and cost a round trip of their own)."""
        plan = Plan()
        first_time = self._time(self.first)
        feed_open = (
            self.feed.started
            and not self.feed.failed
            and not self.feed.exhausted
            and self.feed.cursor is not None
            and self.feed.pages < max_pages
            and not self.feed.covers(first_time)
        )
        plan.feed_page = feed_open
        gaps = [g for g in self.gaps() if g not in self.requested]
        room = max(1, per_round) - int(feed_open)
        if gaps and room > 0 and (not feed_open or self._gap_is_far(gaps[0], max_pages)):
            plan.gap_fills = gaps[: min(2, room)]
            room -= len(plan.gap_fills)
        reached_thread = self.feed.thread_items > 0
        if room > 0 and (not feed_open or not reached_thread):
            pending = [u for u in self.frontier() if u not in self.requested]
            plan.descents = pending[: min(room, descents_left)]
        return plan

    def _gap_is_far(self, gap: str, max_pages: int) -> bool:
        """Join a gap now unless the next feed page will probably reach it."""
        if self.feed.pages + 1 >= max_pages or self.feed.last_density < 0.5:
            return True
        oldest = self.feed.oldest or ""
        known = [self._time(u) for u in self.chain if self._time(u) < oldest]
        below = max(known) if known else self._time(self.first)
        missing_span = _seconds(below, oldest)
        window = _seconds(oldest, self.newest_time())
        if window <= 0 or self.feed.thread_items == 0:
            return True
        rate = self.feed.thread_items / window  # thread posts per second in the feed
        return rate * missing_span > 100

    def newest_time(self) -> str:
        return max((p.created_at for p in self.posts.values()), default="")

    # ---- the answer -------------------------------------------------------------------

    def result(self) -> tuple[dict[str, Post], bool]:
        """The posts to hand to assembly, and whether max_posts cut the thread."""
        chain = self.chain
        capped = len(chain) > self.max_posts
        if capped:
            chain = chain[: self.max_posts]
        keep: list[str] = list(chain)
        # The anchor and everything above the first post (any author) for context.
        keep.append(self.anchor)
        keep.extend(self.ancestors)
        cur = self._parent(self.first)
        seen: set[str] = set()
        while cur and cur not in seen and self._known(cur):
            seen.add(cur)
            keep.append(cur)
            cur = self._parent(cur)
        out: dict[str, Post] = {}
        for uri in keep:
            if uri in out:
                continue
            post = self.posts.get(uri)
            if post is not None:
                view = self.views[uri]
                if uri != self.anchor and post_opted_out(view):
                    if post.author.id != self.author:
                        continue  # someone else's context post: never shown, not needed
                    out[uri] = placeholder(
                        uri,
                        post.author,
                        parent_id=post.parent_id,
                        root_id=post.root_id,
                        created_at=post.created_at,
                        why="hidden at its author's request",
                    )
                else:
                    out[uri] = post
                continue
            hole = self.holes.get(uri)
            if hole is None:
                continue
            did = uri_did(uri) or ""
            if not did:
                continue
            # Someone else's deleted or blocked post above the thread keeps its author, so
            # the author's reply to it starts the thread instead of continuing a gap.
            author = (
                self.posts[self.anchor].author if did == self.author else map_author({"did": did})
            )
            out[uri] = placeholder(
                uri,
                author,
                parent_id=hole.parent,
                root_id=self.root,
                created_at=self._time(uri),
                why=hole.why,
            )
        return out, capped


def _sort_time(post: dict[str, Any], record: dict[str, Any]) -> str:
    created = normalise_time(opt_str(record, "createdAt"))
    indexed = normalise_time(opt_str(post, "indexedAt"))
    times = [t for t in (created, indexed) if t]
    return min(times) if times else ""


def _seconds(a: str, b: str) -> float:
    try:
        ta = datetime.fromisoformat(a.replace("Z", "+00:00"))
        tb = datetime.fromisoformat(b.replace("Z", "+00:00"))
    except ValueError:
        return 0.0
    return (tb - ta).total_seconds()
