"""The labelled splits of the content-notes benchmark, in the order they were written: one
table for the corpus build (``content_notes_corpus``) and the evaluation
(``content_notes_eval``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"


@dataclass(frozen=True)
class Split:
    name: str
    history: str  # how it was written and what the lexicon's tuning saw of it
    seed: int | None = None  # built from the corpus's posts with this seed; None: by hand
    # Open to training the model (and to tuning the lexicon): read by the lexicon's authors
    # or written as training material. A split that is not is only ever measured.
    studied: bool = True
    # Held to the lexicon's regression thresholds in tests: the splits it was tuned on.
    guarded: bool = True

    @property
    def path(self) -> Path:
        return DATA / f"content_notes_{self.name}.jsonl"


SPLITS: tuple[Split, ...] = (
    Split("dev", "used while writing the lexicon", seed=31),
    Split(
        "test",
        "written before the first tuning, then studied for the kinds of wording it misses",
        seed=13,
    ),
    Split(
        "fresh",
        "written and committed before the second round of tuning; its errors were never "
        "studied, but the same hand wrote it just before writing the patterns",
    ),
    Split(
        "blind",
        "written after the second round, in wording chosen apart from the lexicon, committed "
        "before the third round of tuning",
    ),
    Split(
        "ahead",
        "written and committed before the fourth round, without reading the lexicon; its "
        "errors were studied in the fifth round, so its figures since are tuned ones",
    ),
    Split(
        "later",
        "written by a different hand than the lexicon's, without reading the lexicon or the "
        "other splits, and committed before the fifth round of tuning; its errors were "
        "studied in the sixth round, so its figures since are tuned ones",
    ),
    Split(
        "beyond",
        "forum-style posts and replies, written by another hand apart from the lexicon and the "
        "other splits, and committed before the sixth round of tuning",
        studied=False,
    ),
    Split(
        "onward",
        "short social posts, written by yet another hand apart from the lexicon and the other "
        "splits, and committed before the sixth round of tuning",
        studied=False,
    ),
    Split(
        "train_a",
        "long-form personal writing, written by another hand as training material for the "
        "model; the lexicon's authors read only the notes it wrongly gave neutral posts "
        "(seventh round)",
        studied=True,
        guarded=False,
    ),
    Split(
        "train_b",
        "news, comment sections, fandom tags, group chats and worried friends' questions, "
        "written by another hand as training material for the model; the lexicon's authors "
        "read only the notes it wrongly gave neutral posts (seventh round)",
        studied=True,
        guarded=False,
    ),
    Split(
        "train_c",
        "short social posts (replies, thread fragments, algospeak), "
        "written by another hand as training material for the model; the lexicon's authors "
        "read only the notes it wrongly gave neutral posts (seventh round)",
        studied=True,
        guarded=False,
    ),
    Split(
        "train_d",
        "a mix of registers (forum comments, group chats, captions, poems, journals) and voices, "
        "written by another hand as training material for the model; the lexicon's authors "
        "read only the notes it wrongly gave neutral posts (seventh round)",
        studied=True,
        guarded=False,
    ),
    Split(
        "train_e",
        "everyday neutral posts (replies, thanks, work, hobbies, news), written by another "
        "hand as training material for the model; the lexicon's authors read only the notes "
        "it wrongly gave them (seventh round)",
        studied=True,
        guarded=False,
    ),
    Split(
        "train_f",
        "longer everyday neutral posts (work, software, academia, plans, news), written by "
        "another hand as training material for the model; the lexicon's authors never read it",
        studied=True,
        guarded=False,
    ),
)
BY_NAME = {s.name: s for s in SPLITS}
HELD_OUT = tuple(s for s in SPLITS if s.seed is None)  # written by hand as they stand
STUDIED = tuple(s for s in SPLITS if s.studied)
UNSTUDIED = tuple(s for s in SPLITS if not s.studied)
GUARDED = tuple(s for s in SPLITS if s.studied and s.guarded)
