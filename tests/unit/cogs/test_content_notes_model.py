"""The model tier of content notes: suggestions for indirect wording that name their words,
never a spoiler or a hidden post on their own, a model file checked before use, training
that gives the same model twice, and a shipped model trained only on studied splits."""

from __future__ import annotations

import gzip
import hashlib
import json
import sys
from pathlib import Path

import pytest

from bot.errors import ConfigError
from bot.models import ContentNote
from cogs.content_notes.annotate import merge_notes, text_notes
from cogs.content_notes.classifier import Classifier
from cogs.content_notes.model import ModelError, NoteModel, configured_model, shipped_model
from cogs.content_notes.policy import ScopePolicy, decide

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))

from benchmarks.content_notes_splits import BY_NAME, STUDIED  # noqa: E402
from tests.content_notes_examples import INDIRECT, model_only  # noqa: E402


def test_indirect_wording_gets_a_suggestion_naming_its_words() -> None:
    model = shipped_model()
    noticed = 0
    for text in INDIRECT:
        for suggestion in model.suggest(text):
            noticed += 1
            note = suggestion.note()
            assert (note.origin, note.category) == ("model", suggestion.category)
            assert suggestion.probability >= model.threshold
            words = note.reason.split(", ")
            assert 1 <= len(words) <= 3 and all(w in text for w in words), (text, note)
            assert not {w.lower() for w in words} & {"he", "she", "my", "the", "i"}
    assert noticed >= 1
    # The lexicon finds none of what the example the tests use has.
    text, category = model_only(model)
    assert text_notes(text, Classifier.default()) == ()
    assert [s.category for s in model.suggest(text)] == [category]


EVERYDAY = (
    "we scattered the wildflower seeds along the fence",
    "skipped lunch because the meeting ran over",
    "the knife went through the onion like butter",
    "my grandad taught me to fish",
    "patch notes are out and the healer nerf is brutal",
    "here you go",
    "congrats on the new job!!",
    "the train is late again, third time this week",
    "thanks, that fixed it",
    "our cat knocked the plant off the shelf at 3am",
    "nervous about my talk tomorrow but the slides are done",
    "sad the holiday is over, back to emails",
)


def test_everyday_posts_and_look_alikes_get_no_suggestion() -> None:
    """A regression guard, not a pinned list: the model is retrained, and a post or two
    near a topic may flip, but everyday posts must stay nearly all quiet."""
    model = shipped_model()
    flagged = {text: model.suggest(text) for text in EVERYDAY if model.suggest(text)}
    assert len(flagged) <= 1, flagged


def test_a_suggestion_is_a_label_never_a_spoiler_or_a_hidden_post() -> None:
    strict = ScopePolicy(actions={"abuse": "hide", "suicide": "warn"}, support_line="Call 988")
    alone = decide(strict, [ContentNote("abuse", "model", "texts, friends")])
    assert alone.action == "note"
    assert alone.label == "Suggested content note (unchecked): abuse"
    assert alone.support_line is None
    # Beside a checked note, the checked note decides; the suggestion is named after it.
    mixed = decide(
        strict, [ContentNote("trauma", "auto", "ptsd"), ContentNote("suicide", "model", "tired")]
    )
    assert mixed.action == "note"
    assert mixed.label == "Content note: trauma; suggested (unchecked): suicide"
    assert mixed.support_line is None  # the support line waits for a checked suicide note
    # A category the server shows is not suggested either.
    shown = ScopePolicy(actions={"abuse": "show"})
    assert decide(shown, [ContentNote("abuse", "model", "texts")]).action == "show"


