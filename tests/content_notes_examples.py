"""Indirect wording for tests of the content-notes model tier. Which of these the shipped
model flags moves a little with each retraining, so a test takes the first the lexicon
misses and the model suggests, instead of pinning one sentence to one category."""

from __future__ import annotations

from cogs.content_notes.annotate import text_notes
from cogs.content_notes.classifier import Classifier
from cogs.content_notes.model import NoteModel, shipped_model

INDIRECT = (
    "the smell of his cologne still sends me straight back there",
    "I flinch when someone raises their voice, thanks dad",
    "my hands shake every time a door slams, years later",
    "I keep a bag packed by the door just in case he comes back",
    "she decided which friends I could keep and read every message",
    "he locked me out on the balcony when I talked back",
    "if dinner was late he would go silent and then the shouting started",
)


def model_only(model: NoteModel | None = None) -> tuple[str, str]:
    """(text, category): a post only the model notices, with exactly one suggestion."""
    model = model or shipped_model()
    lexicon = Classifier.default()
    for text in INDIRECT:
        if text_notes(text, lexicon):
            continue
        suggested = model.suggest(text)
        if len(suggested) == 1:
            return text, suggested[0].category
    raise AssertionError("the model notices none of the indirect examples")
