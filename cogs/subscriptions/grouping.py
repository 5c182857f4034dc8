"""From an author's recent posts to the threads they belong to.

A post joins the thread of its parent when the parent is one the author wrote (seen now or
on an earlier poll). A chain that reaches the author's own top-level post is anchored
there; one that reaches someone else's post is a reply, not a thread; one whose parent is
unknown (older than any page seen) is keyed by its earliest post until a full fetch tells
where it really starts.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.assemble import SHOWN_VISIBILITY
from bot.models import Author, FetchedPosts, Post
from cogs.subscriptions.repo import ObservedThread
from cogs.subscriptions.settle import activity_time


@dataclass
class _Group:
    root_id: str
    kind: str = "thread"
    posts: list[Post] = field(default_factory=list)
    root: Post | None = None


def own_posts(fetched: FetchedPosts, author: Author) -> list[Post]:
    return [
        p
        for p in fetched.posts.values()
        if p.author.id == author.id and p.status == "ok" and p.visibility in SHOWN_VISIBILITY
    ]


def group_posts(
    fetched: FetchedPosts, author: Author, known: dict[str, str], now: float
) -> list[ObservedThread]:
    posts = {p.id: p for p in own_posts(fetched, author)}
    everyone = fetched.posts
    groups: dict[str, _Group] = {}
    for p in sorted(posts.values(), key=lambda q: q.sort_key):
        root, kind = _root_of(p, posts, everyone, known, author)
        g = groups.setdefault(root, _Group(root, kind))
        g.posts.append(p)
        if p.id == root:
            g.root = p
    out = []
    for g in groups.values():
        first = g.root or min(g.posts, key=lambda q: q.sort_key)
        newest = max(
            activity_time(q.created_at, now if q.id not in known else float("inf")) for q in g.posts
        )
        out.append(
            ObservedThread(
                root_id=g.root_id,
                url=first.url,
                root_created_at=first.created_at,
                activity_at=min(newest, now),
                post_ids=tuple(q.id for q in g.posts),
                kind=g.kind,
            )
        )
    return out


def _root_of(
    p: Post,
    mine: dict[str, Post],
    everyone: dict[str, Post],
    known: dict[str, str],
    author: Author,
) -> tuple[str, str]:
    if p.id in known:
        return known[p.id], "thread"
    cur = p
    seen = {cur.id}
    while cur.parent_id is not None:
        if cur.parent_id in known:
            return known[cur.parent_id], "thread"
        parent = mine.get(cur.parent_id)
        if parent is None:
            other = everyone.get(cur.parent_id)
            if other is not None and other.status == "ok" and other.author.id != author.id:
                return cur.id, "reply"
            break
        if parent.id in seen:
            break  # a reply cycle in hostile data
        seen.add(parent.id)
        cur = parent
    if cur.parent_id is None:
        return cur.id, "thread"
    # The parent is older than anything seen: trust the source's root when it gives one.
    if p.root_id and p.root_id != p.id:
        return known.get(p.root_id, p.root_id), "thread"
    return cur.id, "thread"