def test_a_checked_note_replaces_the_suggestion_of_its_category() -> None:
    merged = merge_notes(
        [
            ContentNote("abuse", "model", "texts"),
            ContentNote("abuse", "moderator", "controlling ex"),
        ]
    )
    assert merged == (ContentNote("abuse", "moderator", "controlling ex"),)
    # Where the lexicon and the model find the same category in one text, the lexicon's
    # note stands, its words named; the model adds only what the lexicon did not find.
    lexicon, model = Classifier.default(), shipped_model()
    explicit = "I attempted suicide last year and I'm still here"
    assert "suicide" in {s.category for s in model.suggest(explicit)}
    notes = text_notes(explicit, lexicon, model)
    assert [(n.category, n.origin) for n in notes] == [("suicide", "auto")]
    text, category = model_only(model)
    assert [(n.category, n.origin) for n in text_notes(text, lexicon, model)] == [
        (category, "model")
    ]


def test_a_model_file_that_cannot_be_used_is_a_config_error_naming_the_key(
    tmp_path: Path,
) -> None:
    assert configured_model(False) is None
    assert configured_model(True) is shipped_model()
    broken = tmp_path / "model.json.gz"
    broken.write_bytes(b"not gzip")
    with pytest.raises(ConfigError, match=r"content_notes\.model: .*set model = false"):
        configured_model(True, broken)


def _write(path: Path, payload: object) -> Path:
    path.write_bytes(gzip.compress(json.dumps(payload).encode()))
    return path


def test_a_damaged_or_foreign_model_file_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    shipped = shipped_model()
    good = shipped.to_dict()
    again = NoteModel.from_dict(good)
    text = "three years since the funeral and I still set out his mug"
    assert again.probabilities(text) == shipped.probabilities(text)
    plain = tmp_path / "plain.json.gz"
    plain.write_text("{}")
    cut = good["weights"][: len(good["weights"]) // 2]  # base64 of whole floats, half of them
    cases = {
        plain: "not a content-notes model",
        _write(tmp_path / "list.gz", [1, 2]): "not a content-notes model of format 2",
        _write(tmp_path / "old.gz", {**good, "format": 1}): "not a content-notes model of format 2",
        _write(tmp_path / "cats.gz", {**good, "categories": ["nope"]}): "unknown categories",
        _write(tmp_path / "short.gz", {**good, "weights": cut}): "damaged model",
        _write(tmp_path / "text.gz", {**good, "idf": "not base64!"}): "damaged model",
        _write(tmp_path / "nums.gz", {**good, "idf": [1.0, 2.0]}): "damaged model",
        _write(tmp_path / "cut.gz", {**good, "threshold": 2}): "bias or threshold",
        _write(tmp_path / "bias.gz", {**good, "bias": "x"}): "damaged model",
        _write(tmp_path / "gone.gz", {k: v for k, v in good.items() if k != "bias"}): "damaged",
        tmp_path / "missing.gz": "not a content-notes model",
    }
    for path, message in cases.items():
        with pytest.raises(ModelError, match=message):
            NoteModel.load(path)


def test_the_shipped_model_was_trained_on_every_studied_split_as_it_is_now() -> None:
    """Training on a split nobody has studied would make its figures worthless; a split
    edited since training means the shipped weights no longer match the data."""
    trained_on = shipped_model().meta["trained_on"]
    assert set(trained_on) == {s.name for s in STUDIED}
    for name, digest in trained_on.items():
        now = hashlib.sha256(BY_NAME[name].path.read_bytes()).hexdigest()
        assert now == digest, f"{name} changed: run python -m benchmarks.content_notes_model"


def test_training_gives_the_same_model_twice_and_it_survives_a_round_trip(tmp_path: Path) -> None:
    from benchmarks.content_notes_eval import load
    from benchmarks.content_notes_model import train

    rows = load(BY_NAME["fresh"].path)
    one, two = train(rows, 0.7), train(rows, 0.7)
    assert one.to_dict() == two.to_dict()
    one.save(tmp_path / "m.json.gz")
    again = NoteModel.load(tmp_path / "m.json.gz")
    text = rows[0][0]
    assert again.probabilities(text) == pytest.approx(one.probabilities(text), abs=1e-3)
    # Trained on its own posts, it finds most of their labels again.
    hits = sum(
        1 for t, labels, *_ in rows if labels and labels <= {s.category for s in again.suggest(t)}
    )
    assert hits >= 0.8 * sum(1 for _, labels, *_ in rows if labels)
