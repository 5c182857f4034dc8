"""Train the content-notes model (the suggestions tier) and judge it on splits it never saw.

    pip install -e '.[model]'
    .venv/bin/python -m benchmarks.content_notes_model [--train SPLIT ...] [--out FILE]

It trains on the studied splits (``content_notes_splits.STUDIED``) by default. Its
threshold is chosen without looking at any held-out split: each hand-written training
split is predicted by a model trained on the others ("trained on one writer, tested on
another"), and the lowest threshold whose pooled predictions keep precision >= 0.90 and
neutral posts flagged <= 2% is kept. Then it fits on all of them, writes the model
(default: the shipped ``cogs/content_notes/model.json.gz``) and prints, for every split
it did not train on, the model alone and the lexicon with the model's suggestions.
"""

from __future__ import annotations

import argparse
import hashlib
import math
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.content_notes_eval import Row, load  # noqa: E402
from benchmarks.content_notes_splits import BY_NAME, SPLITS, STUDIED  # noqa: E402
from cogs.content_notes.annotate import text_notes  # noqa: E402
from cogs.content_notes.categories import CATEGORY_IDS  # noqa: E402
from cogs.content_notes.classifier import Classifier  # noqa: E402
from cogs.content_notes.model import SHIPPED, NoteModel, features, weighted  # noqa: E402

CATS = tuple(c for c in CATEGORY_IDS if c != "other")
C = 8.0  # inverse regularisation; chosen on the training splits' own cross-check
MIN_DF = 2  # a feature seen in one post only is that post's, not the topic's
MIN_WEIGHT = 0.02  # smaller weights change no suggestion; dropping them halves the file
THRESHOLDS = tuple(round(0.5 + 0.05 * i, 2) for i in range(10))
MAX_PRECISION_LOSS = 0.90
MAX_NEUTRAL = 0.02


def _need_sklearn() -> Any:
    try:
        import numpy as np
        from sklearn.feature_extraction import DictVectorizer
        from sklearn.linear_model import LogisticRegression
    except ImportError:
        raise SystemExit("training needs the model extra: pip install -e '.[model]'") from None
    return np, DictVectorizer, LogisticRegression


def train(
    rows: Sequence[Row], threshold: float = 0.5, meta: dict[str, Any] | None = None
) -> NoteModel:
    """A model fitted on ``rows`` (deterministic: the same rows give the same weights)."""
    np, dict_vectorizer, logistic_regression = _need_sklearn()
    feats = [features(text) for text, *_ in rows]
    df = Counter(f for x in feats for f in (*x.words, *x.pieces))
    n = len(rows)
    idf = {f: math.log((1 + n) / (1 + d)) + 1 for f, d in df.items() if d >= MIN_DF}
    index = {f: i for i, f in enumerate(idf)}
    values = list(idf.values())
    vectors = [{f: v for f, _, v in weighted(x, index, values)} for x in feats]
    dv = dict_vectorizer()
    x_train = dv.fit_transform(vectors)
    names = dv.get_feature_names_out()
    weights = np.zeros((len(names), len(CATS)))
    bias = []
    for j, cat in enumerate(CATS):
        y = [cat in labels for _, labels, *_ in rows]
        fit = logistic_regression(C=C, class_weight="balanced", max_iter=5000).fit(x_train, y)
        weights[:, j] = fit.coef_[0]
        bias.append(float(fit.intercept_[0]))
    keep = np.abs(weights).max(axis=1) >= MIN_WEIGHT
    kept = {str(names[i]): [float(w) for w in weights[i]] for i in np.flatnonzero(keep)}
    return NoteModel.from_weights(CATS, idf, kept, bias, threshold, meta)


def score(gold: Sequence[set[str]], found: Sequence[set[str]]) -> dict[str, Any]:
    per_cat = {}
    for c in CATS:
        tp = sum(1 for g, f in zip(gold, found, strict=True) if c in g and c in f)
        fp = sum(1 for g, f in zip(gold, found, strict=True) if c not in g and c in f)
        fn = sum(1 for g, f in zip(gold, found, strict=True) if c in g and c not in f)
        per_cat[c] = (tp / (tp + fp) if tp + fp else 1.0, tp / (tp + fn) if tp + fn else 1.0)
    neutral = [f for g, f in zip(gold, found, strict=True) if not g]
    return {
        "precision": sum(p for p, _ in per_cat.values()) / len(CATS),
        "recall": sum(r for _, r in per_cat.values()) / len(CATS),
        "neutral_flagged": sum(1 for f in neutral if f) / len(neutral) if neutral else 0.0,
        "per_category": per_cat,
    }


