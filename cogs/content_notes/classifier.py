"""Lexicon matching over normalised words: which categories a text touches, and why.

Conservative by construction: whole words only, ignore phrases cancel the matches they
overlap ("dying to see it", "my laptop died last night"), a term directly followed by
"free" is a negation ("trauma-free"), and a match inside a longer one gives way to it
("substance abuse" is substance use, not abuse).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
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
_SMALL = 32  # children a trie node reads one by one for a censored word
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


@lru_cache(maxsize=512)
def _mask_lengths(masked: str) -> range:
    """The lengths of the words ``masked`` may hide: each run of stars is one letter more
    or as many as it has."""
    return range(len(masked), len(masked) + len(re.findall(r"\*+", masked)) + 1)


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


class _Node:
    """One step of the word trie: the words that may come next, the terms that end here,
    and the prefix entries ("suicid*") whose last word starts here, by their first three
    letters. A field stays empty (None or the shared empty tuple) until a word needs it,
    and a word that only ends terms leads to that term (or tuple of terms) rather than to
    a node of its own: most of the hundred thousand steps are such leaves."""

    __slots__ = ("by_length", "children", "ends", "prefixed")

    def __init__(self, ends: tuple[Term, ...] = ()) -> None:
        self.children: dict[str, _Step] | None = None
        self.ends = ends
        self.prefixed: dict[str, list[Term]] | None = None
        # The children by word length, made at the first censored word ("r*pe") read here:
        # a root has thousands of words, and such a word can only be one of a few lengths.
        self.by_length: dict[int, list[tuple[int, str, _Step]]] | None = None

    def of_length(self, lengths: range) -> list[tuple[str, _Step]]:
        """The children whose word has one of ``lengths``, in the children's order."""
        if not self.children:
            return []
        if len(self.children) <= _SMALL:
            return [(w, c) for w, c in self.children.items() if len(w) in lengths]
        if self.by_length is None:
            by_length: dict[int, list[tuple[int, str, _Step]]] = {}
            for n, (word, child) in enumerate(self.children.items()):
                by_length.setdefault(len(word), []).append((n, word, child))
            self.by_length = by_length
        found = sorted(e for n in lengths for e in self.by_length.get(n, ()))
        return [(w, c) for _, w, c in found]

    def inner(self, word: str) -> _Node:
        """The node after ``word``, made (or grown from a leaf) when missing."""
        if self.children is None:
            self.children = {}
        child = self.children.get(word)
        if not isinstance(child, _Node):
            child = self.children[word] = _Node(_terms_of(child))
        return child

    def add_end(self, word: str, term: Term) -> None:
        """``term`` ends with ``word`` after this node."""
        if self.children is None:
            self.children = {}
        child = self.children.get(word)
        if isinstance(child, _Node):
            child.ends = (*child.ends, term)
        else:
            self.children[word] = term if child is None else (*_terms_of(child), term)


# Where a word leads: a node, or a leaf holding the one term (or few terms) ending there.
_Step = _Node | Term | tuple[Term, ...]


def _terms_of(leaf: Term | tuple[Term, ...] | None) -> tuple[Term, ...]:
    if leaf is None:
        return ()
    return (leaf,) if isinstance(leaf, Term) else leaf


