"""One-letter typos of lexicon words, read as the word ("retsricting", "sucide", "painc").

People write about hard things fast and on phones; a missed, doubled, swapped or wrong
letter must not hide a topic. A word is read as a lexicon word when it is one edit away
from exactly one of them (optimal string alignment: insert, delete, substitute, or swap
two neighbours; between several, the one keeping the typed first, then last, letter)
and is not itself an English word: ``real_words.txt`` lists every
English word one edit from a lexicon word ("dyeing", "curing", "grieve" stays itself),
generated from a spelling dictionary by ``python -m benchmarks.content_notes_words``.
Short words are left alone: at four letters nearly every neighbour is a real word.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from importlib import resources

from cogs.content_notes.lexicon import Lexicon
from cogs.content_notes.normalize import Token

MIN_LENGTH = 5  # of the typed word and of the lexicon word


def _deletes(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


def one_edit(a: str, b: str) -> bool:
    """True when ``a`` and ``b`` differ by exactly one insert, delete, substitution or
    swap of two neighbouring letters."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) > len(b):
        a, b = b, a
    i = 0
    while i < len(a) and a[i] == b[i]:
        i += 1
    if len(a) < len(b):  # one letter inserted into a
        return a[i:] == b[i + 1 :]
    if a[i + 1 :] == b[i + 1 :]:  # one substitution
        return True
    # a swap of two neighbours
    return i + 1 < len(a) and a[i] == b[i + 1] and a[i + 1] == b[i] and a[i + 2 :] == b[i + 2 :]


def lexicon_words(lexicon: Lexicon) -> set[str]:
    """Every word the lexicon's terms, ignores and proximity rules are made of (a typo in a
    harmless context, "overdosed on caffine", must cancel the match like the word would)."""
    words: set[str] = set()
    for term in (*lexicon.terms, *lexicon.ignores):
        if term.joined:
            continue  # a phrase's joined form ("did a line" -> "didaline") is no one's typo
        words.update(term.tokens)
    for rule in lexicon.near:
        for half in (rule.left, rule.right):
            for term in half:
                words.update(term.tokens)
    return {w for w in words if len(w) >= MIN_LENGTH and w.isalpha()}


def shipped_real_words() -> frozenset[str]:
    raw = resources.files("cogs.content_notes").joinpath("real_words.txt").read_text("utf-8")
    return frozenset(
        line.strip() for line in raw.splitlines() if line.strip() and not line.startswith("#")
    )


class TypoReader:
    """Reads tokens that are a one-letter typo of exactly one lexicon word as that word."""

    def __init__(self, words: Iterable[str], real_words: frozenset[str]) -> None:
        self.words = frozenset(words)
        self.real_words = real_words
        # A delete index: every word, and every word with one letter removed, points back
        # to the lexicon words it came from, so a lookup costs a few dict reads. Nearly
        # every key has one word, kept as the string itself (a set each would triple the
        # table's size); the few shared keys keep a tuple.
        self._index: dict[str, str | tuple[str, ...]] = {}
        index = self._index
        for word in self.words:
            for key in (word, *_deletes(word)):
                have = index.get(key)
                if have is None:
                    index[key] = word
                elif isinstance(have, str):
                    index[key] = (have, word)
                else:
                    index[key] = (*have, word)

    def candidates(self, key: str) -> tuple[str, ...]:
        """The lexicon words that are ``key`` or give ``key`` with one letter removed."""
        have = self._index.get(key)
        if have is None:
            return ()
        return (have,) if isinstance(have, str) else have

    def correct(self, word: str) -> str | None:
        """The lexicon word ``word`` is a typo of, or None."""
        if (
            len(word) < MIN_LENGTH
            or word in self.words
            or word in self.real_words
            or not word.isalpha()
        ):
            return None
        found: set[str] = set(self.candidates(word))
        for d in _deletes(word):
            found.update(self.candidates(d))
        matches = {w for w in found if one_edit(word, w)}
        # Between two readings ("pased": based or passed, "sexualy": sexual or sexually),
        # the one keeping the typed first and then last letter: slips rarely hit those.
        for keep in (0, -1):
            if len(matches) > 1:
                matches = {w for w in matches if w[keep] == word[keep]} or matches
        return matches.pop() if len(matches) == 1 else None

    def read(self, tokens: list[Token]) -> list[Token]:
        out: list[Token] = []
        for tok in tokens:
            fixed = None if tok.masked else self.correct(tok.norm)
            out.append(replace(tok, norm=fixed) if fixed else tok)
        return out
