"""Text normalisation for matching: words with their place in the original text.

Case, accents, plurals, hashtags (``#MentalHealth`` -> ``mental health``), leetspeak
(``su1cide``) and censored spellings (``r*pe``) are folded so one lexicon entry catches
them all, while each token keeps its span so a note can quote the words that triggered it.
Links, e-mail addresses and @mentions are skipped: they are not the author's prose.
"""

from __future__ import annotations

import re
import sys
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

_URL = re.compile(
    r"(?:https?://|www\.)\S+|\b[\w.-]+\.(?:com|org|net|io|app|social|blogspot)\b\S*", re.I
)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_MENTION = re.compile(r"(?<![\w@])@[\w.-]+(?:@[\w.-]+)?")
# A raw word: letters/digits plus the characters people use inside words to censor or
# disguise them; hyphens, underscores and apostrophes are split or dropped afterwards.
_RAW_WORD = re.compile(r"#?[\w*@$!|'’\-]+")
_EDGE = "*@$!|'’-_#"
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_SPLIT = re.compile(r"[-_]+")
_LEET = str.maketrans(
    {
        "0": "o",
        "1": "i",
        "3": "e",
        "4": "a",
        "5": "s",
        "7": "t",
        "@": "a",
        "$": "s",
        "!": "i",
        "|": "l",
    }
)
_ONLY_LETTERS = re.compile(r"^[a-z*]+$")


@dataclass(frozen=True)
class Token:
    norm: str  # folded and stemmed ("therapist"); may contain "*" when censored
    start: int  # span of the word in the original text
    end: int

    @property
    def masked(self) -> bool:
        return "*" in self.norm


def fold(word: str) -> str:
    """Case and accents: ``Thérapie`` -> ``therapie``."""
    decomposed = unicodedata.normalize("NFKD", word)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def deleet(word: str) -> str:
    """``su1cide`` -> ``suicide``; only when the word has letters and the result is all
    letters, so numbers ("2020", "8000") and codes ("mp3", "b12") stay as they are."""
    if not any(c.isalpha() for c in word):
        return word
    mapped = word.translate(_LEET)
    return mapped if _ONLY_LETTERS.match(mapped) else word


def stem(word: str) -> str:
    """A light plural fold (never more): therapists -> therapist, therapies -> therapy,
    abuses -> abuse; psychosis, ptsd and address stay."""
    if len(word) <= 3 or "*" in word[-2:]:
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith("sses"):
        return word[:-2]
    if word.endswith("es") and word[:-2].endswith(("sh", "ch", "x", "z")):
        return word[:-2]
    if word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


# Words whose apostrophe carries the meaning: "OD'd" (overdosed) must not read as "odd".
_APOSTROPHE_WORDS = {"od'd": "oded", "od’d": "oded"}


@lru_cache(maxsize=1 << 16)  # lexicon phrases repeat their words thousands of times
def normalise_word(word: str) -> str:
    """One word (no spaces or hyphens) as the matcher sees it."""
    w = fold(word)
    w = _APOSTROPHE_WORDS.get(w, w).replace("'", "").replace("’", "")
    # Interned: the lexicon's hundred thousand phrase variants then share one string
    # per word, whatever spelling it was folded from.
    return sys.intern(stem(deleet(w)))


def _blank(text: str, pattern: re.Pattern[str]) -> str:
    return pattern.sub(lambda m: " " * len(m.group(0)), text)


def tokenize(text: str) -> list[Token]:
    """Words of ``text`` in order, normalised, with their original spans."""
    cleaned = _blank(_blank(_blank(text, _EMAIL), _URL), _MENTION)
    tokens: list[Token] = []
    for m in _RAW_WORD.finditer(cleaned):
        raw, base = m.group(0), m.start()
        if raw.isalpha():  # most words: nothing to trim or split
            norm = normalise_word(raw)
            if norm:
                tokens.append(Token(norm, base, base + len(raw)))
            continue
        hashtag = raw.startswith("#")
        # Trim decoration at the edges ("*sigh*", "suicide!", "'quoted'").
        lead = len(raw) - len(raw.lstrip(_EDGE))
        body = raw.strip(_EDGE)
        if not body:
            continue
        base += lead
        pos = 0
        for piece in _SPLIT.split(body):
            offset = body.index(piece, pos) if piece else pos
            pos = offset + len(piece)
            sub_parts = [piece]
            if hashtag:
                sub_parts = _CAMEL.split(piece)
            sub_pos = 0
            for sub in sub_parts:
                if not sub:
                    continue
                sub_off = piece.index(sub, sub_pos)
                sub_pos = sub_off + len(sub)
                cleaned_sub = sub.strip(_EDGE)
                if not cleaned_sub:
                    continue
                start = base + offset + sub_off + (len(sub) - len(sub.lstrip(_EDGE)))
                norm = normalise_word(cleaned_sub)
                if norm:
                    tokens.append(Token(norm, start, start + len(cleaned_sub)))
    return tokens


_PLAIN = re.compile(r"^[a-z0-9' ]*$")


def normalise_phrase(phrase: str) -> tuple[str, ...]:
    """A lexicon entry as a token sequence, folded the same way as text. Plain lower-case
    words (nearly all of the tens of thousands of expanded entries) take a short path that
    gives the same tokens."""
    if _PLAIN.match(phrase):
        return tuple(filter(None, map(normalise_word, phrase.split())))
    return tuple(t.norm for t in tokenize(phrase))