class _Index:
    """Terms in a trie of words: a post is read word by word from each starting point and
    only the phrases that go on matching are followed, so thousands of phrase variants
    (every "{kin}" of "lost {my} {kin}") cost a few dictionary reads per word."""

    def __init__(self, terms: Iterable[Term]) -> None:
        self.root = _Node()
        for term in terms:  # every term has a word: an entry without one is refused
            node = self.root
            for word in term.tokens[:-1]:
                # Variants share their first words: most steps find a node already.
                child = node.children.get(word) if node.children else None
                node = child if isinstance(child, _Node) else node.inner(word)
            word = term.tokens[-1]
            if term.prefix:
                if node.prefixed is None:
                    node.prefixed = {}
                node.prefixed.setdefault(word[:3], []).append(term)
            else:
                node.add_end(word, term)

    @staticmethod
    def _masked_step(node: _Node, tok: Token) -> tuple[list[_Step], list[Term]]:
        """Where a censored word ("r*pe") leads from ``node`` (nodes, or leaves: the terms
        ending there), and the prefix terms it completes. Plain words are read inline in
        ``find``: one dictionary read."""
        done: list[Term] = []
        pattern = _mask_pattern(tok.norm)
        if pattern is None:
            return [], done
        lengths = _mask_lengths(tok.norm)
        nxt = [c for word, c in node.of_length(lengths) if pattern.fullmatch(word)]
        if node.prefixed:
            for terms in node.prefixed.values():
                done.extend(t for t in terms if _masked_prefix(tok.norm, t.tokens[-1]))
        return nxt, done

    def find(self, tokens: list[Token]) -> list[tuple[Term, int, int]]:
        out: list[tuple[Term, int, int]] = []
        root, n = self.root, len(tokens)
        norms = [tok.norm for tok in tokens]
        masked = ["*" in norm for norm in norms]
        children, prefixed = root.children or {}, root.prefixed or {}
        for i in range(n):
            # Most words start no phrase: look them up at the root before building anything.
            if not masked[i]:
                norm = norms[i]
                if norm not in children and norm[:3] not in prefixed:
                    continue
            frontier: list[_Node] = [root]
            k = i
            while frontier and k < n:
                nxt: list[_Node] = []
                tok, norm = tokens[k], norms[k]
                for node in frontier:
                    if masked[k]:
                        steps, done = self._masked_step(node, tok)
                        out.extend((t, i, k + 1) for t in done)
                    else:  # the common case, inline: one dictionary read
                        if node.prefixed:
                            for t in node.prefixed.get(norm[:3], ()):
                                if _token_matches(tok, t.tokens[-1], True):
                                    out.append((t, i, k + 1))
                        child = node.children.get(norm) if node.children else None
                        if child is None:
                            continue
                        steps = [child]
                    for step in steps:
                        if isinstance(step, _Node):
                            if step.ends:
                                out.extend((t, i, k + 1) for t in step.ends)
                            nxt.append(step)
                        elif isinstance(step, Term):
                            out.append((step, i, k + 1))
                        else:
                            out.extend((t, i, k + 1) for t in step)
                frontier = nxt
                k += 1
        return out


def _words(text: str, tokens: list[Token], first: int, last: int) -> str:
    """The matched words as written, lowercased; split hashtag words get a space."""
    parts = [text[tokens[first].start : tokens[first].end]]
    for k in range(first + 1, last):
        gap = text[tokens[k - 1].end : tokens[k].start]
        parts.append("-" if gap.strip() == "-" else " ")
        parts.append(text[tokens[k].start : tokens[k].end])
    return "".join(parts).lower()


# What a phrase is to its lexicon part, coded with the rule's number: ``n << 3 | kind``.
# The four halves come first: they index ``_Found.halves``.
_LEFT, _RIGHT, _IGNORE_LEFT, _IGNORE_RIGHT, _TERM, _IGNORE = range(6)


# Where each rule's (by number) halves lie in a text.
_Spans = dict[int, list[tuple[int, int]]]


def _spans() -> _Spans:
    return defaultdict(list)


@dataclass
class _Found:
    """One part's matches in a text: terms and ignores, and where each rule's halves lie (by
    kind of half, then rule)."""

    hits: list[tuple[Term, int, int]] = field(default_factory=list)
    ignored: list[tuple[Term, int, int]] = field(default_factory=list)
    halves: tuple[_Spans, ...] = field(default_factory=lambda: tuple(_spans() for _ in range(4)))


def _pairs(
    rules: tuple[NearRule, ...], lefts: _Spans, rights: _Spans
) -> Iterator[tuple[int, tuple[int, int], tuple[int, int]]]:
    """Each rule (by number) whose halves lie close enough, with both halves in text order."""
    for n in sorted(lefts):
        window = rules[n].window
        for a, b in lefts[n]:
            for c, d in rights.get(n, ()):
                gap = c - b if c >= b else a - d
                if 0 <= gap <= window:
                    one, two = sorted(((a, b), (c, d)))
                    yield n, one, two
                    break


def _rule_match(rule: NearRule) -> Term:
    return Term(rule.category, (), False, rule.entry)


