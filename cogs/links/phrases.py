"""Cue phrases from ``phrases.toml``: loaded once, merged over every language, and matched
as whole words on normalised text."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources

ROLES = (
    "move",
    "move_target",
    "keep",
    "ref_parent",
    "ref_self",
    "context",
    "continues",
    "continued_from",
)

_QUOTES = str.maketrans({"’": "'", "‘": "'", "ʼ": "'", "“": '"', "”": '"'})
_SPACE = re.compile(r"\s+")


def normalise(text: str) -> str:
    """Lowercase, straight quotes, single spaces: what phrases are matched against."""
    return _SPACE.sub(" ", text.translate(_QUOTES).lower()).strip()


@dataclass(frozen=True)
class PhraseList:
    phrases: tuple[str, ...]
    patterns: tuple[re.Pattern[str], ...]
    # All phrases in one pattern: most posts hold none, and one search says so.
    any: re.Pattern[str] | None = None

    def first(self, normalised: str) -> str | None:
        """The first phrase of the list (list order is priority) found in the text."""
        if self.any is None or not self.any.search(normalised):
            return None
        for phrase, pattern in zip(self.phrases, self.patterns, strict=True):
            if pattern.search(normalised):
                return phrase
        return None


def _body(phrase: str) -> str:
    return r"\s+".join(re.escape(w) for w in normalise(phrase).split(" "))


def _pattern(phrase: str) -> re.Pattern[str]:
    # Whole words: no letter or digit right before or after the phrase.
    return re.compile(r"(?<![\w])" + _body(phrase) + r"(?![\w])")


def _any(phrases: list[str]) -> re.Pattern[str] | None:
    if not phrases:
        return None
    return re.compile(r"(?<![\w])(?:" + "|".join(_body(p) for p in phrases) + r")(?![\w])")


def build(tables: dict[str, dict[str, list[str]]]) -> dict[str, PhraseList]:
    """Merge every language's lists per role (English first, then the rest by name)."""
    order = sorted(tables, key=lambda lang: (lang != "en", lang))
    merged: dict[str, list[str]] = {role: [] for role in ROLES}
    for lang in order:
        table = tables[lang]
        if not isinstance(table, dict):
            raise ValueError(f"phrases: [{lang}] must be a table")
        for role, phrases in table.items():
            if role not in merged:
                raise ValueError(f"phrases: unknown list {lang}.{role}")
            if not isinstance(phrases, list) or not all(isinstance(p, str) for p in phrases):
                raise ValueError(f"phrases: {lang}.{role} must be a list of strings")
            merged[role].extend(normalise(p) for p in phrases if p.strip())
    return {
        role: PhraseList(tuple(ps), tuple(_pattern(p) for p in ps), _any(ps))
        for role, ps in merged.items()
    }


@cache
def shipped() -> dict[str, PhraseList]:
    text = resources.files("cogs.links").joinpath("phrases.toml").read_text(encoding="utf-8")
    return build(tomllib.loads(text))
