"""The one post count a reader sees: the header, the numbering labels and the replies
all use it, so "150 posts + 2 asides" in the header matches "150/150" on the last post."""

from __future__ import annotations

from dataclasses import dataclass

from bot.models import Thread


@dataclass(frozen=True)
class PostCount:
    posts: int  # numbered posts of the main line (a post moved elsewhere is not counted)
    asides: int  # posts of the author's shorter branches, shown after the post they answer

    @property
    def total(self) -> int:
        return self.posts + self.asides

    def __str__(self) -> str:
        text = f"{self.posts} post{'s' if self.posts != 1 else ''}"
        if self.asides:
            text += f" + {self.asides} aside{'s' if self.asides != 1 else ''}"
        return text


def post_count(thread: Thread) -> PostCount:
    """The thread's count (its continuation has its own header and count)."""
    posts = sum(1 for p in thread.posts if p.status != "moved_out")
    asides = sum(1 for a in thread.asides for p in a.posts if p.status != "moved_out")
    return PostCount(posts, asides)
