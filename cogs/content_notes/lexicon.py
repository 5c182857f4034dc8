"""The detection lexicon: the shipped ``lexicon.toml`` plus per-server extra terms.

Entry syntax (the same in the data file and in ``[content_notes] extra_terms``):
``"eating disorder"`` matches the words in order, plurals and case folded, and also the
joined form (``#eatingdisorders``); a trailing ``*`` matches word endings of up to six
letters (``suicid*`` -> suicidal, suicidality); ``{kin}`` expands to every word of a group
from the ``[groups]`` table; ``{my|your|her}`` lists alternatives in place, and an empty
alternative makes the slot optional (``cut {|myself} again``). ``A ~N B`` is a proximity
rule: phrase A with phrase B at most N words before or after it ("restricting ~5 {food}"),
so a common word counts only in its telling company. ``ignore`` phrases cancel a match
they overlap ("dying to see it"), per category or under ``[global]``; an ignore may be a
proximity rule too ("{laptop|phone} ~4 {died}"), cancelling what lies between its halves.
Each category takes ``terms`` (words) and ``patterns`` (phrases and proximity rules), the
same syntax.
"""

from __future__ import annotations

import re
import sys
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from bot.errors import ConfigError
from cogs.content_notes.categories import BY_ID
from cogs.content_notes.normalize import deleet, fold, normalise_phrase

GLOBAL = "*"  # category of ignore phrases that apply to every category
_GROUP = re.compile(r"\{([^{}]*)\}")
_NEAR = re.compile(r"^(?P<a>.*?)\s+~(?P<n>\S*)\s+(?P<b>.*)$")
MAX_NEAR = 12  # words between the two halves of a proximity rule
MIN_PREFIX = 4  # a shorter prefix would catch unrelated words
MAX_JOINED_WORDS = 3  # phrases also matched as one word (a hashtag) ...
MIN_JOINED = 7  # ... when that word is long enough not to be an everyday one


@dataclass(frozen=True, slots=True)  # a hundred thousand of them: no per-object dict
class Term:
    category: str
    tokens: tuple[str, ...]  # normalised words
    prefix: bool  # the last word is a prefix ("suicid*")
    # The entry as written in the lexicon, shared by all its variants: a string per variant
    # took 15 MB across the two hundred thousand of them.
    entry: str
    joined: bool = False  # a phrase's words written as one ("#mentalhealth")


@dataclass(frozen=True)
class NearRule:
    category: str
    left: tuple[Term, ...]
    right: tuple[Term, ...]
    window: int  # most words from the end of one half to the start of the other
    entry: str


@dataclass(frozen=True)
class Lexicon:
    terms: tuple[Term, ...]
    ignores: tuple[Term, ...]  # category GLOBAL applies to all
    near: tuple[NearRule, ...] = ()
    near_ignores: tuple[NearRule, ...] = ()  # "killed ~3 {boss|level}": cancels what it spans
    # The lexicon this one adds to (its entries come first in each list): a matcher reuses
    # the base's trie and builds a small one for the rest.
    base: Lexicon | None = field(default=None, compare=False, repr=False)
    # The named word groups ("{kin}") a server's extra terms may use too.
    groups: Mapping[str, list[str]] = field(default_factory=dict, compare=False, repr=False)

    def extended(self, extra_terms: Mapping[str, Iterable[str]] | None) -> Lexicon:
        """A copy with a server's extra terms added (validated like the shipped ones)."""
        if not extra_terms:
            return self
        if not isinstance(extra_terms, Mapping):
            raise ConfigError("content_notes.extra_terms must be a table of category = [terms]")
        added: list[Term] = []
        near: list[NearRule] = []
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
                compile_any(category, entry, self.groups, path, added, near)
        return Lexicon(
            self.terms + tuple(added),
            self.ignores,
            self.near + tuple(near),
            self.near_ignores,
            base=self,
            groups=self.groups,
        )


