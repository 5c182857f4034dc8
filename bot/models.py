"""Neutral models shared by every layer.

Identity is the source's own stable id: an ``at://`` URI for Bluesky, the ActivityPub
``uri`` for fediverse posts, ``x:<snowflake>`` for X. Models are frozen so a thread can be
cached and shared between rooms without copies.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

PostStatus = Literal["ok", "unavailable", "moved_out", "moved_in"]
NoteOrigin = Literal["auto", "author", "moderator"]
LinkKind = Literal["belongs_to", "context", "continues"]
LinkOrigin = Literal["auto", "moderator"]


@dataclass(frozen=True)
class Author:
    id: str  # DID, ActivityPub actor uri, or x:<user id>
    handle: str
    name: str
    url: str
    labels: tuple[str, ...] = ()


@dataclass(frozen=True)
class Media:
    type: str  # image, video, gif, audio, unknown
    url: str
    alt: str = ""
    thumbnail: str | None = None


@dataclass(frozen=True)
class LinkCard:
    url: str
    title: str = ""
    description: str = ""


@dataclass(frozen=True)
class Quote:
    url: str
    author: str  # handle of the quoted author ("" when unknown)
    text: str
    # Set when the quote must not be shown: the reason replaces the text.
    hidden_reason: str | None = None


@dataclass(frozen=True)
class ContentNote:
    category: str  # suicide, self-harm, ..., other
    origin: NoteOrigin
    reason: str


@dataclass(frozen=True)
class Post:
    id: str
    url: str
    author: Author
    created_at: str  # ISO 8601, UTC
    text: str  # plain text, links expanded to full URLs, line breaks kept
    parent_id: str | None = None
    root_id: str | None = None  # the conversation's root, when the source knows it
    media: tuple[Media, ...] = ()
    card: LinkCard | None = None
    quote: Quote | None = None
    # Full URLs of the links in the text and the card, in order (feeds link detection).
    links: tuple[str, ...] = ()
    # The author's own warnings (Mastodon CW, Bluesky self-labels): origin "author".
    content_notes: tuple[ContentNote, ...] = ()
    status: PostStatus = "ok"
    # "public" or "unlisted" are shown; anything else is refused.
    visibility: str = "public"
    # Source-specific extras that storage keeps but no other layer needs.
    extra: tuple[tuple[str, str], ...] = ()

    @property
    def sort_key(self) -> tuple[str, str]:
        return (self.created_at, self.id)


@dataclass(frozen=True)
class Aside:
    """A shorter branch of self-replies, shown after the post it replies to."""

    after: str  # id of the post on the main line (or an earlier aside) it replies to
    posts: tuple[Post, ...]


@dataclass(frozen=True)
class ThreadLink:
    kind: LinkKind
    post: str  # id (or URL when unresolved) of the post or thread the link starts from
    target: str  # URL or id of the thread/post it points to
    origin: LinkOrigin
    evidence: str = ""
    target_url: str = ""


@dataclass(frozen=True)
class Thread:
    source: str  # "bluesky", "mastodon", "x"
    url: str  # the thread's first post
    root_id: str
    author: Author
    posts: tuple[Post, ...]
    asides: tuple[Aside, ...] = ()
    links: tuple[ThreadLink, ...] = ()
    content_notes: tuple[ContentNote, ...] = ()
    truncated: bool = False
    # Short remarks for the reader, e.g. "later posts may be missing".
    notices: tuple[str, ...] = ()
    # Per-post notes where a note applies to some posts only: post id -> notes.
    post_notes: tuple[tuple[str, tuple[ContentNote, ...]], ...] = ()
    # Short marks shown on single posts, e.g. "belongs to <url>; left here by the author":
    # post id -> mark.
    marks: tuple[tuple[str, str], ...] = ()
    fetched_at: float = 0.0
    continuation: Thread | None = field(default=None, compare=False)

    @property
    def all_posts(self) -> tuple[Post, ...]:
        extra = tuple(p for a in self.asides for p in a.posts)
        return self.posts + extra


@dataclass(frozen=True)
class PostRef:
    """What a link names, before anything is fetched."""

    source: str
    url: str  # the link as normalised by the source
    # Source-specific parts: Bluesky (actor, rkey); Mastodon (host, status id); X (id,).
    key: tuple[str, ...]


@dataclass
class FetchedPosts:
    """What a source returns: every post it found around the anchor, unassembled.

    ``posts`` holds the anchor, its ancestors (any author) and the author's replies below
    them, keyed by id; deleted posts inside the chain appear with status "unavailable".
    Assembly (bot/assemble.py) turns this into a Thread.
    """

    source: str
    anchor_id: str
    posts: dict[str, Post]
    notices: list[str] = field(default_factory=list)
    # True when the source stopped early because it reached max_posts.
    capped: bool = False
