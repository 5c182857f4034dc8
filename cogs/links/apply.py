"""The unroll processor: records what the author's posts state, then applies every active
link touching the thread (moves out and in, context in the header, the continuation
followed after a separator)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace

from bot.errors import UserError
from bot.models import Aside, Post, Thread, ThreadLink
from bot.render.post_count import post_count
from bot.unroller import Unroller, UnrollRequest
from cogs.links.detect import Detected, detect, post_keys
from cogs.links.phrases import PhraseList
from cogs.links.refs import RefParser
from cogs.links.repo import LinksRepo, NewLink, StoredLink

log = logging.getLogger(__name__)

# Continuations followed in one unroll at most (chains longer than this end in a line).
MAX_CHAIN = 20


def evidence_text(link: StoredLink) -> str:
    if link.evidence:
        return "; ".join(f"“{phrase}” in {post}" for post, phrase in link.evidence)
    return f"set by {link.created_by}" if link.origin == "moderator" else ""


def new_link(found: Detected, thread: Thread) -> NewLink:
    return NewLink(
        kind=found.kind,
        source_key=found.source.key,
        source_url=found.source.url,
        target_key=found.target.key,
        target_url=found.target.url,
        keep_in_place=found.keep,
        moved_post=found.moved_post,
        from_thread_url=thread.url if found.kind == "belongs_to" else None,
        evidence=tuple((e.post_url, e.phrase) for e in found.evidence),
    )


def winners(links: Iterable[StoredLink]) -> list[StoredLink]:
    """One link per moved post and one continuation per thread: a moderator's link beats
    detection (the latest moderator decision wins), else the first one found."""
    out: list[StoredLink] = []
    best: dict[tuple[str, str], StoredLink] = {}
    for link in links:
        if not link.active:
            continue
        if link.kind == "context":
            out.append(link)
            continue
        slot = (link.kind, link.source_key)
        held = best.get(slot)
        if held is None or _beats(link, held):
            best[slot] = link
    return sorted(out + list(best.values()), key=lambda x: x.id)


def _beats(a: StoredLink, b: StoredLink) -> bool:
    if (a.origin == "moderator") != (b.origin == "moderator"):
        return a.origin == "moderator"
    if a.origin == "moderator":
        return a.changed_at > b.changed_at or (a.changed_at == b.changed_at and a.id > b.id)
    return a.id < b.id


def shown_count(thread: Thread) -> int:
    return post_count(thread).total


def _moved_out(post: Post, post_id: str) -> Post:
    return replace(post, status="moved_out") if post.id == post_id else post


def apply_links(thread: Thread, links: Sequence[StoredLink], key_to_post: dict[str, str]) -> Thread:
    """The thread with these (winning, active) links applied. Pure."""
    marks = dict(thread.marks)
    notes = dict(thread.post_notes)
    posts = list(thread.posts)
    asides = list(thread.asides)
    own = {p.id for p in thread.all_posts}
    shown: list[ThreadLink] = []
    incoming: dict[str, list[Post]] = {}
    at_end: list[Post] = []
    for link in links:
        source_post = key_to_post.get(link.source_key) or key_to_post.get(link.source_url)
        target_post = key_to_post.get(link.target_key) or key_to_post.get(link.target_url)
        tl = ThreadLink(
            link.kind,
            link.source_key,
            link.target_url,
            link.origin,
            evidence_text(link),
            link.target_url,
        )
        if link.kind == "belongs_to" and source_post is not None:
            if target_post is not None:
                continue  # both ends here: nothing to move
            shown.append(tl)
            if link.keep_in_place:
                marks[source_post] = f"belongs to {link.target_url}; left here by the author"
            else:
                out_id = source_post
                posts = [replace(p, status="moved_out") if p.id == out_id else p for p in posts]
                asides = [
                    Aside(a.after, tuple(_moved_out(p, out_id) for p in a.posts)) for a in asides
                ]
                marks[source_post] = f"moved to {link.target_url}"
        elif link.kind == "belongs_to" and target_post is not None:
            moved = link.moved_post
            if moved is None or moved.id in own:
                continue
            shown.append(tl)
            moved = replace(moved, status="moved_in")
            marks[moved.id] = f"moved in from {link.from_thread_url or link.source_url}"
            if moved.content_notes:  # the author's own warnings travel with the post
                notes[moved.id] = moved.content_notes
            if target_post == thread.root_id and len(thread.posts) > 1:
                at_end.append(moved)  # a link to the thread's first post names the thread
            else:
                incoming.setdefault(target_post, []).append(moved)
        elif link.kind == "context":
            if source_post is not None and target_post is None:
                shown.append(tl)  # a thread that is context for others says nothing of it
        elif (source_post is None) != (target_post is None):
            shown.append(tl)  # continues, either way
    if incoming or at_end:
        placed: list[Post] = []
        for p in posts:
            placed.append(p)
            placed.extend(sorted(incoming.pop(p.id, ()), key=lambda m: m.sort_key))
        # Targets that are asides: the end of the thread.
        leftovers = [m for ms in incoming.values() for m in ms] + at_end
        placed.extend(sorted(leftovers, key=lambda m: m.sort_key))
        posts = placed
    return replace(
        thread,
        posts=tuple(posts),
        asides=tuple(asides),
        links=(*thread.links, *shown),
        marks=tuple(marks.items()),
        post_notes=tuple(notes.items()),
    )


def trim_chain(thread: Thread, budget: int) -> Thread:
    """Cut a chain of continuations so all of it shows at most ``budget`` posts."""
    cont = thread.continuation
    if cont is None:
        return thread
    left = budget - shown_count(thread)
    if left <= 0:
        note = f"Continued in {cont.url} (not shown: the maximum of posts was reached)."
        return replace(thread, continuation=None, notices=(*thread.notices, note))
    if shown_count(cont) > left:
        cut = replace(cont, posts=cont.posts[:left], asides=(), truncated=True, continuation=None)
        return replace(thread, continuation=cut)
    return replace(thread, continuation=trim_chain(cont, left))


class LinkApplier:
    def __init__(
        self,
        repo: LinksRepo,
        unroller: Unroller,
        refs: RefParser,
        *,
        phrases: dict[str, PhraseList] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.repo = repo
        self.unroller = unroller
        self.refs = refs
        self.phrases = phrases
        self.clock = clock

    async def __call__(self, thread: Thread, request: UnrollRequest) -> Thread:
        try:
            await self.record(thread)
        except Exception:  # detection must never cost the reader their unroll
            log.exception("link detection failed for %s", thread.url)
        key_to_post = await self.key_map(thread)
        links = winners(await self._complete(await self.repo.touching(key_to_post)))
        links = await self._current_moved_posts(links, key_to_post)
        thread = apply_links(thread, links, key_to_post)
        onward = [
            link
            for link in links
            if link.kind == "continues"
            and (key_to_post.get(link.source_key) or key_to_post.get(link.source_url))
            and not (key_to_post.get(link.target_key) or key_to_post.get(link.target_url))
        ]
        if onward:
            # Several posts of the thread may each state one; a moderator's wins.
            best = onward[0]
            for link in onward[1:]:
                if _beats(link, best):
                    best = link
            thread = await self._follow(thread, best.target_url, request)
        return thread

    async def record(self, thread: Thread) -> list[int]:
        """Store what the author's posts state (links seen before keep their state)."""
        found = detect(thread, self.refs, self.phrases)
        confirmed = [d for d in found if not d.needs_last_post or await self._confirmed(d)]
        if not confirmed:
            return []
        return await self.repo.record_detected(
            [new_link(d, thread) for d in confirmed], self.clock()
        )

    async def key_map(self, thread: Thread) -> dict[str, str]:
        """Every key that names a post of the thread -> that post's id."""
        out: dict[str, str] = {}
        for post in thread.all_posts:
            for key in post_keys(post, self.refs, thread):
                out[key] = post.id
        out[thread.root_id] = thread.root_id
        for url, post_id in (await self.repo.alias_map(p.id for p in thread.all_posts)).items():
            out.setdefault(url, post_id)
        return out

    async def _current_moved_posts(
        self, links: list[StoredLink], key_to_post: dict[str, str]
    ) -> list[StoredLink]:
        """Moved-in posts as the cache last saw them: edits show, and a post since deleted
        (or made unavailable) is not brought back from the index's copy."""
        out: list[StoredLink] = []
        for link in links:
            moved = link.moved_post
            incoming = link.kind == "belongs_to" and moved is not None
            if incoming and (key_to_post.get(link.target_key) or key_to_post.get(link.target_url)):
                assert moved is not None
                current = await self.unroller.repo.get_post(moved.id)
                if current is not None and current.status == "unavailable":
                    continue
                if current is not None:
                    link = replace(link, moved_post=current)
            out.append(link)
        return out

    async def _complete(self, links: list[StoredLink]) -> list[StoredLink]:
        """Add the other links of the same moved posts, so a moderator's move elsewhere
        beats an automatic one to here."""
        sources = {link.source_key for link in links if link.kind in ("belongs_to", "continues")}
        if not sources:
            return links
        more = await self.repo.from_source(sources)
        seen = {link.id for link in links}
        return links + [link for link in more if link.id not in seen]

    async def _confirmed(self, found: Detected) -> bool:
        """A quote continuation holds when the index has it already (no fetch on every
        unroll), or when the quoted post is the last of its own thread."""
        if await self.repo.find(found.kind, found.source.key, found.target.key) is not None:
            return True
        return await self._ends_thread(found)

    async def _ends_thread(self, found: Detected) -> bool:
        """Whether the quoted post is the last post of its own thread."""
        try:
            base = await self.unroller.base_thread(found.source.url)
        except UserError:
            return False
        except Exception:
            log.exception("checking quoted post %s failed", found.source.url)
            return False
        return bool(base.posts) and base.posts[-1].id == found.source.key

    async def _follow(self, thread: Thread, url: str, request: UnrollRequest) -> Thread:
        chain = (*request.chain, thread.root_id)
        try:
            if len(chain) > MAX_CHAIN:
                return _with_notice(thread, f"Continued in {url} (too many threads in a row).")
            base = await self.unroller.base_thread(url)
            if base.root_id in chain:
                return _with_notice(thread, f"Continues in {url}, shown above.")
            cont = await self.unroller.unroll(url, scope=request.scope, chain=chain)
        except UserError as exc:
            return _with_notice(thread, f"Continued in {url}; it could not be unrolled: {exc}")
        except Exception:
            log.exception("following the continuation %s of %s failed", url, thread.url)
            return _with_notice(thread, f"Continued in {url}; it could not be unrolled.")
        return trim_chain(replace(thread, continuation=cont), self.unroller.max_posts)


def _with_notice(thread: Thread, notice: str) -> Thread:
    return replace(thread, notices=(*thread.notices, notice))
