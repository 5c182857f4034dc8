"""Build synthetic threads for the fake upstream servers, independent of any one site.

A builder produces plain descriptions (authors, posts with parent keys, text, images with
alt, links, mentions, quotes, labels, deleted or blocked posts). Each fake server turns
them into its own API's shapes: the Bluesky fake into at:// URIs, TIDs, facets and embed
views; a Mastodon fake could turn the same description into statuses and HTML.

    b = ThreadBuilder()
    alice, bob = b.author("alice"), b.author("bob")
    keys = b.chain(alice, 150)                  # a self-thread of 150 posts
    b.reply(bob, keys[3], "nice")                # someone else's reply
    aside = b.reply(alice, keys[5], "aside")     # a side branch by the author
    b.delete(keys[40])                           # deleted inside the chain
    server.add_thread(b.build())
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any


@dataclass(frozen=True)
class SynthAuthor:
    key: str
    handle: str
    name: str
    # Account labels, e.g. "!no-unauthenticated" (Bluesky) or "bot".
    labels: tuple[str, ...] = ()


@dataclass(frozen=True)
class SynthImage:
    alt: str = ""
    kind: str = "image"  # image, video, gif


@dataclass(frozen=True)
class SynthLink:
    shown: str  # the text as it appears in the post (possibly shortened)
    url: str  # the full URL


@dataclass(frozen=True)
class SynthMention:
    shown: str  # e.g. "@bob.example.com"
    author: str  # key of the mentioned author


@dataclass(frozen=True)
class SynthCard:
    url: str
    title: str = ""
    description: str = ""


@dataclass(frozen=True)
class SynthPost:
    key: str
    author: str  # author key
    text: str
    created_at: datetime
    parent: str | None = None  # key of the post it replies to
    root: str | None = None  # key of the conversation's root (None for a root)
    images: tuple[SynthImage, ...] = ()
    # Media shown as a gallery (Bluesky's newer embed) instead of an image list.
    gallery: bool = False
    links: tuple[SynthLink, ...] = ()
    mentions: tuple[SynthMention, ...] = ()
    tags: tuple[str, ...] = ()  # hashtags as written in the text, without "#"
    card: SynthCard | None = None
    quote: str | None = None  # key of the quoted post
    quote_detached: bool = False  # the quoted author removed the quote
    labels: tuple[str, ...] = ()  # the author's own labels on this post
    deleted: bool = False
    blocked: bool = False  # shown to viewers as blocked
    visibility: str = "public"
    spoiler: str = ""  # content warning text (fediverse)


@dataclass(frozen=True)
class SynthThread:
    authors: dict[str, SynthAuthor]
    posts: tuple[SynthPost, ...]  # in creation order

    def post(self, key: str) -> SynthPost:
        for p in self.posts:
            if p.key == key:
                return p
        raise KeyError(key)


@dataclass
class ThreadBuilder:
    start: datetime = field(default_factory=lambda: datetime(2026, 5, 14, 9, 0, tzinfo=UTC))
    step: timedelta = timedelta(seconds=40)
    domain: str = "example.com"
    _authors: dict[str, SynthAuthor] = field(default_factory=dict)
    _posts: dict[str, SynthPost] = field(default_factory=dict)
    _clock: datetime | None = None
    _n: int = 0

    def author(
        self,
        key: str,
        *,
        handle: str | None = None,
        name: str | None = None,
        labels: tuple[str, ...] = (),
    ) -> str:
        self._authors[key] = SynthAuthor(
            key, handle or f"{key}.{self.domain}", name or key.capitalize(), labels
        )
        return key

    def _tick(self, at: datetime | None) -> datetime:
        if at is not None:
            self._clock = at
        else:
            self._clock = self.start if self._clock is None else self._clock + self.step
        return self._clock

    def post(
        self,
        author: str,
        text: str | None = None,
        *,
        parent: str | None = None,
        at: datetime | None = None,
        key: str | None = None,
        **extra: Any,
    ) -> str:
        """Add a post (a root when ``parent`` is None); returns its key."""
        if author not in self._authors:
            self.author(author)
        self._n += 1
        k = key or f"p{self._n}"
        root = None
        if parent is not None:
            par = self._posts[parent]
            root = par.root or par.key
        self._posts[k] = SynthPost(
            key=k,
            author=author,
            text=text if text is not None else f"post {self._n}",
            created_at=self._tick(at),
            parent=parent,
            root=root,
            **extra,
        )
        return k

    def reply(self, author: str, to: str, text: str | None = None, **extra: Any) -> str:
        return self.post(author, text, parent=to, **extra)

    def chain(
        self,
        author: str,
        n: int,
        *,
        after: str | None = None,
        numbered: bool = True,
        text: str = "Part",
    ) -> list[str]:
        """A self-reply chain of ``n`` posts (continuing ``after`` when given)."""
        keys: list[str] = []
        parent = after
        for i in range(1, n + 1):
            body = f"{text} {i}/{n}" if numbered else f"{text} {i}"
            parent = self.post(author, body, parent=parent)
            keys.append(parent)
        return keys

    def update(self, key: str, **changes: Any) -> None:
        self._posts[key] = replace(self._posts[key], **changes)

    def delete(self, key: str) -> None:
        self.update(key, deleted=True)

    def block(self, key: str) -> None:
        self.update(key, blocked=True)

    def build(self) -> SynthThread:
        posts = sorted(self._posts.values(), key=lambda p: p.created_at)
        return SynthThread(dict(self._authors), tuple(posts))
