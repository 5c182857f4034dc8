"""Posts, threads and thread membership: the cache that makes re-unrolls free."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping

from bot.codec import author_from_dict, author_to_dict, post_from_dict, post_to_dict
from bot.models import Aside, Post, Thread
from storage.db import Database


class ThreadRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def save(self, thread: Thread, aliases: Mapping[str, str] | None = None) -> None:
        """Store the assembled thread (before links and notes are applied: those come from
        their own tables at every unroll, so moderator changes apply at once)."""
        now = thread.fetched_at or time.time()
        data = {
            "author": author_to_dict(thread.author),
            "notices": list(thread.notices),
        }
        async with self.db.transaction() as conn:
            for p in thread.all_posts:
                await conn.execute(
                    "INSERT INTO posts (id, source, url, author_id, created_at, parent_id, status,"
                    " data, fetched_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
                    " ON CONFLICT (id) DO UPDATE SET url = excluded.url,"
                    " status = excluded.status, data = excluded.data,"
                    " parent_id = excluded.parent_id, fetched_at = excluded.fetched_at",
                    (
                        p.id,
                        thread.source,
                        p.url,
                        p.author.id,
                        p.created_at,
                        p.parent_id,
                        p.status,
                        json.dumps(post_to_dict(p)),
                        now,
                    ),
                )
            await conn.execute(
                "INSERT INTO threads (root_id, source, url, author_id, truncated, data, fetched_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (root_id) DO UPDATE SET"
                " url = excluded.url, truncated = excluded.truncated, data = excluded.data,"
                " fetched_at = excluded.fetched_at",
                (
                    thread.root_id,
                    thread.source,
                    thread.url,
                    thread.author.id,
                    thread.truncated,
                    json.dumps(data),
                    now,
                ),
            )
            await conn.execute("DELETE FROM thread_posts WHERE thread_id = ?", (thread.root_id,))
            rows: list[tuple[str, str, int, str, str | None]] = [
                (thread.root_id, p.id, i, "main", None) for i, p in enumerate(thread.posts)
            ]
            pos = len(rows)
            for aside in thread.asides:
                for p in aside.posts:
                    rows.append((thread.root_id, p.id, pos, "aside", aside.after))
                    pos += 1
            await conn.executemany(
                "INSERT INTO thread_posts (thread_id, post_id, position, role, aside_after)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                rows,
            )
            names = {p.url: p.id for p in thread.all_posts if p.url}
            names.update(aliases or {})
            await conn.executemany(
                "INSERT INTO url_aliases (url, post_id) VALUES (?, ?)"
                " ON CONFLICT (url) DO UPDATE SET post_id = excluded.post_id",
                list(names.items()),
            )

    async def forget_before(self, cutoff: float) -> int:
        """Drop the threads last fetched before ``cutoff`` and the posts no kept thread
        holds: the bot keeps no copy of an author's words longer than it needs. What links
        and warnings record about them lives in their own tables, and the link spellings
        (``url_aliases``, ids only) stay so links still match; unrolling one again fetches it.
        Returns how many threads were dropped."""
        async with self.db.transaction() as conn:
            dropped = await conn.execute("DELETE FROM threads WHERE fetched_at < ?", (cutoff,))
            await conn.execute(
                "DELETE FROM posts WHERE fetched_at < ? AND NOT EXISTS"
                " (SELECT 1 FROM thread_posts tp WHERE tp.post_id = posts.id)",
                (cutoff,),
            )
        return dropped

    async def post_id_for_url(self, url: str) -> str | None:
        row = await self.db.fetchone("SELECT post_id FROM url_aliases WHERE url = ?", (url,))
        return str(row[0]) if row else None

    async def thread_id_for_post(self, post_id: str) -> str | None:
        row = await self.db.fetchone(
            "SELECT thread_id FROM thread_posts WHERE post_id = ? ORDER BY role = 'aside' LIMIT 1",
            (post_id,),
        )
        if row:
            return str(row[0])
        row = await self.db.fetchone("SELECT root_id FROM threads WHERE root_id = ?", (post_id,))
        return str(row[0]) if row else None

    async def find_by_url(self, url: str) -> Thread | None:
        post_id = await self.post_id_for_url(url)
        if post_id is None:
            return None
        return await self.find_by_post(post_id)

    async def find_by_post(self, post_id: str) -> Thread | None:
        thread_id = await self.thread_id_for_post(post_id)
        return await self.load(thread_id) if thread_id else None

    async def get_post(self, post_id: str) -> Post | None:
        row = await self.db.fetchone("SELECT data FROM posts WHERE id = ?", (post_id,))
        return post_from_dict(json.loads(row[0])) if row else None

    async def load(self, root_id: str) -> Thread | None:
        head = await self.db.fetchone(
            "SELECT source, url, truncated, data, fetched_at FROM threads WHERE root_id = ?",
            (root_id,),
        )
        if head is None:
            return None
        rows = await self.db.fetchall(
            "SELECT p.data, tp.role, tp.aside_after FROM thread_posts tp"
            " JOIN posts p ON p.id = tp.post_id WHERE tp.thread_id = ? ORDER BY tp.position",
            (root_id,),
        )
        data = json.loads(head["data"])
        main: list[Post] = []
        asides: list[Aside] = []
        for row in rows:
            post = post_from_dict(json.loads(row["data"]))
            if row["role"] == "main":
                main.append(post)
            elif asides and asides[-1].after == row["aside_after"] and _continues(asides[-1], post):
                asides[-1] = Aside(asides[-1].after, (*asides[-1].posts, post))
            else:
                asides.append(Aside(str(row["aside_after"]), (post,)))
        shown = main + [p for a in asides for p in a.posts]
        notes: dict[tuple[str, str, str], object] = {}
        for p in shown:
            for n in p.content_notes:
                notes.setdefault((n.category, n.origin, n.reason), n)
        return Thread(
            source=str(head["source"]),
            url=str(head["url"]),
            root_id=root_id,
            author=author_from_dict(data["author"]),
            posts=tuple(main),
            asides=tuple(asides),
            content_notes=tuple(notes.values()),  # type: ignore[arg-type]
            truncated=bool(head["truncated"]),
            notices=tuple(data.get("notices", ())),
            post_notes=tuple((p.id, p.content_notes) for p in shown if p.content_notes),
            fetched_at=float(head["fetched_at"]),
        )


def _continues(aside: Aside, post: Post) -> bool:
    """Whether a stored aside post belongs to the aside before it (same branch)."""
    ids = {p.id for p in aside.posts}
    return post.parent_id in ids
