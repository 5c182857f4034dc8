"""The optional second tier of content notes: a small linear model whose notes are
suggestions for moderators (origin ``"model"``), never warnings on their own.

The lexicon only knows the phrases someone wrote down; the model weighs every word, word
pair and piece of a word it saw in the labelled splits, so it also notices indirect
wording ("we scattered her ashes") no phrase names. Its notes name the words that weighed
most, like the lexicon's.

Scoring is plain Python over the shipped weights (``model.json.gz``), so turning it on
(``[content_notes] model = true``) installs and downloads nothing; retraining
(``python -m benchmarks.content_notes_model``) needs the ``model`` extra.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import json
import math
import sys
from array import array
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from bot.errors import ConfigError
from bot.models import ContentNote
from cogs.content_notes.categories import CATEGORY_IDS
from cogs.content_notes.normalize import tokenize

SHIPPED = Path(__file__).with_name("model.json.gz")
FORMAT = 2  # 2: float32 arrays, little-endian, base64
CHAR_SIZES = (3, 4, 5)
MAX_REASON_WORDS = 3
# Words that weigh in the model ("he", "her" around "friends") but tell a moderator nothing.
_UNTELLING_WORDS = """
a an the and or but so if of to in on at by for with from as is am are was were be
been being i me my mine you your he him his she her hers it its we us our they them
their this that these those there here what who when where how not no do does did have
has had just still very really too all some any one im ive dont cant its id
"""
_UNTELLING = frozenset(_UNTELLING_WORDS.split())
_MAX_CHARS = 20_000  # a post with an essay in its alt texts is scored on its opening


class ModelError(ValueError):
    """A model file that cannot be used (not ours, damaged, or for other categories)."""


@dataclass(frozen=True)
class Features:
    """A text's features, each with the index of the word it came from (a pair counts
    for both of its words), so a suggestion can name the words that weighed most."""

    words: dict[str, tuple[int, ...]]  # "w:ashes", "b:her ashes"
    pieces: dict[str, tuple[int, ...]]  # " as", "ashe", ... (each word padded by spaces)
    spelled: tuple[str, ...]  # each word as written
    normalised: tuple[str, ...]  # each word as matched


def features(text: str) -> Features:
    """Words, word pairs and 3-5 letter pieces of words, as the lexicon normalises them
    (case, accents, plurals, leetspeak, hashtags; links and @mentions skipped)."""
    text = text[:_MAX_CHARS]
    tokens = tokenize(text)
    norms = [t.norm for t in tokens]
    words: dict[str, tuple[int, ...]] = {}
    pieces: dict[str, tuple[int, ...]] = {}
    for i, w in enumerate(norms):
        words.setdefault("w:" + w, (i,))
        padded = f" {w} "
        for n in CHAR_SIZES:
            for s in range(len(padded) - n + 1):
                pieces.setdefault(padded[s : s + n], (i,))
    for i in range(len(norms) - 1):
        words.setdefault(f"b:{norms[i]} {norms[i + 1]}", (i, i + 1))
    spelled = tuple(text[t.start : t.end] for t in tokens)
    return Features(words, pieces, spelled, tuple(norms))


def weighted(
    feats: Features, index: Mapping[str, int], idf: Sequence[float]
) -> list[tuple[str, int, float]]:
    """Each known feature (its row in ``idf``) with its idf weight, the word block and the
    piece block each scaled to unit length (so long posts do not score higher just for
    being long). Training and scoring both weigh through here."""
    out: list[tuple[str, int, float]] = []
    for block in (feats.words, feats.pieces):
        known = [(f, i) for f in block if (i := index.get(f)) is not None]
        norm = math.sqrt(sum(idf[i] ** 2 for _, i in known)) or 1.0
        out.extend((f, i, idf[i] / norm) for f, i in known)
    return out


@dataclass(frozen=True)
class Suggestion:
    category: str
    probability: float
    words: tuple[str, ...]  # as written in the text, the heaviest first

    def note(self) -> ContentNote:
        return ContentNote(self.category, "model", ", ".join(self.words))


class NoteModel:
    """One-vs-rest logistic regression over idf-weighted features.

    Kept as flat float32 arrays behind one index (features in the order of the file): a dict
    of tuples of floats per feature, parsed from JSON numbers, took four times the memory."""

    def __init__(
        self,
        categories: Sequence[str],
        features: Sequence[str],
        idf: array[float],
        rows: array[float],
        bias: Sequence[float],
        threshold: float,
        meta: Mapping[str, Any] | None = None,
    ) -> None:
        self.categories = tuple(categories)
        self._index = {f: i for i, f in enumerate(features)}
        self._idf = idf
        self._rows = rows  # len(categories) weights per feature
        self.bias = tuple(bias)
        self.threshold = threshold
        self.meta = dict(meta or {})

    @classmethod
    def from_weights(
        cls,
        categories: Sequence[str],
        idf: Mapping[str, float],
        weights: Mapping[str, Sequence[float]],
        bias: Sequence[float],
        threshold: float,
        meta: Mapping[str, Any] | None = None,
    ) -> NoteModel:
        """A model from per-feature figures (a feature without weights counts only in a
        post's length)."""
        zero = (0.0,) * len(categories)
        features = list(idf)
        rows = array("f")
        for f in features:
            rows.extend(weights.get(f, zero))
        return cls(categories, features, array("f", idf.values()), rows, bias, threshold, meta)

    @property
    def weighted_features(self) -> int:
        k = len(self.categories)
        return sum(1 for i in range(len(self._idf)) if any(self._rows[i * k : (i + 1) * k]))

    @classmethod
    def load(cls, path: Path = SHIPPED) -> NoteModel:
        try:
            raw = json.loads(gzip.decompress(path.read_bytes()))
        except (OSError, EOFError, gzip.BadGzipFile, json.JSONDecodeError) as exc:
            raise ModelError(f"{path}: not a content-notes model ({exc})") from None
        return cls.from_dict(raw, str(path))

    @classmethod
    def from_dict(cls, raw: object, where: str = "model") -> NoteModel:
        if not isinstance(raw, dict) or raw.get("format") != FORMAT:
            raise ModelError(f"{where}: not a content-notes model of format {FORMAT}")
        try:
            cats = [str(c) for c in raw["categories"]]
            unknown = set(cats) - set(CATEGORY_IDS)
            if unknown or not cats:
                raise ModelError(f"{where}: unknown categories {sorted(unknown)}")
            features = str(raw["features"]).split("\n")
            idf, rows = _floats(raw["idf"]), _floats(raw["weights"])
            bias = [float(x) for x in raw["bias"]]
            threshold = float(raw["threshold"])
        except ModelError:
            raise
        except (KeyError, TypeError, ValueError, AttributeError, binascii.Error) as exc:
            raise ModelError(f"{where}: damaged model ({exc!r})") from None
        if len(idf) != len(features) or len(rows) != len(features) * len(cats):
            raise ModelError(
                f"{where}: damaged model ({len(features)} features, {len(idf)} idf values, "
                f"{len(rows)} weights for {len(cats)} categories)"
            )
        if len(bias) != len(cats) or not 0 < threshold < 1:
            raise ModelError(f"{where}: damaged model (bias or threshold)")
        return cls(cats, features, idf, rows, bias, threshold, raw.get("meta"))

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "categories": list(self.categories),
            "threshold": self.threshold,
            "bias": [round(b, 6) for b in self.bias],
            "meta": self.meta,
            "features": "\n".join(self._index),
            "idf": _encoded(self._idf),
            "weights": _encoded(self._rows),
        }

    def save(self, path: Path) -> None:
        data = json.dumps(self.to_dict(), separators=(",", ":"), sort_keys=True)
        path.write_bytes(gzip.compress(data.encode(), mtime=0))

    def probabilities(self, text: str) -> dict[str, float]:
        sums = self._sums(self._values(features(text)))
        return {c: _sigmoid(v) for c, v in zip(self.categories, sums, strict=True)}

    def suggest(self, text: str, threshold: float | None = None) -> tuple[Suggestion, ...]:
        """The categories the model finds at or above ``threshold`` (the shipped one by
        default), each with the words that weighed most for it."""
        cut = self.threshold if threshold is None else threshold
        feats = features(text)
        values = self._values(feats)
        out = []
        for j, total in enumerate(self._sums(values)):
            p = _sigmoid(total)
            if p >= cut:
                words = self._explain(feats, values, j)
                if words:
                    out.append(Suggestion(self.categories[j], p, words))
        return tuple(out)

    def _values(self, feats: Features) -> list[tuple[str, int, float]]:
        return weighted(feats, self._index, self._idf)

    def _sums(self, values: list[tuple[str, int, float]]) -> list[float]:
        k = len(self.categories)
        rows = self._rows
        sums = list(self.bias)
        for _, i, value in values:
            sums = [s + w * value for s, w in zip(sums, rows[i * k : (i + 1) * k], strict=True)]
        return sums

    def _explain(
        self, feats: Features, values: list[tuple[str, int, float]], j: int
    ) -> tuple[str, ...]:
        """The words whose features added most to category ``j``, in text order; a pair
        or a piece shares its weight among the words it came from."""
        sources = {**feats.pieces, **feats.words}
        k = len(self.categories)
        per_word: dict[int, float] = {}
        for feature, i, value in values:
            w = self._rows[i * k + j]
            if w <= 0:
                continue
            at = sources[feature]
            for word in at:
                if feats.normalised[word].replace("'", "") not in _UNTELLING:
                    per_word[word] = per_word.get(word, 0.0) + w * value / len(at)
        top = sorted(per_word.items(), key=lambda kv: -kv[1])[:MAX_REASON_WORDS]
        return tuple(feats.spelled[i] for i, _ in sorted(top))


def _floats(text: object) -> array[float]:
    if not isinstance(text, str):
        raise ValueError("expected base64 text")
    out = array("f")
    out.frombytes(base64.b64decode(text, validate=True))
    if sys.byteorder == "big":
        out.byteswap()
    return out


def _encoded(values: array[float]) -> str:
    data = array("f", values)
    if sys.byteorder == "big":
        data.byteswap()
    return base64.b64encode(data.tobytes()).decode()


def _sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-max(-60.0, min(60.0, x))))


@cache
def shipped_model() -> NoteModel:
    return NoteModel.load(SHIPPED)


def configured_model(enabled: bool, path: Path = SHIPPED) -> NoteModel | None:
    """The model ``[content_notes] model`` asks for; a file that cannot be used is a
    configuration error naming the key, not a crash at start-up."""
    if not enabled:
        return None
    try:
        return shipped_model() if path == SHIPPED else NoteModel.load(path)
    except ModelError as exc:
        raise ConfigError(
            f"content_notes.model: {exc}; reinstall unrollbot or set model = false"
        ) from None
