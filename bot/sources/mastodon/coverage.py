"""Bookkeeping for the Mastodon walk: where in the author's status list every status is
known (complete stretches, "coverage"), and how ids are ordered.

Positions order ids and the gaps between them. With snowflake ids (Mastodon: ``id >> 16``
is a millisecond timestamp) id x sits at 2x and 2x+1 is the gap just above it (= just
below x+1), so windows can be cut anywhere in time. Other ids (Pleroma FlakeIDs,
GoToSocial ULIDs) only sort: a position is (sort key, -1|0|1) for just below, at and just
above an id.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

TOP = 1 << 130  # beyond any position: "up to the present"
_MIN_SNOWFLAKE_MS = 1_400_000_000_000  # 2014: Mastodon snowflakes started in 2017


def is_snowflake(status_id: str) -> bool:
    if not status_id.isdigit() or len(status_id) > 24:
        return False
    ms = int(status_id) >> 16
    return _MIN_SNOWFLAKE_MS <= ms <= (time.time() + 365 * 86400) * 1000


Pos = Any  # int (snowflake ids) or (sort key, offset)


def sort_key(status_id: str) -> tuple[int, int, str]:
    if status_id.isdigit():
        return (0, int(status_id), "")
    return (1, len(status_id), status_id)


@dataclass
class Coverage:
    """Position intervals where the author's status list is known to be complete."""

    numeric: bool
    spans: list[tuple[Pos, Pos]] = field(default_factory=list)

    @property
    def top(self) -> Pos:
        return TOP if self.numeric else ((TOP,), 0)

    @property
    def bottom(self) -> Pos:
        return 0 if self.numeric else ((-1,), 0)

    def _after(self, p: Pos) -> Pos:
        return p + 1 if self.numeric else (p[0], p[1] + 1)

    def _before(self, p: Pos) -> Pos:
        return p - 1 if self.numeric else (p[0], p[1] - 1)

    def _touch(self, hi: Pos, lo: Pos) -> bool:
        return bool(lo <= hi or lo == self._after(hi))

    def add(self, lo: Pos, hi: Pos) -> None:
        if hi < lo:
            return
        merged: list[tuple[Pos, Pos]] = []
        for a, b in sorted([*self.spans, (lo, hi)]):
            if merged and self._touch(merged[-1][1], a):
                merged[-1] = (merged[-1][0], max(merged[-1][1], b))
            else:
                merged.append((a, b))
        self.spans = merged

    def span_at(self, p: Pos) -> tuple[Pos, Pos] | None:
        for a, b in self.spans:
            if a <= p <= b:
                return (a, b)
        return None

    def gaps_from(self, start: Pos) -> tuple[list[tuple[Pos, Pos]], Pos | None]:
        """Uncovered intervals from ``start`` up to the highest covered point, and where
        the uncovered tail begins (None when covered to the present)."""
        gaps: list[tuple[Pos, Pos]] = []
        cur = start
        for a, b in self.spans:
            if b < cur:
                continue
            if a > cur:
                gaps.append((cur, self._before(a)))
            if b >= self.top:
                return gaps, None
            cur = self._after(b)
        return gaps, cur

    def gaps_below(self, start: Pos) -> tuple[list[tuple[Pos, Pos]], Pos | None]:
        """The same downwards: gaps below ``start`` and where the uncovered bottom
        region ends (None when covered to the beginning)."""
        gaps: list[tuple[Pos, Pos]] = []
        cur = start
        for a, b in reversed(self.spans):
            if a > cur:
                continue
            if b < cur:
                gaps.append((self._after(b), cur))
            if a <= self.bottom:
                return gaps, None
            cur = self._before(a)
        return gaps, cur
