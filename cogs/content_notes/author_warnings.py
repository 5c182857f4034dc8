"""Authors' own warnings -> categories, always keeping the author's words as the reason.

Warnings arrive from sources as ``ContentNote("other", "author", <words>)`` (a Mastodon
``spoiler_text``, a Bluesky self-label) or as a "CW: ..." / "TW: ..." line opening a post.
Community short forms ("sui", "sh", "ed", "mh") are trusted here, inside a warning, where
they cannot mean anything else.
"""

from __future__ import annotations

import re

from bot.models import ContentNote
from cogs.content_notes.categories import ABBREVIATIONS, ORDER
from cogs.content_notes.classifier import Classifier

# "CW: ...", "TW - ...", "cw/tw: ...", "[CW suicide]", "(tw: sh)", "content warning: ...".
_PREFIX = re.compile(
    r"""^\s*(?P<open>[\[(])?\s*
    (?:(?:cw|tw|cn)(?:\s*/\s*(?:cw|tw|cn))?|content\s+warnings?|trigger\s+warnings?|content\s+notes?)
    (?(open)\s*[:\-–—|/]*\s*|\s*(?::|-+|–|—|//|\|)\s*)
    (?P<words>[^\n]*)""",
    re.IGNORECASE | re.VERBOSE,
)
# "tw sh // text": the warning ends at a double slash or a bar.
_SLASHED = re.compile(r"^\s*(?:cw|tw)\s+(?P<words>[^\n/|]{1,80}?)\s*(?://|\|)", re.IGNORECASE)
_SEPARATORS = re.compile(r"\s*(?:[,;/+&|•·]|\band\b|\n)\s*", re.IGNORECASE)
# Words that qualify a topic without changing it ("sui mention", "brief ed talk").
_FILLER = frozenset(
    [
        "cw",
        "tw",
        "cn",
        "content",
        "trigger",
        "warning",
        "warnings",
        "note",
        "notes",
        "mention",
        "mentions",
        "mentioned",
        "mentioning",
        "ment",
        "discussion",
        "discussed",
        "discussing",
        "discuss",
        "talk",
        "talking",
        "talks",
        "of",
        "about",
        "ref",
        "refs",
        "reference",
        "references",
        "referenced",
        "implied",
        "implication",
        "implications",
        "brief",
        "briefly",
        "vague",
        "vaguely",
        "heavy",
        "heavily",
        "topic",
        "topics",
        "theme",
        "themes",
        "related",
        "stuff",
        "etc",
        "mild",
        "minor",
        "major",
        "light",
        "some",
        "lots",
        "re",
        "the",
        "a",
        "an",
        "my",
        "in",
        "on",
    ]
)
_MAX_WORDS = 300
_LABEL = re.compile(
    r"^\s*(?:cw|tw|cn|content\s+warnings?|trigger\s+warnings?|content\s+notes?)\s*[:\-–—]\s*",
    re.IGNORECASE,
)


def prefix_warning(text: str) -> str | None:
    """The words of a "CW:"/"TW:" line opening a post, or None."""
    m = _PREFIX.match(text)
    if not m:
        slashed = _SLASHED.match(text)
        return slashed.group("words").strip() if slashed else None
    words = m.group("words")
    if m.group("open"):
        closing = "]" if m.group("open") == "[" else ")"
        if closing not in words:
            return None
        words = words.split(closing, 1)[0]
    else:
        # One line; a sentence after the warning on the same line is not part of it.
        words = re.split(r"(?<=[.!?])\s", words, maxsplit=1)[0].rstrip(".!?")
    words = words.strip()
    return words[:_MAX_WORDS] if words else None


def _part_key(part: str) -> list[str]:
    words = re.findall(r"[\w'’-]+", part.lower())
    return [w.replace("’", "'") for w in words if w not in _FILLER]


def _category_of(part: str, classifier: Classifier) -> str | None:
    words = _part_key(part)
    if not words:
        return None
    joined = " ".join(words).replace("-", " ")
    for key in (joined, joined.replace(" ", "")):
        if key in ABBREVIATIONS:
            return ABBREVIATIONS[key]
    for w in words:
        key = w.replace("-", " ")
        if key in ABBREVIATIONS:
            return ABBREVIATIONS[key]
    notes = classifier.classify(part)
    return notes[0].category if notes else None


def map_warning(words: str, classifier: Classifier) -> tuple[ContentNote, ...]:
    """One author warning -> notes: one per category it names (reason: all the author's
    words) plus "other" for the parts that name none (reason: those parts)."""
    words = " ".join(words.split()) if "\n" not in words else words.strip()
    if not words:
        return ()
    found: list[str] = []
    unmapped: list[str] = []
    for part in _SEPARATORS.split(words):
        part = _LABEL.sub("", part).strip(" .:-–—()[]")
        if not part:
            continue
        cat = _category_of(part, classifier)
        if cat is None:
            unmapped.append(part)
        elif cat not in found:
            found.append(cat)
    reason = " ".join(words.split())
    notes = [ContentNote(c, "author", reason) for c in sorted(found, key=ORDER.__getitem__)]
    if unmapped:
        notes.append(ContentNote("other", "author", reason if not found else ", ".join(unmapped)))
    return tuple(notes)


def map_author_notes(
    notes: tuple[ContentNote, ...], classifier: Classifier
) -> tuple[ContentNote, ...]:
    """Source-supplied notes: author "other" notes are mapped; anything else is kept."""
    out: list[ContentNote] = []
    for note in notes:
        if note.origin == "author" and note.category == "other":
            mapped = map_warning(note.reason, classifier)
            out.extend(mapped or (note,))
        else:
            out.append(note)
    return tuple(out)