def found_at(probabilities: Sequence[dict[str, float]], threshold: float) -> list[set[str]]:
    return [{c for c, p in ps.items() if p >= threshold} for ps in probabilities]


def choose_threshold(rows: Sequence[Row]) -> tuple[float, dict[str, Any]]:
    """Each hand-written split predicted by a model trained on all other rows; the lowest
    threshold whose pooled figures keep precision and the neutral rate."""
    probabilities: list[dict[str, float]] = []
    gold: list[set[str]] = []
    hand = sorted({split for _, _, split, _ in rows if BY_NAME[split].seed is None})
    for split in hand:
        model = train([r for r in rows if r[2] != split])
        for text, labels, _, _ in (r for r in rows if r[2] == split):
            probabilities.append(model.probabilities(text))
            gold.append(labels)
    figures = {t: score(gold, found_at(probabilities, t)) for t in THRESHOLDS}
    for t in THRESHOLDS:
        f = figures[t]
        if f["precision"] >= MAX_PRECISION_LOSS and f["neutral_flagged"] <= MAX_NEUTRAL:
            return t, {"splits": hand, **figures[t]}
    return THRESHOLDS[-1], {"splits": hand, **figures[THRESHOLDS[-1]]}


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def judge(model: NoteModel, rows: Sequence[Row]) -> dict[str, dict[str, Any]]:
    """The model alone, the lexicon alone and the lexicon with the model's suggestions."""
    lexicon = Classifier.default()
    gold = [labels for _, labels, *_ in rows]
    by_model = [{s.category for s in model.suggest(text)} for text, *_ in rows]
    by_lexicon = [
        {n.category for n in text_notes(text, lexicon) if n.category != "other"}
        for text, *_ in rows
    ]
    both = [a | b for a, b in zip(by_model, by_lexicon, strict=True)]
    return {
        "model": score(gold, by_model),
        "lexicon": score(gold, by_lexicon),
        "lexicon + model": score(gold, both),
    }


def line(name: str, f: dict[str, Any]) -> str:
    cats = " ".join(f"{c} {p:.2f}/{r:.2f}" for c, (p, r) in f["per_category"].items())
    return (
        f"  {name:<16} P {f['precision']:.2f} R {f['recall']:.2f} "
        f"neutral {100 * f['neutral_flagged']:.1f}%\n      {cats}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--train", nargs="+", default=[s.name for s in STUDIED])
    parser.add_argument("--out", type=Path, default=SHIPPED)
    args = parser.parse_args(argv)
    unknown = set(args.train) - set(BY_NAME)
    if unknown:
        raise SystemExit(f"unknown splits {sorted(unknown)}; known: {sorted(BY_NAME)}")
    rows = load(*(BY_NAME[s].path for s in args.train))
    threshold, checked = choose_threshold(rows)
    print(
        f"threshold {threshold} (out of split on {', '.join(checked['splits'])}: "
        f"P {checked['precision']:.2f} R {checked['recall']:.2f} "
        f"neutral {100 * checked['neutral_flagged']:.1f}%)"
    )
    meta = {
        "trained_on": {s: digest(BY_NAME[s].path) for s in sorted(args.train)},
        "threshold_check": {k: v for k, v in checked.items() if k != "per_category"},
        "C": C,
    }
    model = train(rows, threshold, meta)
    model.save(args.out)
    print(
        f"wrote {args.out} ({args.out.stat().st_size // 1024} KiB, "
        f"{model.weighted_features} weighted features)"
    )
    for split in (s for s in SPLITS if s.name not in args.train):
        held = load(split.path)
        print(f"\n== {split.name} ({len(held)} posts, not trained on): {split.history}")
        for name, f in judge(model, held).items():
            print(line(name, f))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
