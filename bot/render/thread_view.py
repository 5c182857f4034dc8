"""Thread -> Messages: a header, then one message per post (moved, hidden and unavailable
posts as one short line), with content-note decisions applied. Platform-free: adapters
format the Messages for their own limits."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from bot.models import ContentNote, Post, Thread
from bot.render.document import Attachment, Block, Inline, Message, para

Action = Literal["show", "note", "warn", "hide"]


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
    blocks = _paragraphs(post.text)
    attachments = []
    for m in post.media:
        alt = m.alt.strip() or "no alt text"
        blocks.append(Block("media", (Inline(f"[{m.type}: {alt}] "), Inline(m.url, m.url))))
        attachments.append(Attachment(m.url, m.alt, m.type))
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


def post_message(
    post: Post, label: str, notes: Sequence[ContentNote], decide: Decide, mark: str = ""
) -> Message:
    """One post as a message: numbering label, content-note decision, marks."""
    if post.status == "unavailable":
        return Message((para(f"{label}[this post is unavailable]".strip()),), post_id=post.id)
    if post.status == "moved_out" and mark:
        return Message((para(f"↪ {mark}"),), kind="notice", post_id=post.id)
    decision = decide(notes)
    head = [Block("heading", (Inline(label.strip(), style="bold"),))] if label.strip() else []
    if mark:
        head.append(Block("para", (Inline(mark, style="italic"),)))
    if decision.action == "hide":
        blocks = (
            *head,
            para(f"Hidden ({decision.label or 'content note'}): "),
            Block("para", (Inline(post.url, post.url),)),
        )
        return Message(blocks, kind="notice", post_id=post.id, preface=_note_block(decision))
    body, attachments = _post_blocks(post)
    if decision.action == "warn":
        return Message(
            tuple(head + body),
            spoiler=decision.label or "content warning",
            preface=_note_block(decision),
            attachments=tuple(attachments),
            post_id=post.id,
        )
    preface = _note_block(decision) if decision.action == "note" else ()
    return Message(
        tuple(head + body), preface=preface, attachments=tuple(attachments), post_id=post.id
    )


def header_message(thread: Thread, decide: Decide, count: int | None = None) -> Message:
    a = thread.author
    who = f"{a.name} (@{a.handle})" if a.name and a.name != a.handle else f"@{a.handle}"
    n = count if count is not None else thread.shown_count
    blocks: list[Block] = [
        Block(
            "heading",
            (Inline(f"🧵 Thread by {who} · {n} post{'s' if n != 1 else ''}", style="bold"),),
        ),
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
        blocks.append(Block("note", (Inline(f"Cut after {n} posts (the configured maximum)."),)))
    return Message(tuple(blocks), kind="header")


def _effective_notes(thread: Thread, post: Post) -> list[ContentNote]:
    per_post = dict(thread.post_notes).get(post.id, ())
    thread_wide = [n for n in thread.content_notes if n.origin == "moderator"]
    merged: list[ContentNote] = []
    for n in (*thread_wide, *per_post):
        if n not in merged:
            merged.append(n)
    return merged


def thread_messages(
    thread: Thread, decide: Decide = default_decide, *, continuation_depth: int = 0
) -> list[Message]:
    """The header, then the posts (asides after the post they reply to), then a followed
    continuation after a separator."""
    marks = dict(thread.marks)
    numbered = [p for p in thread.posts if p.status != "moved_out"]
    total = len(numbered)
    asides_after: dict[str, list[Post]] = {}
    for aside in thread.asides:
        asides_after.setdefault(aside.after, []).extend(aside.posts)
    out = [header_message(thread, decide)]
    index = 0
    for post in thread.posts:
        if post.status == "moved_out":
            label = ""
        else:
            index += 1
            label = f"{index}/{total} "
        out.append(
            post_message(
                post, label, _effective_notes(thread, post), decide, marks.get(post.id, "")
            )
        )
        for aside_post in asides_after.get(post.id, ()):
            out.append(
                post_message(
                    aside_post,
                    f"↳ aside to {index}/{total} ",
                    _effective_notes(thread, aside_post),
                    decide,
                    marks.get(aside_post.id, ""),
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
