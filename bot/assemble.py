"""Thread assembly: from the posts a source found to the Thread we show.

The thread is the author's self-reply chain containing the linked post, from its first
post. The main line is the chain with the most readable self-replies (ties: the one through
fewer placeholders, then the earliest); shorter branches are kept as asides after the post
they reply to. Deleted or unavailable posts keep their place as placeholders, but a reply
to someone else's unreadable post starts its own thread. Sources only find posts; every
rule lives here, once.
"""

from __future__ import annotations

import dataclasses
import time
from collections import defaultdict
from collections.abc import Callable, Iterable

from bot.errors import NotFound, Refused
from bot.models import Aside, Author, ContentNote, FetchedPosts, Post, Thread

SHOWN_VISIBILITY = frozenset({"public", "unlisted"})
DEAD = (0, 0)  # the weight of a subtree without a real post


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
    parent is missing and not reported) a placeholder parent at their place in time.

    A missing parent is guessed to be the author's only where the source says the post
    sits in a conversation the author started (its root is another post by the author);
    a reply whose parent the source could not read and did not report may be a reply to
    anyone, so it starts its own thread. Sources that know who wrote an unreadable parent
    report it as a placeholder under that author.
    """
    posts: dict[str, Post] = {}
    for pid, p in fetched.posts.items():
        if p.status == "ok" and p.visibility not in SHOWN_VISIBILITY:
            p = _placeholder(p.id, p.parent_id, p.author, p.created_at)
        posts[pid] = p

    def by_author(p: Post) -> bool:
        return p.author.id == author.id and p.status == "ok"

    for p in sorted((p for p in posts.values() if by_author(p)), key=lambda p: p.sort_key):
        if p.parent_id is None or p.parent_id in posts:
            continue
        root = posts.get(p.root_id or "")
        if root is None or root.id == p.id or not by_author(root):
            continue  # a reply to someone we cannot see: not part of this self-thread
        posts[p.parent_id] = _placeholder(p.parent_id, None, author, p.created_at)
    # The author's placeholders without a known parent: the gap continued the latest
    # earlier post of the author in this conversation (never one of its own replies).
    kids: dict[str, list[Post]] = defaultdict(list)
    for p in posts.values():
        if p.parent_id is not None:
            kids[p.parent_id].append(p)
    for pid, p in list(posts.items()):
        if p.status != "unavailable" or p.parent_id is not None or p.author.id != author.id:
            continue
        below = _descendants(pid, kids)
        own = [c for c in kids.get(pid, ()) if c.author.id == author.id]
        root = posts.get(next((c.root_id for c in own if c.root_id), None) or "")
        if root is None or root.id in below or not by_author(root):
            continue
        first_child = min((c.sort_key for c in own), default=p.sort_key)
        earlier = [
            q
            for q in posts.values()
            if by_author(q) and q.id not in below and q.sort_key < first_child
        ]
        parent = max(earlier, key=lambda q: q.sort_key) if earlier else root
        posts[pid] = dataclasses.replace(p, parent_id=parent.id)
        kids[parent.id].append(posts[pid])
    return posts


def _descendants(post_id: str, kids: dict[str, list[Post]]) -> set[str]:
    """The post and everything below it (any depth, cycles cut)."""
    found = {post_id}
    stack = [post_id]
    while stack:
        for c in kids.get(stack.pop(), ()):
            if c.id not in found:
                found.add(c.id)
                stack.append(c.id)
    return found


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
        if p.author.id != author.id:
            continue  # others' replies (read or not) are never part of the thread
        children[p.parent_id].append(p)
    for kids in children.values():
        kids.sort(key=lambda p: p.sort_key)

    # Weight of each subtree's best chain: its real posts first; between chains with as
    # many, the one through fewer placeholders (a placeholder's place may be a guess, so
    # it never makes a branch win); a chain of placeholders only is dead. Iterative:
    # threads can be long.
    height: dict[str, tuple[int, int]] = {}
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
        real, gaps = max((height.get(c.id, DEAD) for c in children.get(node.id, ())), default=DEAD)
        if node.status == "ok":
            height[node.id] = (real + 1, gaps)
        else:
            height[node.id] = (real, gaps - 1) if real > 0 else DEAD

    def live_children(node_id: str) -> list[Post]:
        return [c for c in children.get(node_id, ()) if height.get(c.id, DEAD)[0] > 0]

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
