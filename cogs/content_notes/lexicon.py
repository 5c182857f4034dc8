"""The detection lexicon: the shipped ``lexicon.toml`` plus per-server extra terms.

Entry syntax (the same in the data file and in ``[content_notes] extra_terms``):
``"eating disorder"`` matches the words in order, plurals and case folded, and also the
joined form (``#eatingdisorders``); a trailing ``*`` matches word endings of up to six
letters (``suicid*`` -> suicidal, suicidality); ``{kin}`` expands to every word of a group
from the ``[groups]`` table. ``ignore`` phrases cancel a match they overlap
("dying to see it"), per category or under ``[global]``.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

from bot.errors import ConfigError
from cogs.content_notes.categories import BY_ID
from cogs.content_notes.normalize import deleet, fold, normalise_phrase

GLOBAL = "*"  # category of ignore phrases that apply to every category
_GROUP = re.compile(r"\{([a-z_]+)\}")
MIN_PREFIX = 4  # a shorter prefix would catch unrelated words


@dataclass(frozen=True)
class Term:
    category: str
    tokens: tuple[str, ...]  # normalised words
    prefix: bool  # the last word is a prefix ("suicid*")
    entry: str  # the entry as written, for explanations


@dataclass(frozen=True)
class Lexicon:
    terms: tuple[Term, ...]
    ignores: tuple[Term, ...]  # category GLOBAL applies to all

    def extended(self, extra_terms: Mapping[str, Iterable[str]] | None) -> Lexicon:
        """A copy with a server's extra terms added (validated like the shipped ones)."""
        if not extra_terms:
            return self
        if not isinstance(extra_terms, Mapping):
            raise ConfigError("content_notes.extra_terms must be a table of category = [terms]")
        added: list[Term] = []
        for category, entries in extra_terms.items():
            path = f"content_notes.extra_terms.{category}"
            if category not in BY_ID or category == "other":
                known = ", ".join(c for c in BY_ID if c != "other")
                raise ConfigError(f"{path}: unknown category {category!r} (known: {known})")
            if isinstance(entries, str) or not isinstance(entries, Iterable):
                raise ConfigError(f"{path} must be a list of words or phrases")
            for entry in entries:
                if not isinstance(entry, str):
                    raise ConfigError(f"{path}: {entry!r} is not text")
                added.extend(compile_entry(category, entry, {}, path))
        return Lexicon(self.terms + tuple(added), self.ignores)


def compile_entry(
    category: str, entry: str, groups: Mapping[str, list[str]], where: str
) -> list[Term]:
    """One written entry -> the terms it stands for (group expansion, joined form)."""
    expanded = [entry]
    while any(_GROUP.search(e) for e in expanded):
        nxt: list[str] = []
        for e in expanded:
            m = _GROUP.search(e)
            if not m:
                nxt.append(e)
                continue
            if m.group(1) not in groups:
                raise ConfigError(f"{where}: {entry!r} names an unknown group {{{m.group(1)}}}")
            nxt.extend(e[: m.start()] + word + e[m.end() :] for word in groups[m.group(1)])
        expanded = nxt
    out: list[Term] = []
    for e in expanded:
        text = e.strip()
        prefix = text.endswith("*")
        tokens = normalise_phrase(text.rstrip("*"))
        if not tokens:
            raise ConfigError(f"{where}: {entry!r} has no words")
        if any("*" in t for t in tokens):
            raise ConfigError(f"{where}: {entry!r}: '*' is only allowed at the end")
        if prefix and len(tokens[-1]) < MIN_PREFIX:
            raise ConfigError(f"{where}: {entry!r}: a prefix needs at least {MIN_PREFIX} letters")
        if prefix:
            # The prefix itself must not be plural-folded: "abus*" stays "abus".
            raw_last = text.rstrip("*").split()[-1].split("-")[-1]
            tokens = (*tokens[:-1], _fold_only(raw_last))
        out.append(Term(category, tokens, prefix, e))
        if len(tokens) > 1:
            # "mental health" also matches "#mentalhealth" / "mentalhealth".
            out.append(Term(category, ("".join(tokens),), prefix, e))
    return out


def _fold_only(word: str) -> str:
    return deleet(fold(word).replace("'", "").replace("’", ""))


def parse_lexicon(data: Mapping[str, Any], where: str = "lexicon") -> Lexicon:
    groups_raw = data.get("groups", {})
    if not isinstance(groups_raw, Mapping):
        raise ConfigError(f"{where}: [groups] must be a table")
    groups: dict[str, list[str]] = {}
    for name, words in groups_raw.items():
        if not isinstance(words, list) or not all(isinstance(w, str) for w in words):
            raise ConfigError(f"{where}: groups.{name} must be a list of words")
        groups[name] = words
    terms: list[Term] = []
    ignores: list[Term] = []
    for key, section in data.items():
        if key == "groups":
            continue
        if key != "global" and (key not in BY_ID or key == "other"):
            raise ConfigError(f"{where}: unknown category [{key}]")
        if not isinstance(section, Mapping):
            raise ConfigError(f"{where}: [{key}] must be a table")
        category = GLOBAL if key == "global" else key
        for field_name, sink in (("terms", terms), ("ignore", ignores)):
            entries = section.get(field_name, [])
            if not isinstance(entries, list) or not all(isinstance(e, str) for e in entries):
                raise ConfigError(f"{where}: {key}.{field_name} must be a list of phrases")
            if category == GLOBAL and field_name == "terms" and entries:
                raise ConfigError(f"{where}: [global] takes only ignore phrases")
            for entry in entries:
                sink.extend(compile_entry(category, entry, groups, f"{where}: {key}"))
    return Lexicon(tuple(terms), tuple(ignores))


_SHIPPED: Lexicon | None = None


def shipped_lexicon() -> Lexicon:
    """The lexicon shipped with the package (parsed once)."""
    global _SHIPPED
    if _SHIPPED is None:
        raw = resources.files("cogs.content_notes").joinpath("lexicon.toml").read_text("utf-8")
        _SHIPPED = parse_lexicon(tomllib.loads(raw), "lexicon.toml")
    return _SHIPPED


def load_lexicon(extra_terms: Mapping[str, Iterable[str]] | None = None) -> Lexicon:
    return shipped_lexicon().extended(extra_terms)
