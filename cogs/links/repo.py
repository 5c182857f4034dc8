"""The thread-linking index: links, their evidence, and the change record that makes every
moderator decision visible and undoable."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, cast

from bot.codec import post_from_dict, post_to_dict
from bot.models import LinkKind, LinkOrigin, Post
from storage.db import Connection, Database, Row

# (post link, phrase) pairs: why a link was found.
EvidenceItems = tuple[tuple[str, str], ...]

_COLUMNS = (
    "id, kind, source_key, source_url, target_key, target_url, origin, active, keep_in_place,"
    " moved_post, from_thread_url, evidence, created_by, created_at, changed_by, changed_at"
)


@dataclass(frozen=True)
class LinkState:
    active: bool
    origin: LinkOrigin
    keep_in_place: bool

    def to_dict(self) -> dict[str, Any]:
        return {"active": self.active, "origin": self.origin, "keep_in_place": self.keep_in_place}

    @staticmethod
    def from_dict(d: dict[str, Any]) -> LinkState:
        return LinkState(bool(d["active"]), d["origin"], bool(d["keep_in_place"]))


@dataclass(frozen=True)
class StoredLink:
    id: int
    kind: LinkKind
    source_key: str
    source_url: str
    target_key: str
    target_url: str
    origin: LinkOrigin
    active: bool
    keep_in_place: bool
    moved_post: Post | None
    from_thread_url: str | None
    evidence: EvidenceItems
    created_by: str
    created_at: float
    changed_by: str
    changed_at: float

    @property
    def state(self) -> LinkState:
        return LinkState(self.active, self.origin, self.keep_in_place)


@dataclass(frozen=True)
class Change:
    id: int
    at: float
    actor: str
    action: str
    summary: str
    states: tuple[tuple[int, LinkState | None, LinkState], ...]
    undone_by: int | None
    undoes: int | None = None  # for an undo: the change it undid

    @property
    def link_ids(self) -> set[int]:
        return {link for link, _, _ in self.states}


@dataclass(frozen=True)
class NewLink:
    """A link to write: what a detection or a moderator states."""

    kind: LinkKind
    source_key: str
    source_url: str
    target_key: str
    target_url: str
    keep_in_place: bool = False
    moved_post: Post | None = None
    from_thread_url: str | None = None
    evidence: EvidenceItems = ()


def _link(row: Row) -> StoredLink:
    moved = row["moved_post"]
    return StoredLink(
        id=int(row["id"]),
        kind=cast(LinkKind, row["kind"]),
        source_key=str(row["source_key"]),
        source_url=str(row["source_url"]),
        target_key=str(row["target_key"]),
        target_url=str(row["target_url"]),
        origin=cast(LinkOrigin, row["origin"]),
        active=bool(row["active"]),
        keep_in_place=bool(row["keep_in_place"]),
        moved_post=post_from_dict(json.loads(moved)) if moved else None,
        from_thread_url=row["from_thread_url"],
        evidence=tuple((str(e["post"]), str(e["phrase"])) for e in json.loads(row["evidence"])),
        created_by=str(row["created_by"]),
        created_at=float(row["created_at"]),
        changed_by=str(row["changed_by"]),
        changed_at=float(row["changed_at"]),
    )


def _change(row: Row) -> Change:
    states = tuple(
        (
            int(s["link"]),
            LinkState.from_dict(s["before"]) if s["before"] else None,
            LinkState.from_dict(s["after"]),
        )
        for s in json.loads(row["states"])
    )
    undone, undoes = row["undone_by"], row["undoes"]
    return Change(
        int(row["id"]),
        float(row["at"]),
        str(row["actor"]),
        str(row["action"]),
        str(row["summary"]),
        states,
        int(undone) if undone is not None else None,
        int(undoes) if undoes is not None else None,
    )


def _evidence_json(items: EvidenceItems) -> str:
    return json.dumps([{"post": p, "phrase": ph} for p, ph in items], ensure_ascii=False)


# Keys per query: far below SQLite's limit on bound parameters, however long the thread.
_BATCH = 400


def _marks(n: int) -> str:
    return ", ".join("?" * n)


class LinksRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    # -- reading ---------------------------------------------------------------------------

    async def get(self, link_id: int) -> StoredLink | None:
        row = await self.db.fetchone(
            f"SELECT {_COLUMNS} FROM thread_links WHERE id = ?", (link_id,)
        )
        return _link(row) if row else None

    async def find(self, kind: str, source_key: str, target_key: str) -> StoredLink | None:
        row = await self.db.fetchone(
            f"SELECT {_COLUMNS} FROM thread_links"
            " WHERE kind = ? AND source_key = ? AND target_key = ?",
            (kind, source_key, target_key),
        )
        return _link(row) if row else None

    async def touching(self, keys: Iterable[str], *, active_only: bool = True) -> list[StoredLink]:
        """Links that start from or point to any of these keys (ids or links)."""
        columns = ("source_key", "source_url", "target_key", "target_url")
        return await self._matching(keys, columns, None, active_only)

    async def from_source(
        self, keys: Iterable[str], kind: str | None = None, *, active_only: bool = True
    ) -> list[StoredLink]:
        """Links that start from any of these keys."""
        return await self._matching(keys, ("source_key", "source_url"), kind, active_only)

    async def _matching(
        self, keys: Iterable[str], columns: tuple[str, ...], kind: str | None, active_only: bool
    ) -> list[StoredLink]:
        ks = sorted(set(keys))
        found: dict[int, StoredLink] = {}
        for start in range(0, len(ks), _BATCH):
            part = ks[start : start + _BATCH]
            m = _marks(len(part))
            where = "(" + " OR ".join(f"{c} IN ({m})" for c in columns) + ")"
            params: list[Any] = part * len(columns)
            if kind is not None:
                where += " AND kind = ?"
                params.append(kind)
            if active_only:
                where += " AND active = TRUE"
            rows = await self.db.fetchall(
                f"SELECT {_COLUMNS} FROM thread_links WHERE {where}", params
            )
            for row in rows:
                link = _link(row)
                found[link.id] = link
        return [found[k] for k in sorted(found)]

    async def alias_map(self, post_ids: Iterable[str]) -> dict[str, str]:
        """Every link form the cache knows for these posts (the core url_aliases): url -> id."""
        ids = sorted(set(post_ids))
        out: dict[str, str] = {}
        for start in range(0, len(ids), _BATCH):
            part = ids[start : start + _BATCH]
            rows = await self.db.fetchall(
                f"SELECT url, post_id FROM url_aliases WHERE post_id IN ({_marks(len(part))})",
                part,
            )
            out.update((str(r[0]), str(r[1])) for r in rows)
        return out

    async def post_id_for_url(self, url: str) -> str | None:
        row = await self.db.fetchone("SELECT post_id FROM url_aliases WHERE url = ?", (url,))
        return str(row[0]) if row else None

    async def changes_for(self, link_ids: Iterable[int]) -> list[Change]:
        """Every recorded change that touched any of these links, oldest first."""
        ids = sorted(set(link_ids))
        found: dict[int, Change] = {}
        for start in range(0, len(ids), _BATCH):
            part = ids[start : start + _BATCH]
            rows = await self.db.fetchall(
                "SELECT c.* FROM link_changes c WHERE c.id IN (SELECT change_id FROM"
                f" link_change_links WHERE link_id IN ({_marks(len(part))}))",
                part,
            )
            for row in rows:
                found[int(row["id"])] = _change(row)
        return [found[k] for k in sorted(found)]

    async def blocking_undo(self, change: Change) -> Change | None:
        """A later change to the same links that still stands (undo it first), if any."""
        for later in await self.changes_for(change.link_ids):
            if later.id <= change.id or later.undone_by is not None:
                continue
            if later.undoes is not None and later.undoes > change.id:
                continue  # it undid something later: nothing of it stands
            return later
        return None

    async def change(self, change_id: int) -> Change | None:
        row = await self.db.fetchone("SELECT * FROM link_changes WHERE id = ?", (change_id,))
        return _change(row) if row else None

    # -- writing ---------------------------------------------------------------------------

    async def record_detected(self, links: Sequence[NewLink], now: float) -> list[int]:
        """Store what detection found. A link seen before keeps its state: one a moderator
        removed stays removed, one a moderator set stays theirs; an active automatic link
        gets fresh evidence. Returns the ids of links new to the index."""
        new_ids: list[int] = []
        if not await self._any_news(links):
            return new_ids  # the usual case on a re-unroll: no write, no lock
        async with self.db.transaction() as conn:
            for link in links:
                row = await conn.fetchone(
                    "SELECT id, origin, active, evidence, keep_in_place FROM thread_links"
                    " WHERE kind = ? AND source_key = ? AND target_key = ?",
                    (link.kind, link.source_key, link.target_key),
                )
                evidence = _evidence_json(link.evidence)
                if row is not None:
                    fresh = row["origin"] == "auto" and row["active"]
                    if fresh and (
                        row["evidence"] != evidence
                        or bool(row["keep_in_place"]) != link.keep_in_place
                    ):
                        await conn.execute(
                            "UPDATE thread_links SET evidence = ?, keep_in_place = ? WHERE id = ?",
                            (evidence, link.keep_in_place, row["id"]),
                        )
                    continue
                link_id = await self._insert(conn, link, "auto", "detection", now)
                after = LinkState(True, "auto", link.keep_in_place)
                await self._log(
                    conn, now, "detection", "detect", _describe(link), [(link_id, None, after)]
                )
                new_ids.append(link_id)
        return new_ids

    async def _any_news(self, links: Sequence[NewLink]) -> bool:
        for link in links:
            row = await self.db.fetchone(
                "SELECT origin, active, evidence, keep_in_place FROM thread_links"
                " WHERE kind = ? AND source_key = ? AND target_key = ?",
                (link.kind, link.source_key, link.target_key),
            )
            if row is None:
                return True
            if row["origin"] == "auto" and row["active"]:
                if row["evidence"] != _evidence_json(link.evidence):
                    return True
                if bool(row["keep_in_place"]) != link.keep_in_place:
                    return True
        return False

    async def set_link(
        self,
        actor: str,
        link: NewLink,
        now: float,
        *,
        replaces: Sequence[StoredLink] = (),
    ) -> tuple[Change, StoredLink]:
        """A moderator's link: created or taken over (origin moderator, active, moved out),
        and the links it replaces switched off; one change records all of it."""
        states: list[tuple[int, LinkState | None, LinkState]] = []
        async with self.db.transaction() as conn:
            row = await conn.fetchone(
                f"SELECT {_COLUMNS} FROM thread_links"
                " WHERE kind = ? AND source_key = ? AND target_key = ?",
                (link.kind, link.source_key, link.target_key),
            )
            after = LinkState(True, "moderator", link.keep_in_place)
            if row is None:
                link_id = await self._insert(conn, link, "moderator", actor, now)
                states.append((link_id, None, after))
            else:
                old = _link(row)
                link_id = old.id
                moved = old.moved_post or link.moved_post
                await conn.execute(
                    "UPDATE thread_links SET origin = 'moderator', active = TRUE,"
                    " keep_in_place = ?, moved_post = ?,"
                    " from_thread_url = COALESCE(?, from_thread_url),"
                    " changed_by = ?, changed_at = ? WHERE id = ?",
                    (
                        link.keep_in_place,
                        json.dumps(post_to_dict(moved)) if moved else None,
                        link.from_thread_url,
                        actor,
                        now,
                        link_id,
                    ),
                )
                states.append((link_id, old.state, after))
            for other in replaces:
                if other.id == link_id or not other.active:
                    continue
                await self._set_state(
                    conn, other.id, LinkState(False, other.origin, other.keep_in_place), actor, now
                )
                states.append(
                    (other.id, other.state, LinkState(False, other.origin, other.keep_in_place))
                )
            change_id = await self._log(conn, now, actor, "link", _describe(link), states)
        change = await self.change(change_id)
        stored = await self.get(link_id)
        assert change is not None and stored is not None
        return change, stored

    async def deactivate(
        self, actor: str, links: Sequence[StoredLink], summary: str, now: float
    ) -> Change:
        states: list[tuple[int, LinkState | None, LinkState]] = []
        async with self.db.transaction() as conn:
            for link in links:
                after = LinkState(False, link.origin, link.keep_in_place)
                await self._set_state(conn, link.id, after, actor, now)
                states.append((link.id, link.state, after))
            change_id = await self._log(conn, now, actor, "unlink", summary, states)
        change = await self.change(change_id)
        assert change is not None
        return change

    async def undo(self, actor: str, change: Change, now: float) -> Change:
        """Put back every link's state from before ``change``; a link the change created
        is switched off (kept, so detection does not bring it back)."""
        states: list[tuple[int, LinkState | None, LinkState]] = []
        async with self.db.transaction() as conn:
            for link_id, before, after in change.states:
                row = await conn.fetchone(
                    "SELECT active, origin, keep_in_place FROM thread_links WHERE id = ?",
                    (link_id,),
                )
                if row is None:
                    continue
                now_state = LinkState(
                    bool(row["active"]), row["origin"], bool(row["keep_in_place"])
                )
                back = before or LinkState(False, after.origin, after.keep_in_place)
                await self._set_state(conn, link_id, back, actor, now)
                states.append((link_id, now_state, back))
            undo_id = await self._log(
                conn, now, actor, "undo", f"undo change #{change.id}", states, change.id
            )
            await conn.execute(
                "UPDATE link_changes SET undone_by = ? WHERE id = ?", (undo_id, change.id)
            )
        result = await self.change(undo_id)
        assert result is not None
        return result

    # -- helpers ---------------------------------------------------------------------------

    @staticmethod
    async def _insert(conn: Connection, link: NewLink, origin: str, actor: str, now: float) -> int:
        link_id = await conn.fetchval(
            "INSERT INTO thread_links (kind, source_key, source_url, target_key, target_url,"
            " origin, active, keep_in_place, moved_post, from_thread_url, evidence,"
            " created_by, created_at, changed_by, changed_at)"
            " VALUES (?, ?, ?, ?, ?, ?, TRUE, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (
                link.kind,
                link.source_key,
                link.source_url,
                link.target_key,
                link.target_url,
                origin,
                link.keep_in_place,
                json.dumps(post_to_dict(link.moved_post)) if link.moved_post else None,
                link.from_thread_url,
                _evidence_json(link.evidence),
                actor,
                now,
                actor,
                now,
            ),
        )
        return int(link_id)

    @staticmethod
    async def _set_state(
        conn: Connection, link_id: int, state: LinkState, actor: str, now: float
    ) -> None:
        await conn.execute(
            "UPDATE thread_links SET active = ?, origin = ?, keep_in_place = ?,"
            " changed_by = ?, changed_at = ? WHERE id = ?",
            (state.active, state.origin, state.keep_in_place, actor, now, link_id),
        )

    @staticmethod
    async def _log(
        conn: Connection,
        now: float,
        actor: str,
        action: str,
        summary: str,
        states: Sequence[tuple[int, LinkState | None, LinkState]],
        undoes: int | None = None,
    ) -> int:
        data = [
            {"link": i, "before": b.to_dict() if b else None, "after": a.to_dict()}
            for i, b, a in states
        ]
        change_id = int(
            await conn.fetchval(
                "INSERT INTO link_changes (at, actor, action, summary, states, undoes)"
                " VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
                (now, actor, action, summary, json.dumps(data), undoes),
            )
        )
        await conn.executemany(
            "INSERT INTO link_change_links (change_id, link_id) VALUES (?, ?)"
            " ON CONFLICT DO NOTHING",
            [(change_id, i) for i, _, _ in states],
        )
        return change_id


def _describe(link: NewLink) -> str:
    verb = {"belongs_to": "belongs to", "context": "has context", "continues": "continues in"}
    return f"{link.source_url} {verb[link.kind]} {link.target_url}"
