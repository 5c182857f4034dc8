"""Finding thread links in the author's own words: pure, over one assembled Thread.

Conservative by design: a link becomes a thread link only when a cue phrase says what it
is, only links to posts count (never articles), only the author's own posts are read, and
only links that may name the author's own posts are taken. Each finding carries its
evidence (the post and the phrase) so a moderator can see why.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from bot.models import LinkKind, Post, Thread
from cogs.links.phrases import PhraseList, normalise, shipped
from cogs.links.refs import Ref, RefParser, same_author

QUOTE_EVIDENCE = "quotes the author's own earlier post"
# How many of the author's first (last) posts may say where a thread comes from (goes).
EDGE = 2


@dataclass(frozen=True)
class Evidence:
    post_url: str
    phrase: str


@dataclass(frozen=True)
class Detected:
    kind: LinkKind
    source: Ref  # the moved post (belongs_to) or the thread the link starts from
    target: Ref
    evidence: tuple[Evidence, ...]
    keep: bool = False  # belongs_to: the author left the post where it is
    moved_post: Post | None = None  # belongs_to: the post that moves
    # continues found from a quote: holds only if the quoted post ends its thread.
    needs_last_post: bool = False


def thread_ref(thread: Thread, refs: RefParser) -> Ref:
    parsed = refs.parse(thread.url, thread.author)
    return Ref(parsed.url if parsed else thread.url, thread.root_id, None)


def post_ref(post: Post, refs: RefParser, thread: Thread) -> Ref:
    parsed = refs.parse(post.url, thread.author)
    return Ref(parsed.url if parsed else post.url, post.id, None)


def post_keys(post: Post, refs: RefParser, thread: Thread) -> set[str]:
    """Every key that names this post: its id, its link, the link's normal form."""
    keys = {post.id, post.url}
    parsed = refs.parse(post.url, thread.author)
    if parsed is not None:
        keys.update((parsed.url, parsed.key))
    return keys


def thread_keys(thread: Thread, refs: RefParser) -> set[str]:
    """Every key that names a post of this thread."""
    keys = {thread.root_id}
    for post in thread.all_posts:
        keys |= post_keys(post, refs, thread)
    return keys


class _Reader:
    def __init__(self, thread: Thread, refs: RefParser, phrases: dict[str, PhraseList]) -> None:
        self.thread = thread
        self.refs = refs
        self.phrases = phrases
        self.own = [
            p
            for p in _in_order(thread)
            if p.author.id == thread.author.id and p.status not in ("unavailable",)
        ]
        self.by_id = {p.id: p for p in self.own}
        self.at = {p.id: i for i, p in enumerate(self.own)}
        self.inside = thread_keys(thread, refs)
        self.text = {p.id: normalise(p.text) for p in self.own}

    def cue(self, role: str, post: Post) -> str | None:
        return self.phrases[role].first(self.text[post.id])

    def post_links(self, post: Post) -> list[Ref]:
        """Links to other posts that may be the author's own, outside this thread."""
        out: list[Ref] = []
        for url in post.links:
            ref = self.refs.parse(url, self.thread.author)
            if ref is None or ref.key in self.inside or ref.url in self.inside:
                continue
            if not same_author(ref, self.thread.author):
                continue
            if all(r.key != ref.key for r in out):
                out.append(ref)
        return out

    def parent_of(self, post: Post) -> Post | None:
        if post.parent_id is not None:
            # A reply to someone else's post names no post of the author's: no guess.
            return self.by_id.get(post.parent_id)
        at = self.at[post.id]
        return self.own[at - 1] if at > 0 else None

    def following(self, post: Post) -> Post | None:
        for p in self.own:
            if p.parent_id == post.id:
                return p
        at = self.at[post.id]
        return self.own[at + 1] if at + 1 < len(self.own) else None


def _in_order(thread: Thread) -> list[Post]:
    """Main-line posts with each aside right after the post it follows."""
    after: dict[str, list[Post]] = {}
    for aside in thread.asides:
        after.setdefault(aside.after, []).extend(aside.posts)
    out: list[Post] = []
    for post in thread.posts:
        out.append(post)
        out.extend(after.get(post.id, ()))
    return out


