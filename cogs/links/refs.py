"""Links to posts, reduced to a key the index can match: the post's stable id when the link
alone tells it, else the link in its normal form.

Every enabled source's parser is asked first; sites that can read their links offline
recognise them even when their source is disabled, so links to sites we cannot fetch are
still recorded. How a link becomes a key is the site's own rule (``bot.sources.post_key``)."""

from __future__ import annotations

from dataclasses import dataclass

from bot.errors import UserError
from bot.models import Author, PostRef
from bot.sources import SourceRegistry, offline_ref, post_key


@dataclass(frozen=True)
class Ref:
    url: str  # the link in normal form
    key: str  # the post id when known, else ``url``
    user: str | None = None  # the account the link names (lowercased), when it names one


# Parsed links remembered (every unroll parses each post's own link; parsing is pure).
_CACHE_SIZE = 50_000


class RefParser:
    def __init__(self, sources: SourceRegistry | None = None) -> None:
        self.sources = sources
        self._cache: dict[tuple[str, str, str], Ref | None] = {}

    def parse(self, url: str, author: Author | None = None) -> Ref | None:
        """The post a link names, or None when it names no post we know of. ``author``
        (the thread's author) lets a Bluesky link by handle resolve to the stable id."""
        key = (url, author.handle if author else "", author.id if author else "")
        if key in self._cache:
            return self._cache[key]
        if len(self._cache) >= _CACHE_SIZE:
            self._cache.clear()
        found = self._parse(url.strip().strip("<>"), author)
        self._cache[key] = found
        return found

    def _parse(self, url: str, author: Author | None) -> Ref | None:
        ref = self._registry_ref(url)
        if ref is None:
            ref = _fallback_ref(url)
        if ref is None:
            return None
        return _to_ref(ref, author)

    def _registry_ref(self, url: str) -> PostRef | None:
        if self.sources is None:
            return None
        try:
            return self.sources.parse(url)[1]
        except UserError:
            return None


def _fallback_ref(url: str) -> PostRef | None:
    try:
        return offline_ref(url)
    except UserError:
        return None


def _to_ref(ref: PostRef, author: Author | None) -> Ref:
    key, user = post_key(ref, author)
    return Ref(ref.url, key, user)


def same_author(ref: Ref, author: Author) -> bool:
    """Whether a link may name the author's own post: it names them, or no one."""
    if ref.user is None:
        return True
    return ref.user in (author.handle.lower(), author.id.lower())