def compile_any(
    category: str,
    entry: str,
    groups: Mapping[str, list[str]],
    where: str,
    terms: list[Term],
    near: list[NearRule],
) -> None:
    """A term or phrase into ``terms``, a proximity rule (``A ~N B``) into ``near``."""
    if "~" not in entry:
        terms.extend(compile_entry(category, entry, groups, where))
        return
    m = _NEAR.match(entry.strip())
    if not m or not m.group("a").strip() or not m.group("b").strip():
        raise ConfigError(f"{where}: {entry!r}: a proximity rule reads 'phrase ~N phrase'")
    if not m.group("n").isdigit() or not 1 <= int(m.group("n")) <= MAX_NEAR:
        raise ConfigError(
            f"{where}: {entry!r}: '~' must be followed by a number of words from 1 to {MAX_NEAR}"
        )
    if "~" in m.group("b"):
        raise ConfigError(f"{where}: {entry!r}: a proximity rule joins only two phrases")
    left = tuple(compile_entry(category, m.group("a"), groups, where))
    right = tuple(compile_entry(category, m.group("b"), groups, where))
    near.append(NearRule(category, left, right, int(m.group("n")), entry))


def compile_entry(
    category: str, entry: str, groups: Mapping[str, list[str]], where: str
) -> list[Term]:
    """One written entry -> the terms it stands for (group expansion, joined form)."""
    expanded = [entry]
    while True:
        found = [_GROUP.search(e) for e in expanded]  # each variant's first group
        if not any(found):
            break
        nxt: list[str] = []
        for e, m in zip(expanded, found, strict=True):
            if not m:
                nxt.append(e)
                continue
            if "|" in m.group(1):
                nxt.extend(e[: m.start()] + word + e[m.end() :] for word in m.group(1).split("|"))
                continue
            if m.group(1) not in groups:
                raise ConfigError(f"{where}: {entry!r} names an unknown group {{{m.group(1)}}}")
            nxt.extend(e[: m.start()] + word + e[m.end() :] for word in groups[m.group(1)])
        expanded = list(dict.fromkeys(nxt))  # "{a|b {kin}}" repeats "a" once per kin
    out: list[Term] = []
    for e in expanded:
        text = e.strip()
        prefix = text.endswith("*")
        body = text.rstrip("*") if prefix else text
        tokens = normalise_phrase(body)
        if not tokens:
            raise ConfigError(f"{where}: {entry!r} has no words")
        if "*" in body and any("*" in t for t in tokens):
            raise ConfigError(f"{where}: {entry!r}: '*' is only allowed at the end")
        if prefix and len(tokens[-1]) < MIN_PREFIX:
            raise ConfigError(f"{where}: {entry!r}: a prefix needs at least {MIN_PREFIX} letters")
        if prefix:
            # The prefix itself must not be plural-folded: "abus*" stays "abus".
            raw_last = body.split()[-1].split("-")[-1]
            tokens = (*tokens[:-1], sys.intern(_fold_only(raw_last)))
        out.append(Term(category, tokens, prefix, entry))
        if 1 < len(tokens) <= MAX_JOINED_WORDS:
            joined = "".join(tokens)
            if len(joined) >= MIN_JOINED and min(map(len, tokens)) > 1:
                # "mental health" also matches "#mentalhealth" / "mentalhealth"; a long or
                # short-worded phrase ("was sa" -> "wassa") is never written as one word.
                out.append(Term(category, (sys.intern(joined),), prefix, entry, joined=True))
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
    near: list[NearRule] = []
    near_ignores: list[NearRule] = []
    for key, section in data.items():
        if key == "groups":
            continue
        if key != "global" and (key not in BY_ID or key == "other"):
            raise ConfigError(f"{where}: unknown category [{key}]")
        if not isinstance(section, Mapping):
            raise ConfigError(f"{where}: [{key}] must be a table")
        category = GLOBAL if key == "global" else key
        unknown = set(section) - {"terms", "patterns", "ignore"}
        if unknown:
            raise ConfigError(f"{where}: [{key}] has unknown keys {sorted(unknown)}")
        for field_name, sink in (("terms", terms), ("patterns", terms), ("ignore", ignores)):
            entries = section.get(field_name, [])
            if not isinstance(entries, list) or not all(isinstance(e, str) for e in entries):
                raise ConfigError(f"{where}: {key}.{field_name} must be a list of phrases")
            if category == GLOBAL and field_name != "ignore" and entries:
                raise ConfigError(f"{where}: [global] takes only ignore phrases")
            for entry in entries:
                rules = near_ignores if field_name == "ignore" else near
                compile_any(category, entry, groups, f"{where}: {key}.{field_name}", sink, rules)
    return Lexicon(tuple(terms), tuple(ignores), tuple(near), tuple(near_ignores), groups=groups)


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