def detect(
    thread: Thread, refs: RefParser, phrases: dict[str, PhraseList] | None = None
) -> list[Detected]:
    """Every thread link the author's own posts state, in thread order."""
    r = _Reader(thread, refs, phrases or shipped())
    here = thread_ref(thread, refs)
    found: list[Detected] = []
    used: set[str] = set()  # posts already read as part of a move
    for post in r.own:
        if post.id in used:
            continue
        move = _move(r, post)
        if move is not None:
            detected, consumed = move
            found.append(detected)
            used.update(consumed)
            continue
        found.extend(_thread_links(r, post, here))
    found.extend(_quote_continuation(r, here))
    return _unique(found)


def _move(r: _Reader, note: Post) -> tuple[Detected, set[str]] | None:
    """A note that names a move: which post moves (by structure), where (a link in the
    note, or in the author's next post that says "this is where it belonged <link>")."""
    phrase = r.cue("move", note)
    if phrase is None:
        return None
    evidence = [Evidence(note.url, phrase)]
    subject: Post | None = None
    if (ref_phrase := r.cue("ref_parent", note)) is not None:
        subject = r.parent_of(note)
    elif (ref_phrase := r.cue("ref_self", note)) is not None:
        subject = note
    if subject is None or ref_phrase is None:
        return None  # no way to tell which post: say nothing
    evidence.append(Evidence(note.url, ref_phrase))
    consumed = {note.id}
    targets = r.post_links(note)
    keep = r.cue("keep", note)
    if not targets:
        pair = r.following(note)
        target_phrase = r.cue("move_target", pair) if pair is not None else None
        if pair is None or target_phrase is None or pair.id == subject.id:
            return None
        targets = r.post_links(pair)
        if not targets:
            return None
        evidence.append(Evidence(pair.url, target_phrase))
        consumed.add(pair.id)
        keep = keep or r.cue("keep", pair)
    if keep is not None:
        evidence.append(Evidence(note.url, keep))
    detected = Detected(
        "belongs_to",
        post_ref(subject, r.refs, r.thread),
        targets[0],
        tuple(evidence),
        keep=keep is not None,
        moved_post=subject,
    )
    return detected, consumed


def _thread_links(r: _Reader, post: Post, here: Ref) -> Iterable[Detected]:
    links = r.post_links(post)
    if not links:
        return []
    at = r.at[post.id]
    # A thread says where it came from near its start and where it goes near its end
    # ("part 2" in the middle of a long thread is its own numbering).
    if at < EDGE and (phrase := r.cue("continued_from", post)) is not None:
        ev = (Evidence(post.url, phrase),)
        return [Detected("continues", link, here, ev) for link in links[:1]]
    if at >= len(r.own) - EDGE and (phrase := r.cue("continues", post)) is not None:
        ev = (Evidence(post.url, phrase),)
        return [Detected("continues", here, link, ev) for link in links[:1]]
    if (phrase := r.cue("context", post)) is not None:
        ev = (Evidence(post.url, phrase),)
        return [Detected("context", here, link, ev) for link in links]
    return []


def _quote_continuation(r: _Reader, here: Ref) -> list[Detected]:
    """A thread that opens by quoting the author's own post continues that post's thread
    (confirmed later: the quoted post must be the last of its thread)."""
    if not r.thread.posts:
        return []
    first = r.thread.posts[0]
    q = first.quote
    if first.id not in r.by_id or q is None or not q.url or q.hidden_reason:
        return []
    if q.author.lower() != r.thread.author.handle.lower():
        return []
    ref = r.refs.parse(q.url, r.thread.author)
    if ref is None or ref.key in r.inside or not same_author(ref, r.thread.author):
        return []
    ev = (Evidence(first.url, QUOTE_EVIDENCE),)
    return [Detected("continues", ref, here, ev, needs_last_post=True)]


def _unique(found: list[Detected]) -> list[Detected]:
    seen: set[tuple[str, str, str]] = set()
    out: list[Detected] = []
    for d in found:
        k = (d.kind, d.source.key, d.target.key)
        if k not in seen:
            seen.add(k)
            out.append(d)
    return out
