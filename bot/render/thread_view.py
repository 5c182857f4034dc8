"""Thread -> Messages: a header, then one message per post (moved, hidden and unavailable
posts as one short line), with content-note decisions applied. Platform-free: adapters
format the Messages for their own limits."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from bot.models import ContentNote, Post, Thread
from bot.render.document import Attachment, Block, Inline, Message, para
from bot.render.numbering import author_number
from bot.render.post_count import post_count

Action = Literal["show", "note", "warn", "hide"]

# What stands in for a post that is gone (deleted, or no longer served).
UNAVAILABLE = "[this post is unavailable]"
# A post is shown whole up to what the big platforms' largest hold (X's long posts run to
# 25,000 characters; Mastodon allows 4 attachments, Misskey 16). A misbehaving server's
# bigger post would fill hundreds of chat messages: the rest is left at the original.
MAX_POST_CHARS = 25_000
MAX_MEDIA = 20


@dataclass(frozen=True)
class NoteDecision:
    """How content with these notes is shown in a room."""

    action: Action = "show"
    label: str = ""  # "Content note: mental health, trauma"
    support_line: str | None = None


# Given the notes on some content, decide how to show it (the content-notes feature
# supplies one per room; the default shows everything with a visible note line).
Decide = Callable[[Sequence[ContentNote]], NoteDecision]


def default_decide(notes: Sequence[ContentNote]) -> NoteDecision:
    if not notes:
        return NoteDecision()
    reasons = []
    for n in notes:
        label = n.reason if n.category == "other" else n.category.replace("-", " ")
        if label and label not in reasons:
            reasons.append(label)
    return NoteDecision("note", "Content note: " + ", ".join(reasons))


def _paragraphs(text: str) -> list[Block]:
    blocks = []
    for chunk in text.split("\n\n"):
        chunk = chunk.strip("\n")
        if chunk.strip():
            blocks.append(para(chunk))
    return blocks


def _post_blocks(post: Post) -> tuple[list[Block], list[Attachment]]:
    cut = len(post.text) > MAX_POST_CHARS
    blocks = _paragraphs(post.text[:MAX_POST_CHARS].rstrip() + " …" if cut else post.text)
    if cut:
        blocks.append(Block("media", (Inline("[the post goes on] "), Inline(post.url, post.url))))
    attachments = []
    for m in post.media[:MAX_MEDIA]:
        alt = m.alt.strip() or "no alt text"
        blocks.append(Block("media", (Inline(f"[{m.type}: {alt}] "), Inline(m.url, m.url))))
        attachments.append(Attachment(m.url, m.alt, m.type))
    if len(post.media) > MAX_MEDIA:
        more = Inline(f"[{len(post.media) - MAX_MEDIA} more attachments] ")
        blocks.append(Block("media", (more, Inline(post.url, post.url))))
    if post.card is not None:
        title = post.card.title or post.card.url
        blocks.append(Block("quote", (Inline("🔗 "), Inline(title, post.card.url))))
    if post.quote is not None:
        q = post.quote
        who = f"@{q.author}: " if q.author else ""
        body = q.hidden_reason or q.text or "quoted post unavailable"
        inlines = [Inline(f"Quoting {who}{body}")]
        if q.url and not q.hidden_reason:
            inlines += [Inline(" "), Inline(q.url, q.url)]
        blocks.append(Block("quote", tuple(inlines)))
    return blocks, attachments


def _note_block(decision: NoteDecision) -> tuple[Block, ...]:
    out = []
    if decision.label:
        out.append(Block("note", (Inline(decision.label),)))
    if decision.support_line:
        out.append(Block("note", (Inline(decision.support_line),)))
    return tuple(out)


def _shielded(decision: NoteDecision) -> bool:
    return decision.action in ("warn", "hide")


def post_message(
    post: Post,
    label: str,
    notes: Sequence[ContentNote],
    decide: Decide,
    mark: str = "",
    *,
    thread_wide: Sequence[ContentNote] = (),
    numbered_by_author: bool = False,
) -> Message:
    """One post as a message: numbering label, content-note decision, marks.

    ``thread_wide`` are the notes the header already shows for every post: the post is
    still shielded by them, but its own note line names only what it adds. A post the
    author numbered needs no ``label`` unless its text (and number) is hidden."""
    if post.status == "unavailable":
        return Message((para(f"{label}{UNAVAILABLE}".strip()),), post_id=post.id)
    if post.status == "moved_out" and mark:
        return Message((para(f"↪ {mark}"),), kind="notice", post_id=post.id)
    decision = decide(notes)
    wide = {n.category for n in thread_wide}
    own = [n for n in notes if n.category not in wide]
    own_decision = decide(own) if own else NoteDecision()
    shown = own_decision if own_decision.action != "show" else NoteDecision()
    preface = _note_block(shown)
    reason = shown.label or decision.label or "content note"
    if numbered_by_author and not _shielded(decision):
        label = ""
    head = [Block("heading", (Inline(label.strip(), style="bold"),))] if label.strip() else []
    if mark:
        head.append(Block("para", (Inline(mark, style="italic"),)))
    if decision.action == "hide":
        # The note is right above (its own line, or the thread's in the header).
        hidden = Inline("Hidden by the content note above: ")
        blocks = (Block("para", (hidden, Inline(post.url, post.url))),)
        return Message(
            blocks, kind="notice", post_id=post.id, preface=(*head, *preface), previews=False
        )
    body, attachments = _post_blocks(post)
    if decision.action == "warn":
        # The number and mark stay readable outside the spoiler: which post is hidden.
        return Message(
            tuple(body),
            spoiler=reason,
            preface=(*head, *preface),
            attachments=tuple(attachments),
            post_id=post.id,
            reason_shown=True,
            previews=False,
        )
    return Message(
        tuple(head + body) if not preface else tuple(body),
        # A note line goes under the number, as on a warned post.
        preface=(*head, *preface) if preface else (),
        attachments=tuple(attachments),
        post_id=post.id,
    )


def header_message(thread: Thread, decide: Decide) -> Message:
    a = thread.author
    who = f"{a.name} (@{a.handle})" if a.name and a.name != a.handle else f"@{a.handle}"
    count = post_count(thread)
    blocks: list[Block] = [
        Block("heading", (Inline(f"🧵 Thread by {who} · {count}", style="bold"),)),
        Block("para", (Inline("Original: "), Inline(thread.url, thread.url))),
    ]
    decision = decide(thread.content_notes)
    blocks.extend(_note_block(decision) if decision.action != "show" else ())
    contexts = [link.target_url or link.target for link in thread.links if link.kind == "context"]
    for url in contexts:
        blocks.append(Block("para", (Inline("Context: "), Inline(url, url))))
    if contexts:
        hint = Inline("To read a context thread here, unroll its link.", style="italic")
        blocks.append(Block("para", (hint,)))
    for notice in thread.notices:
        blocks.append(Block("note", (Inline(notice),)))
    if thread.truncated:
        cut = f"Cut after {count} (the configured maximum)."
        blocks.append(Block("note", (Inline(cut),)))
    return Message(tuple(blocks), kind="header", previews=not _shielded(decision))


def effective_notes(thread: Thread, post: Post) -> list[ContentNote]:
    """The notes that apply to a post: its own and the moderators' warnings on the
    thread."""
    per_post = dict(thread.post_notes).get(post.id, ())
    thread_wide = [n for n in thread.content_notes if n.origin == "moderator"]
    merged: list[ContentNote] = []
    for n in (*thread_wide, *per_post):
        if n not in merged:
            merged.append(n)
    return merged


def thread_wide_notes(thread: Thread) -> list[ContentNote]:
    """Notes the header shows for the whole thread: moderators' warnings on it, and any
    category every post carries (an author who warns on each post, a thread about one
    topic)."""
    wide = [n for n in thread.content_notes if n.origin == "moderator"]
    readable = [p for p in thread.all_posts if p.status in ("ok", "moved_in")]
    if not readable:
        return wide
    notes_of = dict(thread.post_notes)
    common: set[str] | None = None
    for post in readable:
        cats = {n.category for n in notes_of.get(post.id, ())}
        common = cats if common is None else common & cats
    have = {n.category for n in wide}
    for n in thread.content_notes:
        if n.category in (common or set()) and n.category not in have:
            wide.append(n)
            have.add(n.category)
    return wide


def thread_messages(
    thread: Thread, decide: Decide = default_decide, *, continuation_depth: int = 0
) -> list[Message]:
    """The header, then the posts (asides after the post they reply to), then a followed
    continuation after a separator."""
    marks = dict(thread.marks)
    total = post_count(thread).posts
    wide = thread_wide_notes(thread)
    asides_after: dict[str, list[Post]] = {}
    for aside in thread.asides:
        asides_after.setdefault(aside.after, []).extend(aside.posts)
    out = [header_message(thread, decide)]
    index = 0
    for post in thread.posts:
        label = ""
        if post.status != "moved_out":
            index += 1
            label = f"{index}/{total} "
        out.append(
            post_message(
                post,
                label,
                effective_notes(thread, post),
                decide,
                marks.get(post.id, ""),
                thread_wide=wide,
                numbered_by_author=author_number(post.text, index, total) is not None,
            )
        )
        for aside_post in asides_after.get(post.id, ()):
            out.append(
                post_message(
                    aside_post,
                    f"↳ aside to {index}/{total} ",
                    effective_notes(thread, aside_post),
                    decide,
                    marks.get(aside_post.id, ""),
                    thread_wide=wide,
                )
            )
    if thread.continuation is not None and continuation_depth < 20:
        out.append(
            Message((Block("separator"), para("Continued in the next thread:")), kind="notice")
        )
        out.extend(
            thread_messages(thread.continuation, decide, continuation_depth=continuation_depth + 1)
        )
    return out
