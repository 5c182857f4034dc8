"""Finding every post of a Mastodon self-thread in few sequential round trips.

Unauthenticated ``context`` stops at 40 ancestors, 60 descendants and depth 20, so long
threads need more calls. The author's own statuses list (``exclude_replies`` keeps
self-replies, except in a thread that begins as a reply to someone: Mastodon names that
someone on each of its self-replies, so then the whole list is read) returns 40 posts
per call, and on Mastodon the ids are snowflakes (``id >> 16`` is a millisecond
timestamp): from the posting rate already seen we cut the time after the thread's first
post into windows of about 36 of the author's posts and ask for several windows at once
(``min_id``/``max_id``), then fill whatever a window could not hold in the next round
(coverage bookkeeping in coverage.py). Servers whose ids are not snowflakes are
paged one page at a time, with ``context`` re-anchored at unfinished posts alongside.

"Complete" is checked, not assumed: a post is finished when its ``replies_count`` (public
and unlisted replies) is matched by replies we have, or when the author's statuses are
known without a gap from it to the present or for ``MARGIN`` of their posts after it.
"""

from __future__ import annotations

import asyncio
import bisect
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from bot.errors import NotFound, Refused, UserError, quoted
from bot.models import FetchedPosts, Post
from bot.sources.base import iso_ms_from_epoch
from bot.sources.mastodon.api import PAGE_LIMIT, MastodonApi, Page
from bot.sources.mastodon.coverage import TOP, Coverage, Pos, is_snowflake, sort_key
from bot.sources.mastodon.mapping import (
    SHOWN_VISIBILITY,
    guess_parent_uri,
    map_author,
    map_status,
    status_uri,
)

log = logging.getLogger(__name__)

MAX_SLOTS = 8  # requests per round at most; fewer when the HTTP client allows fewer
FILL = 36  # author posts a window aims at, out of PAGE_LIMIT, to absorb rate errors
MARGIN = 12  # author posts listed after a post before later self-replies are ruled out
MAX_ROUNDS = 20
MAX_REQUESTS = 120
ANCESTORS_LIMIT = 40  # context's ancestors for anonymous callers, nearest first


@dataclass
class Analysis:
    top: dict[str, Any]  # the thread's first post
    up_pid: str | None  # a missing parent by the author above ``top``, still to look for
    tree: list[dict[str, Any]]  # the author's posts from ``top`` down, with side branches
    open: list[dict[str, Any]]  # tree posts whose replies may hold unseen self-replies
    # Tree posts whose context would tell whether a self-reply below a hidden post
    # belongs to the thread (the server lists descendants through posts it hides).
    ask: list[str] = field(default_factory=list)


