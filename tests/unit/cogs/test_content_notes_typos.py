"""A one-letter slip does not hide a topic, and a real word is never "corrected" into one."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from cogs.content_notes.annotate import text_notes
from cogs.content_notes.classifier import Classifier
from cogs.content_notes.lexicon import shipped_lexicon
from cogs.content_notes.normalize import tokenize
from cogs.content_notes.typos import TypoReader, lexicon_words, one_edit, shipped_real_words

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def classifier() -> Classifier:
    return Classifier.default()


def notes(classifier: Classifier, text: str) -> dict[str, str]:
    return {n.category: n.reason for n in text_notes(text, classifier)}


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("suicide", "sucide", True),  # a letter missing
        ("cutting", "cuttting", True),  # a letter doubled
        ("restricting", "retsricting", True),  # two neighbours swapped
        ("panic", "painc", True),
        ("flashback", "flashbeck", True),  # a wrong letter
        ("panic", "panic", False),  # the same word is no typo
        ("restricting", "rsetrcting", False),  # two slips
        ("grief", "brief", True),  # one edit, but a real word: see the reader tests
    ],
)
def test_one_edit(a: str, b: str, expected: bool) -> None:
    assert one_edit(a, b) is expected
    assert one_edit(b, a) is expected


@pytest.mark.parametrize(
    ("text", "category", "quoted"),
    [
        ("retsricting food again, I know, I know", "eating-disorders", "retsricting food"),
        ("had a painc attack in the queue and left", "mental-health", "painc attack"),
        ("first summer in shorts since i stopped cuting", "self-harm", "stopped cuting"),
        ("survivor of sexul assault here, the trial starts monday", "sexual-violence", "sexul"),
        ("dperessed for weeks, can't get out of bed", "mental-health", "dperessed"),
        ("my grandpa pased away on sunday", "death-grief", "pased away"),
    ],
)
def test_a_typo_of_a_lexicon_word_is_read_as_the_word(
    classifier: Classifier, text: str, category: str, quoted: str
) -> None:
    found = notes(classifier, text)
    assert category in found, found
    assert quoted in found[category]  # the note quotes the words as the author typed them


@pytest.mark.parametrize(
    "text",
    [
        "dyeing my hair purple this weekend",  # "dyeing" is a word, not "dying"
        "the curing time for this resin is two days",  # not "cutting"
        "a brief note on the release",  # not "grief"
        "the panics over the release were overblown",  # real plural, stays
        "overdosed on caffine again lol",  # a typo inside a harmless phrase cancels it too
    ],
)
def test_real_words_and_harmless_contexts_stay_quiet(classifier: Classifier, text: str) -> None:
    assert notes(classifier, text) == {}


def test_short_ambiguous_and_censored_words_are_left_alone() -> None:
    reader = TypoReader({"panic", "manic", "sober"}, frozenset())
    assert reader.correct("pani") is None  # four letters: nearly every neighbour is a word
    assert reader.correct("panic") is None  # already a lexicon word
    assert reader.correct("xanic") is None  # one edit from both panic and manic
    assert reader.correct("soebr") == "sober"
    # between two readings, the one that keeps the typed first (then last) letter
    both = TypoReader({"passed", "based", "sexual", "sexually"}, frozenset())
    assert both.correct("pased") == "passed"
    assert both.correct("sexualy") == "sexually"
    [tok] = reader.read(tokenize("s*ber"))
    assert tok.norm == "s*ber"  # censored spellings are matched by their own rule


def test_every_english_neighbour_of_a_lexicon_word_is_listed() -> None:
    """The list of real words ships with the bot; it must match the lexicon it guards."""
    pytest.importorskip("spellchecker")
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks.content_notes_words", "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_real_word_list_is_not_in_the_lexicon() -> None:
    words = lexicon_words(shipped_lexicon())
    real = shipped_real_words()
    assert len(real) > 500
    assert not real & words
