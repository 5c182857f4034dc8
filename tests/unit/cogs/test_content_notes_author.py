"""Author warnings: Mastodon content warnings, Bluesky self-labels and "CW:"/"TW:" lines
map to categories where they can, and always keep the author's words as the reason."""

from __future__ import annotations

import pytest

from bot.models import Author, ContentNote, Post, Thread
from cogs.content_notes.annotate import annotate, text_notes
from cogs.content_notes.author_warnings import map_author_notes, map_warning, prefix_warning
from cogs.content_notes.classifier import Classifier


@pytest.fixture(scope="module")
def clf() -> Classifier:
    return Classifier.default()


def author_note(words: str) -> ContentNote:
    return ContentNote("other", "author", words)


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        ("sui", ["suicide"]),
        ("sui mention", ["suicide"]),
        ("sh", ["self-harm"]),
        ("ed", ["eating-disorders"]),
        ("mh", ["mental-health"]),
        ("ptsd", ["trauma"]),
        ("csa", ["sexual-violence"]),
        ("sa mention", ["sexual-violence"]),
        ("dv", ["abuse"]),
        ("drugs, alcohol", ["substance-use"]),
        ("death", ["death-grief"]),
        ("mh, sui, sh", ["suicide", "self-harm", "mental-health"]),
        ("si/sh", ["suicide", "self-harm"]),
        ("brief ed talk", ["eating-disorders"]),
        ("mentions of my psychiatrist", ["mental-health"]),
        ("eating disorder recovery", ["eating-disorders"]),
        ("suicide & self harm", ["suicide", "self-harm"]),
        ("CW: mental health", ["mental-health"]),
    ],
)
def test_mastodon_spoiler_text_maps_and_keeps_the_words(
    clf: Classifier, words: str, expected: list[str]
) -> None:
    notes = map_author_notes((author_note(words),), clf)
    assert [n.category for n in notes] == expected
    assert all(n.origin == "author" and n.reason == words for n in notes)


def test_unmapped_warnings_stay_other_with_the_authors_words(clf: Classifier) -> None:
    notes = map_author_notes((author_note("injury statistics, road crashes"),), clf)
    assert notes == (ContentNote("other", "author", "injury statistics, road crashes"),)
    notes = map_warning("uspol, sui", clf)
    assert notes == (
        ContentNote("suicide", "author", "uspol, sui"),
        ContentNote("other", "author", "uspol"),
    )


@pytest.mark.parametrize("label", ["graphic-media", "sexual", "nudity", "porn"])
def test_bluesky_self_labels_keep_their_value(clf: Classifier, label: str) -> None:
    assert map_author_notes((author_note(label),), clf) == (author_note(label),)


def test_notes_from_other_origins_pass_through(clf: Classifier) -> None:
    mod = ContentNote("trauma", "moderator", "graphic account")
    assert map_author_notes((mod,), clf) == (mod,)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("CW: suicide\nI have been struggling", "suicide"),
        ("TW: sh. Today was hard", "sh"),
        ("tw - ed\nfood talk", "ed"),
        ("cw/tw: mh, sui\n...", "mh, sui"),
        ("[CW mh, sui] long thread", "mh, sui"),
        ("(tw: eating disorder) text", "eating disorder"),
        ("Content warning: abuse\n", "abuse"),
        ("Trigger warning - child death", "child death"),
        ("tw sh // I'm okay now", "sh"),
    ],
)
def test_cw_and_tw_prefixes_in_text(text: str, words: str) -> None:
    assert prefix_warning(text) == words


@pytest.mark.parametrize(
    "text", ["CN Tower is tall", "tw is a great abbreviation", "[cw unclosed", "cw:", "Hello CW: x"]
)
def test_text_without_a_warning_prefix(text: str) -> None:
    assert prefix_warning(text) is None


def test_prefix_warning_is_an_author_note_and_wins_over_auto(clf: Classifier) -> None:
    notes = text_notes("TW: sui\nI attempted suicide in 2019 and my therapist helped.", clf)
    by_cat = {n.category: n for n in notes}
    assert by_cat["suicide"] == ContentNote("suicide", "author", "sui")
    assert by_cat["mental-health"].origin == "auto"


def test_thread_keeps_author_notes_per_post(clf: Classifier) -> None:
    author = Author("did:plc:a", "a.example", "A", "https://bsky.app/profile/a.example")
    posts = (
        Post("p1", "u1", author, "2026-01-01T00:00Z", "Part one", content_notes=()),
        Post("p2", "u2", author, "2026-01-01T00:01Z", "Part 2", content_notes=(author_note("sh"),)),
        Post("p3", "u3", author, "2026-01-01T00:02Z", "Part three"),
    )
    thread = annotate(Thread("bluesky", "u1", "p1", author, posts), clf)
    assert thread.content_notes == (ContentNote("self-harm", "author", "sh"),)
    assert dict(thread.post_notes) == {"p2": (ContentNote("self-harm", "author", "sh"),)}


def test_many_distinct_author_warnings_are_summarised(clf: Classifier) -> None:
    author = Author("a", "a.example", "A", "https://a.example")
    posts = tuple(
        Post(f"p{i}", f"u{i}", author, "t", "text", content_notes=(author_note(f"topic {i}"),))
        for i in range(6)
    )
    thread = annotate(Thread("mastodon", "u0", "p0", author, posts), clf)
    assert thread.content_notes == (
        ContentNote("other", "author", "topic 0; topic 1; topic 2 (+3 more)"),
    )
    assert len(thread.post_notes) == 6
