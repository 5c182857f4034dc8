"""Lexicon matching over normalised words: which categories a text touches, and why.

Conservative by construction: whole words only, ignore phrases cancel the matches they
overlap ("dying to see it", "my laptop died last night"), a term directly followed by
"free" is a negation ("trauma-free"), and a match inside a longer one gives way to it
("substance abuse" is substance use, not abuse).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache

from bot.models import ContentNote
from cogs.content_notes.categories import ORDER
from cogs.content_notes.lexicon import (
    GLOBAL,
    Lexicon,
    NearRule,
    Term,
    load_lexicon,
    shipped_lexicon,
)
from cogs.content_notes.normalize import Token, tokenize
from cogs.content_notes.typos import TypoReader, lexicon_words, shipped_real_words

MAX_SUFFIX = 6  # letters a prefix entry may be followed by ("suicid" + "ality")
MAX_REASON_WORDS = 6
_NEGATING_NEXT = frozenset({"free"})
# "non-suicidal", "non-alcoholic", "anti-abuse": the prefix negates or reframes the word.
_NEGATING_PREV = frozenset({"non", "anti"})


@dataclass(frozen=True)
class Detection:
    category: str
    words: str  # the triggering words as written ("therapist", "r*pe", "mental health")
    first: int  # token range
    last: int  # exclusive


@lru_cache(maxsize=512)
def _mask_pattern(masked: str) -> re.Pattern[str] | None:
    """``r*pe`` -> a pattern for the lexicon word it hides; None when too little is
    visible to say (``***``, ``s*``)."""
    visible = sum(1 for c in masked if c != "*")
    hidden = len(masked) - visible
    if visible < 2 or visible < hidden:
        return None
    out = []
    for run in re.finditer(r"\*+|[^*]+", masked):
        piece = run.group(0)
        if piece.startswith("*"):
            n = len(piece)
            out.append(f"[a-z]{{{n},{n + 1}}}")
        else:
            out.append(re.escape(piece))
    return re.compile("".join(out))


def _masked_prefix(masked: str, prefix: str) -> bool:
    """``s*icidal`` against the prefix ``suicid``: each star stands for one letter."""
    if _mask_pattern(masked) is None or len(masked) < len(prefix):
        return False
    head, tail = masked[: len(prefix)], masked[len(prefix) :]
    return len(tail) <= MAX_SUFFIX and all(m in ("*", p) for m, p in zip(head, prefix, strict=True))


def _token_matches(tok: Token, word: str, prefix: bool) -> bool:
    if tok.masked:
        if prefix:
            return _masked_prefix(tok.norm, word)
        pattern = _mask_pattern(tok.norm)
        return bool(pattern and pattern.fullmatch(word))
    if prefix:
        return tok.norm.startswith(word) and len(tok.norm) - len(word) <= MAX_SUFFIX
    return tok.norm == word


class _Index:
    """Terms by first word (exact) and by the first three letters of a prefix entry."""

    def __init__(self, terms: Iterable[Term]) -> None:
        self.exact: dict[str, list[Term]] = defaultdict(list)
        self.prefixed: dict[str, list[Term]] = defaultdict(list)
        for term in terms:
            first = term.tokens[0]
            if term.prefix and len(term.tokens) == 1:
                self.prefixed[first[:3]].append(term)
            else:
                self.exact[first].append(term)

    def candidates(self, tok: Token) -> Iterable[Term]:
        if tok.masked:
            pattern = _mask_pattern(tok.norm)
            if pattern is None:
                return []
            found = [t for word, ts in self.exact.items() if pattern.fullmatch(word) for t in ts]
            found.extend(
                t
                for ts in self.prefixed.values()
                for t in ts
                if _masked_prefix(tok.norm, t.tokens[0])
            )
            return found
        found = list(self.exact.get(tok.norm, ()))
        found.extend(self.prefixed.get(tok.norm[:3], ()))
        return found

    def find(self, tokens: list[Token]) -> list[tuple[Term, int, int]]:
        out: list[tuple[Term, int, int]] = []
        for i, tok in enumerate(tokens):
            for term in self.candidates(tok):
                n = len(term.tokens)
                if i + n > len(tokens):
                    continue
                if all(
                    _token_matches(tokens[i + k], term.tokens[k], term.prefix and k == n - 1)
                    for k in range(n)
                ):
                    out.append((term, i, i + n))
        return out


def _words(text: str, tokens: list[Token], first: int, last: int) -> str:
    """The matched words as written, lowercased; split hashtag words get a space."""
    parts = [text[tokens[first].start : tokens[first].end]]
    for k in range(first + 1, last):
        gap = text[tokens[k - 1].end : tokens[k].start]
        parts.append("-" if gap.strip() == "-" else " ")
        parts.append(text[tokens[k].start : tokens[k].end])
    return "".join(parts).lower()


_TYPOS: TypoReader | None = None


def shipped_typo_reader() -> TypoReader:
    """Typos of the shipped lexicon's words (built once; a server's extra terms are matched
    as written, since the list of real words to leave alone covers shipped words only)."""
    global _TYPOS
    if _TYPOS is None:
        _TYPOS = TypoReader(lexicon_words(shipped_lexicon()), shipped_real_words())
    return _TYPOS


class Classifier:
    def __init__(self, lexicon: Lexicon, typos: TypoReader | None = None) -> None:
        self.lexicon = lexicon
        self._typos = typos if typos is not None else shipped_typo_reader()
        self._terms = _Index(lexicon.terms)
        self._ignores = _Index(lexicon.ignores)
        # Each proximity rule's halves, indexed once; the rule fires when both are found.
        self._near: list[tuple[NearRule, _Index, _Index]] = [
            (rule, _Index(rule.left), _Index(rule.right)) for rule in lexicon.near
        ]
        # One pass over every left half first: most posts match none and skip the rules.
        self._near_gate = _Index(t for r in lexicon.near for t in r.left)

    @classmethod
    def default(cls, extra_terms: Mapping[str, Iterable[str]] | None = None) -> Classifier:
        return cls(load_lexicon(extra_terms))

    def detect(self, text: str) -> list[Detection]:
        """Every surviving match, in text order."""
        tokens = self._typos.read(tokenize(text))
        if not tokens:
            return []
        hits = self._terms.find(tokens)
        near_words: dict[tuple[int, int], str] = {}
        if self._near and self._near_gate.find(tokens):
            hits.extend(self._near_hits(text, tokens, near_words))
        ignored = self._ignores.find(tokens)
        kept: list[tuple[Term, int, int]] = []
        for term, a, b in hits:
            if b < len(tokens) and tokens[b].norm in _NEGATING_NEXT:
                continue
            if a > 0 and tokens[a - 1].norm in _NEGATING_PREV:
                continue
            if any(
                ig.category in (GLOBAL, term.category) and ia < b and a < ib
                for ig, ia, ib in ignored
            ):
                continue
            kept.append((term, a, b))
        # A match strictly inside a longer one gives way ("sexual abuse" over "abuse").
        survivors = [
            (t, a, b)
            for t, a, b in kept
            if not any(a2 <= a and b <= b2 and (b2 - a2) > (b - a) for _, a2, b2 in kept)
        ]
        # Overlapping matches of one category read as one phrase ("my dad died last").
        spans: dict[str, list[list[int]]] = {}
        for term, a, b in sorted(survivors, key=lambda h: (h[1], h[2])):
            runs = spans.setdefault(term.category, [])
            if runs and a < runs[-1][1]:
                runs[-1][1] = max(runs[-1][1], b)
            else:
                runs.append([a, b])
        out = [
            Detection(cat, near_words.get((a, b)) or _words(text, tokens, a, b), a, b)
            for cat, runs in spans.items()
            for a, b in runs
        ]
        out.sort(key=lambda d: (d.first, d.last))
        return out

    def _near_hits(
        self, text: str, tokens: list[Token], words: dict[tuple[int, int], str]
    ) -> list[tuple[Term, int, int]]:
        """Proximity rules whose two halves are close enough; the hit spans both halves
        and quotes them as "restricting … calories"."""
        out: list[tuple[Term, int, int]] = []
        for rule, left, right in self._near:
            lefts = left.find(tokens)
            if not lefts:
                continue
            rights = right.find(tokens)  # once per rule, not once per left match
            for _, a, b in lefts:
                for _, c, d in rights:
                    gap = c - b if c >= b else a - d
                    if 0 <= gap <= rule.window:
                        first, last = min(a, c), max(b, d)
                        one, two = sorted(((a, b), (c, d)))
                        words[(first, last)] = (
                            f"{_words(text, tokens, *one)} … {_words(text, tokens, *two)}"
                        )
                        out.append((Term(rule.category, (), False, rule.entry), first, last))
                        break
        return out

    def classify(self, text: str) -> tuple[ContentNote, ...]:
        """Auto notes for one text, one per category, in canonical order; the reason lists
        the triggering words."""
        return notes_from_detections(self.detect(text))


def notes_from_detections(detections: Iterable[Detection]) -> tuple[ContentNote, ...]:
    words: dict[str, list[str]] = {}
    for d in detections:
        seen = words.setdefault(d.category, [])
        if d.words not in seen:
            seen.append(d.words)
    return tuple(
        ContentNote(cat, "auto", _reason(ws))
        for cat, ws in sorted(words.items(), key=lambda kv: ORDER[kv[0]])
    )


def _reason(words: list[str]) -> str:
    shown = words[:MAX_REASON_WORDS]
    more = len(words) - len(shown)
    return ", ".join(shown) + (f" (+{more} more)" if more else "")