class ThreadCrawl:
    def __init__(self, api: MastodonApi, base: str, max_posts: int) -> None:
        self.api = api
        self.base = base
        self.max_posts = max_posts
        self.by_id: dict[str, dict[str, Any]] = {}
        self.children: dict[str, set[str]] = defaultdict(set)
        self.absent: set[str] = set()  # asked for directly: not found or not public
        self.ctx_done: set[str] = set()
        # Statuses a context call returned as descendants of a thread post.
        self.below_tree: set[str] = set()
        # (first, last position, statuses per id unit) of list pages that came back full.
        self.full_pages: list[tuple[int, int, float]] = []
        self.listing: list[Pos] = []  # positions of the author's statuses from listings
        # Whether listings include replies to others (a thread that begins as a reply).
        self.full_list = False
        self.notices: list[str] = []
        self.anchor: dict[str, Any] = {}
        self.author_id = ""
        self.ancestors_hint: list[str] = []  # the anchor's ancestors, root first
        self.cov = Coverage(numeric=False)
        self.snowflake = False
        self.requests = 0
        self.rounds = 0
        self.capped = False
        # Requests per round: what the HTTP client runs at once on one host.
        self.slots = max(2, min(MAX_SLOTS, api.http.settings.per_host_concurrency))

    # -- positions ----------------------------------------------------------------------
    def pos(self, status_id: str, offset: int = 0) -> Pos:
        if self.snowflake:
            return 2 * int(status_id) + offset
        return (sort_key(status_id), offset)

    # -- state ------------------------------------------------------------------------
    def add(self, status: dict[str, Any], listed: bool = False) -> None:
        sid = status["id"]
        self.by_id[sid] = status
        parent = status.get("in_reply_to_id")
        if parent:
            self.children[parent].add(sid)
        if listed and status["account"]["id"] == self.author_id:
            p = self.pos(sid)
            i = bisect.bisect_left(self.listing, p)
            if i == len(self.listing) or self.listing[i] != p:
                self.listing.insert(i, p)

    def _note(self, text: str) -> None:
        if text not in self.notices:
            self.notices.append(text)

    async def _call(self, coro: Awaitable[Any]) -> Any:
        self.requests += 1
        return await coro

    # -- round 1 ------------------------------------------------------------------------
    async def start(self, status_id: str) -> None:
        """The post and its context, concurrently. Errors about the post itself end the
        fetch; a failed context leaves the post alone with a notice."""
        status_task = asyncio.ensure_future(self._call(self.api.status(self.base, status_id)))
        ctx_task = asyncio.ensure_future(self._call(self.api.context(self.base, status_id)))
        self.rounds += 1
        try:
            status = await status_task
        except BaseException:
            ctx_task.cancel()
            await asyncio.gather(ctx_task, return_exceptions=True)
            raise
        visibility = status.get("visibility")
        if visibility not in SHOWN_VISIBILITY:
            ctx_task.cancel()
            await asyncio.gather(ctx_task, return_exceptions=True)
            raise Refused(
                f"That post is not public (visibility {quoted(visibility)}), so it is not unrolled."
            )
        self.anchor = status
        self.author_id = status["account"]["id"]
        self.snowflake = is_snowflake(status["id"])
        self.cov = Coverage(numeric=self.snowflake)
        self.add(status)
        try:
            ancestors, descendants = await ctx_task
        except UserError as exc:
            self._note(f"Replies could not be loaded ({exc}); the thread may be incomplete.")
            return
        self.ctx_done.add(status["id"])
        self._add_page(ancestors)
        self._add_page(descendants)
        self.below_tree.update(s["id"] for s in descendants.statuses)
        self.ancestors_hint = [s["id"] for s in ancestors.statuses]

    def _add_page(self, page: Page, listed: bool = False) -> None:
        bad = page.malformed
        for s in page.statuses:
            if self.snowflake and not s["id"].isdigit():
                bad += 1  # the server mixes id kinds: not a status we can place
                continue
            self.add(s, listed)
        if bad:
            posts = "post from the server was" if bad == 1 else "posts from the server were"
            self._note(f"{bad} malformed {posts} skipped.")

    # -- what is known --------------------------------------------------------------------
    def _absent(self, status_id: str) -> bool:
        """Known not to be visible: asked for directly, or inside a complete stretch of
        the author's list (self-replies are always listed)."""
        if status_id in self.absent:
            return True
        try:
            return self.cov.span_at(self.pos(status_id)) is not None
        except ValueError:
            return False

    def analyse(self) -> Analysis:
        author = self.author_id
        cur = self.anchor
        seen = {cur["id"]}
        up_pid: str | None = None
        while True:
            pid = cur.get("in_reply_to_id")
            if not pid:
                break
            parent = self.by_id.get(pid)
            if parent is None:
                # Mastodon names the account a self-reply chain first answered, not the
                # author, on every self-reply below a reply to someone: an unseen parent
                # naming someone else may still be the author's, when the context's
                # ancestors stopped at their limit before it.
                mine = cur.get("in_reply_to_account_id") == author
                if pid not in self.absent and (mine or len(self.ancestors_hint) >= ANCESTORS_LIMIT):
                    up_pid = pid
                break
            if parent["account"]["id"] != author or pid in seen:
                break
            seen.add(pid)
            cur = parent
        top = cur
        if up_pid is None and cur.get("in_reply_to_id") in self.absent:
            # A hidden or deleted post breaks the chain: the context's ancestors still
            # show the author's earlier posts above it.
            run: list[str] = []
            for aid in self.ancestors_hint:
                s = self.by_id.get(aid)
                run = [*run, aid] if s is not None and s["account"]["id"] == author else []
            if run and run[0] != top["id"]:
                top = self.by_id[run[0]]

        tree: list[dict[str, Any]] = []
        in_tree: set[str] = set()

        def grow(root: dict[str, Any]) -> None:
            stack = [root]
            while stack:
                s = stack.pop()
                if s["id"] in in_tree:
                    continue
                in_tree.add(s["id"])
                tree.append(s)
                for cid in self.children.get(s["id"], ()):
                    c = self.by_id.get(cid)
                    if c is not None and c["account"]["id"] == author:
                        stack.append(c)

        grow(top)
        # Self-replies whose parent is hidden or deleted: the context still lists them
        # below the posts they descend from; the author's list shows them in time order.
        top_key = sort_key(top["id"])
        grown = True
        while grown:
            grown = False
            for s in sorted(self.by_id.values(), key=lambda s: sort_key(s["id"])):
                if s["id"] not in in_tree and self._orphan_of_thread(s, top_key, tree):
                    grow(s)
                    grown = True
        opened = [s for s in tree if not self._finished(s)]
        return Analysis(
            top=top,
            up_pid=up_pid,
            tree=tree,
            open=opened,
            ask=self._contexts_to_ask(tree),
        )

    def _contexts_to_ask(self, tree: list[dict[str, Any]]) -> list[str]:
        """For each self-reply whose hidden parent comes after the thread's known posts:
        the thread post just before that parent. Its context lists the reply if the
        hidden post answered it; a later thread of the author's does not show up there."""
        author = self.author_id
        in_tree = {t["id"] for t in tree}
        keys = sorted((sort_key(t["id"]), t["id"]) for t in tree)
        found: list[str] = []
        for s in self.by_id.values():
            pid = s.get("in_reply_to_id")
            if (
                not pid
                or pid in self.by_id
                or s["id"] in in_tree
                or s["account"]["id"] != author
                or s.get("in_reply_to_account_id") != author
                or not self._absent(pid)
            ):
                continue
            i = bisect.bisect_left(keys, (sort_key(pid), ""))
            if i == 0:
                continue  # its parent is older than the thread
            before = keys[i - 1][1]
            if before not in self.ctx_done and before not in found:
                found.append(before)
        return found

    def _orphan_of_thread(
        self, s: dict[str, Any], top_key: tuple[int, int, str], tree: list[dict[str, Any]]
    ) -> bool:
        """A self-reply whose parent cannot be read joins the thread only on evidence that
        it belongs: a thread post's context lists it below itself; its parent's id lies
        between known posts of the thread; or, its parent erased (no id left), it is the
        author's next listed post after a thread post. A later self-thread whose first
        post is hidden shows none of these, so it is not glued on."""
        author = self.author_id
        pid = s.get("in_reply_to_id")
        if (
            s["account"]["id"] != author
            or s.get("in_reply_to_account_id") != author
            or (pid and pid in self.by_id)
            or sort_key(s["id"]) <= top_key
        ):
            return False
        if s["id"] in self.below_tree:
            return True  # a descendant of a thread post, per the server's context
        if pid:
            last = max(sort_key(t["id"]) for t in tree)
            return top_key < sort_key(pid) < last and self._absent(pid)
        return self._next_after_thread(s, tree)

    def _next_after_thread(self, s: dict[str, Any], tree: list[dict[str, Any]]) -> bool:
        """Nothing else of the author's lies between ``s`` and the thread post before it,
        in a complete stretch of their list (self-replies are always listed)."""
        try:
            at = self.pos(s["id"])
            before = [t["id"] for t in tree if self.pos(t["id"]) < at]
            prev = max(before, key=self.pos) if before else None
        except ValueError:
            return False
        span = self.cov.span_at(at)
        # The stretch reaches back to the thread post (or to just above it).
        if span is None or prev is None or self.pos(prev, 1) < span[0]:
            return False
        lo = bisect.bisect_right(self.listing, self.pos(prev))
        return bisect.bisect_left(self.listing, at) == lo

    def _finished(self, status: dict[str, Any]) -> bool:
        count = status.get("replies_count")
        replies = count if isinstance(count, int) and count >= 0 else 1
        if replies <= len(self.children.get(status["id"], ())):
            return True
        if not self._self_replies_listed(status):
            return False
        span = self.cov.span_at(self.pos(status["id"], 1))
        if span is None:
            return False
        if span[1] >= self.cov.top:
            return True
        lo = bisect.bisect_right(self.listing, self.pos(status["id"]))
        hi = bisect.bisect_right(self.listing, span[1])
        return hi - lo >= MARGIN

    def _self_replies_listed(self, status: dict[str, Any]) -> bool:
        """Whether the author's list shows self-replies to ``status``. They carry the
        account ``status`` answered, so below a reply to someone else ``exclude_replies``
        leaves them out, like replies to others."""
        if self.full_list:
            return True
        if not status.get("in_reply_to_id") and not status.get("in_reply_to_account_id"):
            return True
        return bool(status.get("in_reply_to_account_id") == self.author_id)

    def _list_everything(self) -> None:
        """The thread begins as a reply to someone, so its self-replies are only in the
        author's whole list (replies to others included): read that one from now on.
        What the shorter list proved complete does not hold for it."""
        self.full_list = True
        self.cov = Coverage(numeric=self.snowflake)
        self.listing = []
        self.full_pages = []

    # -- the rounds -----------------------------------------------------------------------
    async def run(self) -> None:
        while True:
            a = self.analyse()
            if not self.full_list and not self._self_replies_listed(a.top):
                self._list_everything()
                a = self.analyse()
            if len(a.tree) >= self.max_posts:
                self.capped = True
                return
            if a.up_pid is None and not a.open and not a.ask:
                return
            if self.rounds >= MAX_ROUNDS or self.requests >= MAX_REQUESTS:
                self._note("The thread is very long; some of its posts may be missing.")
                return
            plan = self._plan_snowflake(a) if self.snowflake else self._plan_paged(a)
            if not plan:
                return
            before = self._progress()
            self.rounds += 1
            await asyncio.gather(*(self._guarded(step) for step in plan))
            if self._progress() == before:
                # Nothing new came back (failures, or a server that ignores paging).
                self._note("Some posts of the thread could not be found; it may be incomplete.")
                return

    def _progress(self) -> tuple[int, int, int, list[tuple[Pos, Pos]]]:
        return (len(self.by_id), len(self.absent), len(self.ctx_done), list(self.cov.spans))

    async def _guarded(self, step: Callable[[], Awaitable[None]]) -> None:
        try:
            await step()
        except UserError as exc:
            self._note(f"Part of the thread could not be loaded ({exc}); it may be incomplete.")

    # Requests as steps that fold their answer into the state.
    def _fetch_parent(self, pid: str) -> list[Callable[[], Awaitable[None]]]:
        async def status() -> None:
            try:
                s = await self._call(self.api.status(self.base, pid))
            except NotFound:
                self.absent.add(pid)
                return
            self.add(s)

        async def context() -> None:
            try:
                ancestors, _ = await self._call(self.api.context(self.base, pid))
            except NotFound:
                return  # the post is hidden or gone: it keeps its place as unavailable
            self._add_page(ancestors)

        return [status, context]

    def _fetch_context(self, sid: str) -> Callable[[], Awaitable[None]]:
        async def step() -> None:
            self.ctx_done.add(sid)
            ancestors, descendants = await self._call(self.api.context(self.base, sid))
            self._add_page(ancestors)
            self._add_page(descendants)
            self.below_tree.update(s["id"] for s in descendants.statuses)

        return step

    def _forward(self, min_id: str, max_id: str | None) -> Callable[[], Awaitable[None]]:
        """Oldest statuses above ``min_id`` (below ``max_id``)."""
        return self._window(min_id, max_id, forward=True)

    def _backward(self, max_id: str, since_id: str | None) -> Callable[[], Awaitable[None]]:
        """Newest statuses below ``max_id`` (above ``since_id``)."""
        return self._window(since_id, max_id, forward=False)

    def _window(
        self, after: str | None, before: str | None, *, forward: bool
    ) -> Callable[[], Awaitable[None]]:
        """One page of the author's list between two exclusive bounds; what it proves
        complete joins the coverage."""

        async def step() -> None:
            bounds: dict[str, str] = {}
            if after:
                bounds["min_id" if forward else "since_id"] = after
            if before:
                bounds["max_id"] = before
            if self.full_list:
                bounds["exclude_replies"] = "false"
            page = await self._call(self.api.account_statuses(self.base, self.author_id, **bounds))
            lo = self.pos(after, 1) if after else self.cov.bottom
            hi = self.pos(before, -1) if before else self.cov.top
            inside = [
                st
                for st in page.statuses
                if (not self.snowflake or st["id"].isdigit()) and lo <= self.pos(st["id"]) <= hi
            ]
            if len(inside) < len(page.statuses):
                # The server answered outside the range asked: keep the posts, trust no
                # completeness from this page.
                self._add_page(page)
                self._note("The server ignored paging; some posts may be missing.")
                return
            self._add_page(page, listed=True)
            if len(inside) + page.malformed >= PAGE_LIMIT:
                found = [self.pos(st["id"]) for st in inside] or [lo if forward else hi]
                if forward:
                    hi = max(found)
                else:
                    lo = min(found)
                self._full_page(lo, hi, len(inside))
            self.cov.add(lo, hi)

        return step

    def _full_page(self, lo: Pos, hi: Pos, count: int) -> None:
        if self.snowflake and hi > lo:
            self.full_pages.append((lo, hi, count / ((hi - lo) / 2)))

    def _rate(self, tree: list[dict[str, Any]]) -> float:
        """The author's statuses per id unit, from complete stretches of their list when
        there are some, else from the thread posts seen."""
        count, length = 0, 0
        for a, b in self.cov.spans:
            if b >= TOP or a <= 0:
                continue
            count += bisect.bisect_right(self.listing, b) - bisect.bisect_left(self.listing, a)
            length += (b - a) // 2
        if count >= 5 and length > 0:
            return count / length
        ids = sorted(int(s["id"]) for s in tree)
        if len(ids) >= 3 and ids[-1] > ids[0]:
            return (len(ids) - 1) / (ids[-1] - ids[0])
        return 1 / (30 * 60 * 1000 * 65536)  # one post per half hour

    def _plan_snowflake(self, a: Analysis) -> list[Callable[[], Awaitable[None]]]:
        plan: list[Callable[[], Awaitable[None]]] = [
            self._fetch_context(t) for t in a.ask[: self.slots - 1]
        ]
        rate = self._rate(a.tree)
        # Holes to fill: (first position, last position, forward?).
        holes: list[tuple[int, int, bool]] = []
        tail: int | None = None  # ids above this are still to list
        below: int | None = None  # ids below this are still to list
        if a.up_pid is not None:
            # The list would show it: below a reply to someone, run() reads the whole list.
            if self._absent(a.up_pid) or not a.up_pid.isdigit():
                plan += self._fetch_parent(a.up_pid)  # e.g. a first post replying to others
            else:
                back_gaps, bottom = self.cov.gaps_below(self.pos(a.top["id"]))
                holes += [(lo, hi, False) for lo, hi in back_gaps]
                below = None if bottom is None else bottom // 2 + 1
        # Self-replies the list leaves out are found through context, newest first.
        unlisted = [s for s in a.open if not self._self_replies_listed(s)]
        for s in sorted(unlisted, key=lambda s: sort_key(s["id"]), reverse=True):
            if len(plan) < self.slots - 1 and s["id"] not in self.ctx_done:
                plan.append(self._fetch_context(s["id"]))
        listed = [s for s in a.open if self._self_replies_listed(s)]
        if listed:
            start = min(self.pos(s["id"], 1) for s in listed)
            if below is not None:
                # Posts the backward windows find will want the list after them too:
                # cover from the first known post now, not in another round.
                start = min(start, self.pos(a.top["id"], 1))
            fwd_gaps, tail_pos = self.cov.gaps_from(start)
            holes += [(lo, hi, True) for lo, hi in fwd_gaps]
            tail = None if tail_pos is None else (tail_pos - 1) // 2
        slots = self.slots - len(plan)
        reserve = (tail is not None) + (below is not None)
        # Each hole gets the windows its estimated size asks for, within what the
        # frontiers leave; slots nobody else needs split the holes further.
        needs = [
            max(1, -(-int((hi - lo) / 2 * self._density(lo, hi, rate)) // FILL))
            for lo, hi, _ in holes
        ]
        given = [0] * len(holes)
        budget = max(1, slots - reserve) if holes else 0
        order = sorted(range(len(holes)), key=lambda i: -needs[i])
        for i in order:  # one window per hole first
            if budget:
                given[i], budget = 1, budget - 1
        for i in order:  # then what each is estimated to need
            extra = max(0, min(budget, needs[i] - given[i]))
            given[i], budget = given[i] + extra, budget - extra
        # Spare slots make smaller windows in holes that look big (estimates err).
        big = [i for i in order if needs[i] >= 2]
        while budget and not reserve and big:
            for i in big:
                if budget and given[i] < 2 * needs[i]:
                    given[i], budget = given[i] + 1, budget - 1
            if all(given[i] >= 2 * needs[i] for i in big):
                break
        for (lo, hi, forward), n in zip(holes, given, strict=True):
            for lo_id, hi_id in self._split(lo, hi, n):
                step = self._forward if forward else self._backward
                plan.append(
                    step(str(lo_id), str(hi_id)) if forward else step(str(hi_id), str(lo_id))
                )
        slots = max(0, self.slots - len(plan))
        if not self.listing and not self.cov.spans and below is None:
            # Nothing says yet how long the thread runs (more than 40 posts above the
            # link would): a first probe of at most four windows, so short threads do
            # not pay for the longest ones.
            slots = min(slots, max(0, 4 - len(plan)))
        n_fwd = n_back = 0
        if tail is not None and below is not None:
            n_fwd = max(1, slots // 2)
            n_back = max(1, slots - n_fwd)
        elif tail is not None:
            n_fwd = max(1, slots)
        elif below is not None:
            n_back = max(1, slots)
        # Consecutive windows share a boundary id b: one holds ids up to b, the next
        # starts above b (min_id/since_id and max_id are all exclusive).
        if tail is not None:
            width = max(1, int(FILL / self._density(2 * tail, 2 * tail, rate)))
            bounds = [tail + i * width for i in range(n_fwd)]
            for i, b in enumerate(bounds):
                nxt = str(bounds[i + 1] + 1) if i + 1 < len(bounds) else None
                plan.append(self._forward(str(b), nxt))
        if below is not None:
            width = max(1, int(FILL / self._density(2 * below, 2 * below, rate)))
            bounds = [below - i * width for i in range(n_back)]
            for i, b in enumerate(bounds):
                since = bounds[i + 1] if i + 1 < len(bounds) and bounds[i + 1] > 0 else None
                before = b if i == 0 else b + 1
                plan.append(self._backward(str(before), None if since is None else str(since)))
                if since is None:
                    break
        return plan

    def _density(self, lo: int, hi: int, rate: float) -> float:
        """Statuses per id unit near positions lo..hi: a full page next to them says
        more than the average."""
        best = rate
        for h_lo, h_hi, density in self.full_pages:
            if h_lo - 2 <= hi and lo <= h_hi + 2:
                best = max(best, density)
        return best

    @staticmethod
    def _split(g_lo: int, g_hi: int, n: int) -> list[tuple[int, int]]:
        """Exclusive id bounds (after, before) of ``n`` windows covering positions
        ``g_lo..g_hi``."""
        lo_id, hi_id = (g_lo - 1) // 2, g_hi // 2 + 1
        step = max(1, -(-(hi_id - lo_id) // max(1, n)))
        return [(b, min(b + step + 1, hi_id)) for b in range(lo_id, hi_id - 1, step)]

    def _plan_paged(self, a: Analysis) -> list[Callable[[], Awaitable[None]]]:
        """Ids without a clock in them: one page of the author's list per round from the
        earliest unfinished post (pages cannot be cut ahead of time), and context calls
        that settle unfinished posts twenty levels at a time, newest first (they also
        find the thread's continuation)."""
        plan: list[Callable[[], Awaitable[None]]] = [
            self._fetch_context(t) for t in a.ask[: self.slots - 1]
        ]
        if a.up_pid is not None:
            plan += self._fetch_parent(a.up_pid)
        if a.open:
            first = min(a.open, key=lambda s: sort_key(s["id"]))
            gaps, tail = self.cov.gaps_from(self.pos(first["id"], 1))
            start = gaps[0][0] if gaps else tail
            if start is not None:
                # Positions here sit just above an id seen: where to page on from.
                ids = {sort_key(sid): sid for sid in self.by_id}
                cursor = ids.get(start[0])
                if cursor is not None:
                    plan.append(self._forward(cursor, None))
            newest_first = sorted(a.open, key=lambda s: sort_key(s["id"]), reverse=True)
            for s in newest_first:
                if len(plan) >= self.slots:
                    break
                if s["id"] not in self.ctx_done:
                    plan.append(self._fetch_context(s["id"]))
        return plan

    # -- the answer -----------------------------------------------------------------------

    def _unreadable_parent(self, status: dict[str, Any], uri: str, child: Post) -> Post:
        """A placeholder for the parent of ``status`` that could not be read (not public,
        deleted, or erased), credited to whoever the server says wrote it: a reply to
        someone else's hidden post is not a gap in the author's thread."""
        account_id = status.get("in_reply_to_account_id")
        account: dict[str, Any] | None = None
        if account_id == status["account"]["id"]:
            account = status["account"]
        else:
            mentions = status.get("mentions")
            account = next(
                (
                    m
                    for m in (mentions if isinstance(mentions, list) else ())
                    if isinstance(m, dict) and m.get("id") == account_id
                ),
                None,
            )
        if account is None:
            # Someone the post does not name: an id that is nobody's author id here.
            account = {"id": str(account_id or ""), "url": f"{uri}#author"}
        pid = status.get("in_reply_to_id")
        created = child.created_at
        if isinstance(pid, str) and self.snowflake and is_snowflake(pid):
            created = _snowflake_time(pid)
        return Post(
            id=uri,
            url="",
            author=map_author(account, self.base),
            created_at=created,
            text="",
            root_id=child.root_id,
            status="unavailable",
        )

    def result(self) -> FetchedPosts:
        a = self.analyse()
        base = self.base
        root = a.top
        # The thread's first post and everything above it (any author).
        ancestors: list[dict[str, Any]] = []
        cur: dict[str, Any] | None = a.top
        seen: set[str] = set()
        while cur is not None and cur.get("in_reply_to_id") and cur["id"] not in seen:
            seen.add(cur["id"])
            cur = self.by_id.get(cur["in_reply_to_id"])
            if cur is not None:
                ancestors.append(cur)
        ancestors += [self.by_id[i] for i in self.ancestors_hint if i in self.by_id]
        chosen = {s["id"]: s for s in [*ancestors, *a.tree, self.anchor]}
        root_uri = status_uri(root, base)
        posts: dict[str, Post] = {}
        gaps: dict[str, Post] = {}
        for s in chosen.values():
            parent = self.by_id.get(s.get("in_reply_to_id") or "")
            if parent is not None:
                parent_uri: str | None = status_uri(parent, base)
            elif s.get("in_reply_to_account_id") and not s.get("in_reply_to_id"):
                # A reply whose parent was erased: a key the assembler can hold a gap at.
                parent_uri = f"{status_uri(s, base)}#erased-parent"
            else:
                parent_uri = guess_parent_uri(s, base)
            post = map_status(s, base, parent_uri, root_uri)
            posts[post.id] = post
            if parent is None and parent_uri is not None:
                gaps.setdefault(parent_uri, self._unreadable_parent(s, parent_uri, post))
        for uri, gap in gaps.items():
            posts.setdefault(uri, gap)
        return FetchedPosts(
            source="mastodon",
            anchor_id=status_uri(self.anchor, base),
            posts=posts,
            notices=list(self.notices),
            capped=self.capped,
        )


def _snowflake_time(status_id: str) -> str:
    """When a Mastodon snowflake id was made (its top bits are milliseconds), in the
    format of ``created_at``."""
    return iso_ms_from_epoch((int(status_id) >> 16) / 1000)
