"""Thread assembly: from the posts a source found to the Thread we show.

The thread is the author's self-reply chain containing the linked post, from its first
post. The main line is the longest chain of self-replies (ties: the earliest); shorter
branches are kept as asides after the post they reply to. Deleted or unavailable posts keep
their place as placeholders. Sources only find posts; every rule lives here, once.
"""

from __future__ import annotations

import dataclasses
import time
from collections import defaultdict
from collections.abc import Callable, Iterable

from bot.errors import NotFound, Refused
from bot.models import Aside, Author, ContentNote, FetchedPosts, Post, Thread

SHOWN_VISIBILITY = frozenset({"public", "unlisted"})


def _placeholder(post_id: str, parent_id: str | None, author: Author, created_at: str) -> Post:
    return Post(
        id=post_id,
        url="",
        author=author,
        created_at=created_at,
        text="",
        parent_id=parent_id,
        status="unavailable",
    )


def _normalise(fetched: FetchedPosts, author: Author) -> dict[str, Post]:
    """Hide non-public posts behind placeholders and give orphaned author posts (whose
    parent was deleted and not reported) a placeholder parent at their place in time."""
    posts: dict[str, Post] = {}
    for pid, p in fetched.posts.items():
        if p.status == "ok" and p.visibility not in SHOWN_VISIBILITY:
            p = _placeholder(p.id, p.parent_id, p.author, p.created_at)
        posts[pid] = p

    def by_author(p: Post) -> bool:
        return p.author.id == author.id and p.status == "ok"

    authored = sorted((p for p in posts.values() if by_author(p)), key=lambda p: p.sort_key)
    for p in authored:
        if p.parent_id is None or p.parent_id in posts:
            continue
        root = posts.get(p.root_id or "")
        if root is None or not by_author(root):
            continue  # a reply to someone we cannot see: not part of this self-thread
        # The parent is gone and the source could not say where it sat: assume it
        # continued the latest earlier post by the author in this conversation.
        earlier = [q for q in authored if q.sort_key < p.sort_key and q.id != p.id]
        parent_of_gap = earlier[-1].id if earlier else root.id
        posts[p.parent_id] = _placeholder(p.parent_id, parent_of_gap, author, p.created_at)
    # Placeholders the source reported without a known parent, below an author root.
    for pid, p in list(posts.items()):
        if p.status == "unavailable" and p.parent_id is None:
            root_hint = next(
                (c.root_id for c in posts.values() if c.parent_id == pid and c.root_id), None
            )
            root = posts.get(root_hint or "")
            if root is not None and root.id != pid and by_author(root):
                earlier = [q for q in authored if q.sort_key <= p.sort_key and q.id != pid]
                posts[pid] = dataclasses.replace(
                    p, parent_id=earlier[-1].id if earlier else root.id
                )
    return posts


def _find_start(posts: dict[str, Post], anchor: Post, author: Author) -> Post:
    cur = anchor
    seen = {cur.id}
    while cur.parent_id is not None:
        parent = posts.get(cur.parent_id)
        if parent is None or parent.id in seen:
            break
        if parent.author.id != author.id:
            break  # the author replied to someone else (even a deleted post): start here
        seen.add(parent.id)
        cur = parent
    return cur


def assemble(fetched: FetchedPosts, max_posts: int) -> Thread:
    anchor = fetched.posts.get(fetched.anchor_id)
    if anchor is None or anchor.status != "ok":
        raise NotFound("That post was not found (it may have been deleted).")
    if anchor.visibility not in SHOWN_VISIBILITY:
        raise Refused("That post is not public, so it is not unrolled.")
    author = anchor.author
    posts = _normalise(fetched, author)
    start = _find_start(posts, anchor, author)

    children: dict[str, list[Post]] = defaultdict(list)
    for p in posts.values():
        if p.parent_id is None or p.id == start.id:
            continue
        if p.status == "ok" and p.author.id != author.id:
            continue  # others' replies are never part of the thread
        children[p.parent_id].append(p)
    for kids in children.values():
        kids.sort(key=lambda p: p.sort_key)

    # Height of each subtree: the longest chain below, counting only real posts at the
    # end (a trailing placeholder adds nothing). Iterative: threads can be long.
    height: dict[str, int] = {}
    order: list[Post] = []
    stack = [start]
    visited: set[str] = set()
    while stack:
        node = stack.pop()
        if node.id in visited:
            continue  # a reply cycle in hostile data
        visited.add(node.id)
        order.append(node)
        stack.extend(children.get(node.id, ()))
    for node in reversed(order):
        best = max((height.get(c.id, 0) for c in children.get(node.id, ())), default=0)
        height[node.id] = best + 1 if (node.status == "ok" or best > 0) else 0

    def live_children(node_id: str) -> list[Post]:
        return [c for c in children.get(node_id, ()) if height.get(c.id, 0) > 0]

    main: list[Post] = []
    step: Post | None = start
    on_main: set[str] = set()
    while step is not None and step.id not in on_main:
        main.append(step)
        on_main.add(step.id)
        kids = live_children(step.id)
        if not kids:
            break
        tallest = max(height[c.id] for c in kids)
        step = next(c for c in kids if height[c.id] == tallest)

    truncated = fetched.capped
    if len(main) > max_posts:
        main = main[:max_posts]
        truncated = True
    budget = max_posts - len(main)
    asides: list[Aside] = []
    kept_main = {p.id for p in main}
    for p in main:
        for branch in live_children(p.id):
            if branch.id in kept_main:
                continue
            branch_posts = _preorder(branch, live_children, visited=set(kept_main))
            if len(branch_posts) > budget:
                branch_posts = branch_posts[:budget]
                truncated = True
            if branch_posts:
                asides.append(Aside(after=p.id, posts=tuple(branch_posts)))
                budget -= len(branch_posts)

    shown = main + [q for a in asides for q in a.posts]
    post_notes = tuple((p.id, p.content_notes) for p in shown if p.content_notes)
    return Thread(
        source=fetched.source,
        url=start.url or anchor.url,
        root_id=start.id,
        author=author,
        posts=tuple(main),
        asides=tuple(asides),
        content_notes=_merge_notes(n for p in shown for n in p.content_notes),
        truncated=truncated,
        notices=tuple(fetched.notices),
        post_notes=post_notes,
        fetched_at=time.time(),
    )


def _preorder(
    start: Post, live_children: Callable[[str], list[Post]], visited: set[str]
) -> list[Post]:
    out: list[Post] = []
    stack = [start]
    while stack:
        node = stack.pop()
        if node.id in visited:
            continue
        visited.add(node.id)
        out.append(node)
        stack.extend(reversed(live_children(node.id)))
    return out


def _merge_notes(notes: Iterable[ContentNote]) -> tuple[ContentNote, ...]:
    seen: dict[tuple[str, str, str], ContentNote] = {}
    for n in notes:
        seen.setdefault((n.category, n.origin, n.reason), n)
    return tuple(seen.values())
