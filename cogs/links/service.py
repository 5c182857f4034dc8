"""What moderators do to the index (link, unlink, undo, list), shared by the chat commands
and the command line. Every change is recorded with who and when, and can be undone."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime

from bot.errors import NotFound, UpstreamUnavailable, UsageError, UserError, quoted
from bot.models import LinkKind, Post, Thread
from bot.unroller import Unroller
from cogs.links.apply import LinkApplier, evidence_text
from cogs.links.detect import post_keys
from cogs.links.refs import Ref, RefParser
from cogs.links.repo import Change, LinksRepo, NewLink, StoredLink

KIND_WORDS: dict[str, LinkKind] = {
    "belongs": "belongs_to",
    "belongs_to": "belongs_to",
    "context": "context",
    "continues": "continues",
}
UNDO_HINT = "Undo with: links-undo {id}"


def kind_of(word: str) -> LinkKind:
    kind = KIND_WORDS.get(word.strip().lower())
    if kind is None:
        raise UsageError(f"Unknown link kind {quoted(word)}: use belongs, context or continues.")
    return kind


def when(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M UTC")


class LinkService:
    def __init__(
        self,
        repo: LinksRepo,
        unroller: Unroller,
        refs: RefParser,
        applier: LinkApplier,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.repo = repo
        self.unroller = unroller
        self.refs = refs
        self.applier = applier
        self.clock = clock

    # -- commands --------------------------------------------------------------------------

    async def link(self, actor: str, url: str, kind_word: str, target_url: str) -> str:
        kind = kind_of(kind_word)
        src = self._ref(url, "The first link")
        tgt = self._ref(target_url, "The target")
        thread = await self._thread_of(url)
        if kind == "belongs_to":
            post = await self._post(src, thread)
            if thread is not None:
                inside = set(await self._keys(thread))
            else:
                inside = post_keys(post, self.refs, _alone(post))
            if tgt.key in inside or tgt.url in inside:
                raise UsageError("That post is already in that thread: nothing to move.")
            target_key = await self._known_key(tgt)
            new = NewLink(
                "belongs_to",
                post.id,
                src.url,
                target_key,
                tgt.url,
                moved_post=post,
                from_thread_url=thread.url if thread else None,
            )
            replaces = await self.repo.from_source({post.id, src.key, src.url}, "belongs_to")
            change, _ = await self.repo.set_link(actor, new, self.clock(), replaces=replaces)
            return (
                f"Linked (change #{change.id}): {src.url} belongs to {tgt.url}. Unrolls of "
                f"its thread show it as one line, and the target thread shows it in place. "
                + UNDO_HINT.format(id=change.id)
            )
        source_key, source_url, keys = src.key, src.url, {src.key, src.url}
        if thread is not None:
            source_key, source_url = thread.root_id, self._normal(thread.url)
            keys = set(await self._keys(thread))
            if tgt.key in keys or tgt.url in keys:
                raise UsageError("A thread cannot link to itself.")
        target_key = await self._known_key(tgt)
        new = NewLink(kind, source_key, source_url, target_key, tgt.url)
        replaces = await self.repo.from_source(keys, "continues") if kind == "continues" else []
        change, _ = await self.repo.set_link(actor, new, self.clock(), replaces=replaces)
        what = "has context" if kind == "context" else "continues in"
        return f"Linked (change #{change.id}): {source_url} {what} {tgt.url}. " + UNDO_HINT.format(
            id=change.id
        )

    async def unlink(self, actor: str, url: str, kind_word: str | None = None) -> str:
        kind = kind_of(kind_word) if kind_word else None
        ref = self._ref(url, "The link")
        thread = await self._thread_of(url)
        post_side = {ref.key, ref.url}
        if (alias := await self.repo.post_id_for_url(ref.url)) is not None:
            post_side.add(alias)
        thread_side = set(post_side)
        if thread is not None:
            thread_side |= set(await self._keys(thread))
        found: list[StoredLink] = []
        if kind in (None, "belongs_to"):
            found += await self.repo.from_source(post_side, "belongs_to")
        # Without a kind, a moved post's link is meant; else the thread's own links.
        if kind is not None or not found:
            for k in ("context", "continues"):
                if kind in (None, k):
                    found += await self.repo.from_source(thread_side, k)
        if not found:
            what = f"{kind} link" if kind else "link"
            raise NotFound(f"No active {what} starts from {url}. See: links <thread-url>")
        links = sorted({link.id: link for link in found}.values(), key=lambda x: x.id)
        summary = "unlink " + ", ".join(
            f"#{link.id} {link.kind} {link.source_url} -> {link.target_url}" for link in links
        )
        change = await self.repo.deactivate(actor, links, summary, self.clock())
        n = len(links)
        return (
            f"Removed {n} link{'s' if n != 1 else ''} (change #{change.id}); "
            f"{'they stay' if n != 1 else 'it stays'} removed when the thread is unrolled "
            "again. " + UNDO_HINT.format(id=change.id)
        )

    async def undo(self, actor: str, change_id: int) -> str:
        change = await self.repo.change(change_id)
        if change is None:
            raise NotFound(f"There is no change #{change_id}. See: links <thread-url>")
        if change.undone_by is not None:
            raise UsageError(
                f"Change #{change_id} was already undone (change #{change.undone_by})."
            )
        later = await self.repo.blocking_undo(change)
        if later is not None:
            raise UsageError(
                f"Change #{later.id} ({later.summary}) came after #{change_id} on the same "
                f"link; undo #{later.id} first."
            )
        result = await self.repo.undo(actor, change, self.clock())
        return (
            f"Undid change #{change.id} ({change.summary}) as change #{result.id}. "
            + UNDO_HINT.format(id=result.id)
        )

    async def describe(self, url: str) -> str:
        """Every link of a thread, active or removed, with origin, evidence and changes."""
        ref = self._ref(url, "The link")
        thread = await self._thread_of(url)
        if thread is not None:
            keys = set(await self._keys(thread))
            shown = thread.url
        else:
            keys = {ref.key, ref.url}
            shown = ref.url
        links = await self.repo.touching(keys, active_only=False)
        if not links:
            return f"No links for {shown}."
        changes = await self.repo.changes_for(link.id for link in links)
        lines = [f"Links of {shown}:"]
        for link in links:
            lines.extend(_describe(link, [c for c in changes if _touches(c, link.id)]))
        lines.append("Undo a change with: links-undo <change number>")
        return "\n".join(lines)

    # -- helpers ---------------------------------------------------------------------------

    def _ref(self, url: str, what: str) -> Ref:
        ref = self.refs.parse(url)
        if ref is None:
            raise UsageError(
                f"{what} must be a link to a post (Bluesky, Mastodon or X), not {quoted(url)}."
            )
        return ref

    def _normal(self, url: str) -> str:
        ref = self.refs.parse(url)
        return ref.url if ref else url

    async def _thread_of(self, url: str) -> Thread | None:
        """The thread a link is in, from the cache or fetched, with what its author's
        posts state recorded (so a decision can act on it before anyone unrolled it);
        None for sites we cannot fetch or when the fetch fails."""
        try:
            thread = await self.unroller.base_thread(url)
        except UserError:
            return None
        await self.applier.record(thread)
        return thread

    async def _keys(self, thread: Thread) -> list[str]:
        return list(await self.applier.key_map(thread))

    async def _known_key(self, ref: Ref) -> str:
        """The stable id for a link when the cache knows it, so both spellings match."""
        if ref.key != ref.url:
            return ref.key
        return await self.repo.post_id_for_url(ref.url) or ref.key

    async def _post(self, ref: Ref, thread: Thread | None) -> Post:
        if thread is not None:
            for post in thread.all_posts:
                if {ref.key, ref.url} & post_keys(post, self.refs, thread):
                    return post
        post_id = await self.repo.post_id_for_url(ref.url) or ref.key
        stored = await self.unroller.repo.get_post(post_id)
        if stored is not None:
            return stored
        if thread is not None:
            raise NotFound(f"That post is not in the thread it was fetched with: {ref.url}")
        raise UpstreamUnavailable(
            f"Could not fetch {ref.url}; a moved post's words are kept so its new thread can "
            "show them, so the post must be fetchable once."
        )


def _alone(post: Post) -> Thread:
    return Thread("", post.url, post.id, post.author, (post,))


def _touches(change: Change, link_id: int) -> bool:
    return any(i == link_id for i, _, _ in change.states)


def _describe(link: StoredLink, changes: list[Change]) -> list[str]:
    state = "active" if link.active else "removed"
    head = f"#{link.id} {link.kind} · {link.origin} · {state}"
    if link.kind == "belongs_to" and link.keep_in_place:
        head += " · left in place by the author"
    lines = [head, f"   from {link.source_url}", f"   to   {link.target_url}"]
    evidence = evidence_text(link)
    if evidence:
        lines.append(f"   evidence: {evidence}")
    for c in changes:
        undone = f" (undone by #{c.undone_by})" if c.undone_by is not None else ""
        lines.append(f"   change #{c.id}: {c.action} by {c.actor}, {when(c.at)}{undone}")
    return lines