class _Part:
    """A lexicon's own entries in one trie: its terms, its ignores and both halves of its
    proximity rules, each phrase tagged with what it is, so a post is walked once for all of
    them. A lexicon extending another (a server's extra terms on the shipped lexicon) adds a
    small part of its own beside the base's."""

    def __init__(
        self,
        terms: Iterable[Term],
        ignores: Iterable[Term],
        near: tuple[NearRule, ...],
        near_ignores: tuple[NearRule, ...],
    ) -> None:
        self.near = near
        self.near_ignores = near_ignores
        # What a firing rule counts as: a match of its category, named by its entry.
        self.near_hits = [_rule_match(rule) for rule in near]
        self.near_hits_ignored = [_rule_match(rule) for rule in near_ignores]
        # Only phrases that are more than a term have roles, as tuples of codes shared by
        # every phrase with the same ones: the hundred thousand plain terms are told by their
        # absence, and the table stays a fraction of the trie.
        roles: dict[Term, tuple[int, ...]] = {}
        shared: dict[tuple[int, ...], tuple[int, ...]] = {}

        def add(term: Term, code: int) -> None:
            codes = (*roles.get(term, ()), code)
            roles[term] = shared.setdefault(codes, codes)

        terms = list(terms)
        for term in ignores:
            add(term, _IGNORE)
        for kinds, rules in (
            ((_LEFT, _RIGHT), near),
            ((_IGNORE_LEFT, _IGNORE_RIGHT), near_ignores),
        ):
            for n, rule in enumerate(rules):
                for kind, half in zip(kinds, (rule.left, rule.right), strict=True):
                    for term in half:
                        add(term, n << 3 | kind)
        for term in terms:
            codes = roles.get(term)
            if codes is not None and _TERM not in codes:
                add(term, _TERM)
        self.roles = roles
        phrases = [*terms, *(t for t, codes in roles.items() if _TERM not in codes)]
        self.size = len(phrases)
        self.index = _Index(phrases)

    def find(self, tokens: list[Token]) -> _Found:
        found = _Found()
        roles, halves = self.roles, found.halves
        for term, a, b in self.index.find(tokens):
            codes = roles.get(term)
            if codes is None:
                found.hits.append((term, a, b))
                continue
            for code in codes:
                kind = code & 7
                if kind == _TERM:
                    found.hits.append((term, a, b))
                elif kind == _IGNORE:
                    found.ignored.append((term, a, b))
                else:
                    halves[kind][code >> 3].append((a, b))
        return found


def _parts_of(lexicon: Lexicon) -> tuple[_Part, ...]:
    return (_Part(lexicon.terms, lexicon.ignores, lexicon.near, lexicon.near_ignores),)


@lru_cache(maxsize=1)
def _shipped_parts() -> tuple[_Part, ...]:
    """The shipped lexicon's trie (tens of thousands of expanded phrases), built once."""
    return _parts_of(shipped_lexicon())


def _build(lexicon: Lexicon) -> tuple[_Part, ...]:
    """The parts of ``lexicon``; one that extends another (a server's extra terms on the
    shipped lexicon) reuses the base's and adds a small one for its own entries only."""
    base = lexicon.base
    if base is None:
        return _shipped_parts() if lexicon is shipped_lexicon() else _parts_of(lexicon)
    under = _build(base)
    own = _Part(
        lexicon.terms[len(base.terms) :],
        lexicon.ignores[len(base.ignores) :],
        lexicon.near[len(base.near) :],
        lexicon.near_ignores[len(base.near_ignores) :],
    )
    return (*under, own) if own.size else under


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
        self._parts = _build(lexicon)

    @classmethod
    def default(cls, extra_terms: Mapping[str, Iterable[str]] | None = None) -> Classifier:
        return cls(load_lexicon(extra_terms))

    def detect(self, text: str) -> list[Detection]:
        """Every surviving match, in text order."""
        tokens = self._typos.read(tokenize(text))
        if not tokens:
            return []
        hits: list[tuple[Term, int, int]] = []
        ignored: list[tuple[Term, int, int]] = []
        # The words a match is made of: a proximity match is its two halves, not the words
        # between them, which may be another topic's own ("addicted ~8 {pills}" around
        # "schizophrenic").
        pieces: dict[tuple[Term, int, int], tuple[tuple[int, int], ...]] = {}
        near_words: dict[tuple[int, int], str] = {}
        for part in self._parts:  # one walk of the post per part finds every kind of phrase
            got = part.find(tokens)
            hits.extend(got.hits)
            ignored.extend(got.ignored)
            halves = got.halves
            for n, one, two in _pairs(part.near, halves[_LEFT], halves[_RIGHT]):
                term, first, last = part.near_hits[n], one[0], max(one[1], two[1])
                # Halves that touch read as the phrase they make; apart, the gap is shown.
                near_words[(first, last)] = (
                    _words(text, tokens, one[0], two[1])
                    if one[1] == two[0]
                    else f"{_words(text, tokens, *one)} … {_words(text, tokens, *two)}"
                )
                hits.append((term, first, last))
                pieces[(term, first, last)] = (one, two)
            ignored.extend(
                (part.near_hits_ignored[n], one[0], max(one[1], two[1]))
                for n, one, two in _pairs(
                    part.near_ignores, halves[_IGNORE_LEFT], halves[_IGNORE_RIGHT]
                )
            )
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
        covers = [p for hit in kept for p in pieces.get(hit, ((hit[1], hit[2]),))]
        survivors = [
            (t, a, b)
            for t, a, b in kept
            if not any(a2 <= a and b <= b2 and (b2 - a2) > (b - a) for a2, b2 in covers)
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
