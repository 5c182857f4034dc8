"""Precision and recall of content-note detection on a labelled set of short posts.

    .venv/bin/python -m benchmarks.content_notes_eval [--data FILE ...] [--errors] [--json]

Each line of a data file is ``{"text": ..., "labels": [category, ...], "split": ...}``; an
empty list means the post is neutral and must get no note. By default every split of
``content_notes_splits.SPLITS`` is read (dev, test, and the held-out fresh, blind and ahead,
each described there); figures are printed per split. The texts run through the same path
as a post's text in an unroll (a "CW:" opening line as the author's warning, then the
lexicon).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.content_notes_splits import BY_NAME, SPLITS  # noqa: E402
from cogs.content_notes.annotate import text_notes  # noqa: E402
from cogs.content_notes.categories import CATEGORY_IDS  # noqa: E402
from cogs.content_notes.classifier import Classifier  # noqa: E402

DEFAULT_DATA = tuple(split.path for split in SPLITS)
CATS = tuple(c for c in CATEGORY_IDS if c != "other")


Row = tuple[str, set[str], str, str]  # text, labels, split, form


def load(*paths: Path) -> list[Row]:
    rows: list[Row] = []
    for path in paths:
        rows.extend(_load_one(path))
    return rows


def _load_one(path: Path) -> list[Row]:
    rows: list[Row] = []
    for n, line in enumerate(path.read_text("utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            raise SystemExit(f"{path}:{n}: not JSON ({exc.msg})") from None
        labels = set(item["labels"])
        unknown = labels - set(CATEGORY_IDS)
        if unknown:
            raise SystemExit(f"{path}:{n}: unknown categories {sorted(unknown)}")
        rows.append((item["text"], labels, item.get("split", "dev"), item.get("form", "")))
    return rows


def _ratio(a: int, b: int) -> float:
    return a / b if b else 1.0


def per_category(
    gold: Sequence[set[str]], found: Sequence[set[str]]
) -> dict[str, dict[str, float]]:
    """Precision, recall, F1 and counts per category over posts' expected and found
    categories (precision and recall are 1.0 where nothing was found or expected)."""
    out: dict[str, dict[str, float]] = {}
    for c in CATS:
        tp = sum(1 for g, f in zip(gold, found, strict=True) if c in g and c in f)
        fp = sum(1 for g, f in zip(gold, found, strict=True) if c not in g and c in f)
        fn = sum(1 for g, f in zip(gold, found, strict=True) if c in g and c not in f)
        p, r = _ratio(tp, tp + fp), _ratio(tp, tp + fn)
        out[c] = {
            "precision": p,
            "recall": r,
            "f1": 2 * p * r / (p + r) if p + r else 0.0,
            "support": tp + fn,
            "tp": tp,
            "fp": fp,
            "fn": fn,
        }
    return out


def evaluate(rows: list[Row], classifier: Classifier) -> dict[str, object]:
    golds: list[set[str]] = []
    founds: list[set[str]] = []
    errors = []
    neutral = neutral_flagged = 0
    started = time.process_time()  # CPU time: the figure holds on a busy machine
    forms: dict[str, list[int]] = {}  # form -> [labels found, labels expected]
    for text, gold, _, form in rows:
        found = {n.category for n in text_notes(text, classifier) if n.category != "other"}
        golds.append(gold)
        founds.append(found)
        if form and gold:
            counts = forms.setdefault(form, [0, 0])
            counts[0] += len(found & gold)
            counts[1] += len(gold)
        if not gold:
            neutral += 1
            neutral_flagged += bool(found)
        if found != gold:
            errors.append({"text": text, "expected": sorted(gold), "got": sorted(found)})
    elapsed = time.process_time() - started
    per_cat = per_category(golds, founds)
    all_tp, all_fp, all_fn = (int(sum(m[k] for m in per_cat.values())) for k in ("tp", "fp", "fn"))
    return {
        "posts": len(rows),
        "neutral_posts": neutral,
        "neutral_flagged": neutral_flagged,
        "per_category": per_cat,
        "micro": {
            "precision": _ratio(all_tp, all_tp + all_fp),
            "recall": _ratio(all_tp, all_tp + all_fn),
        },
        "macro": {
            "precision": sum(m["precision"] for m in per_cat.values()) / len(per_cat),
            "recall": sum(m["recall"] for m in per_cat.values()) / len(per_cat),
        },
        "neutral_flagged_rate": _ratio(neutral_flagged, neutral) if neutral else 0.0,
        "exact_match": 1 - len(errors) / len(rows) if rows else 1.0,
        "ms_per_post": 1000 * elapsed / len(rows) if rows else 0.0,
        "recall_by_form": {f: _ratio(a, b) for f, (a, b) in sorted(forms.items())},
        "errors": errors,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, nargs="+", default=list(DEFAULT_DATA))
    parser.add_argument("--errors", action="store_true", help="list every misclassified post")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    rows = load(*args.data)
    classifier = Classifier.default()
    splits = sorted({split for _, _, split, _ in rows})
    results = {split: evaluate([r for r in rows if r[2] == split], classifier) for split in splits}
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    for split, result in results.items():
        report(split, result, args.errors)
    return 0


def _num(value: object) -> float:
    assert isinstance(value, float)
    return value


def report(split: str, result: dict[str, object], errors: bool) -> None:
    print(f"\n== {split}: {result['posts']} posts ({result['neutral_posts']} neutral)")
    if split in BY_NAME:
        print(f"   {BY_NAME[split].history}")
    print(
        f"{'category':<18}{'precision':>10}{'recall':>8}{'f1':>7}{'support':>9}{'fp':>5}{'fn':>5}"
    )
    per_cat = result["per_category"]
    assert isinstance(per_cat, dict)
    for cat, m in per_cat.items():
        print(
            f"{cat:<18}{m['precision']:>10.2f}{m['recall']:>8.2f}{m['f1']:>7.2f}"
            f"{m['support']:>9}{m['fp']:>5}{m['fn']:>5}"
        )
    micro = result["micro"]
    assert isinstance(micro, dict)
    print(f"{'micro':<18}{micro['precision']:>10.2f}{micro['recall']:>8.2f}")
    macro = result["macro"]
    assert isinstance(macro, dict)
    print(f"{'macro':<18}{macro['precision']:>10.2f}{macro['recall']:>8.2f}")
    print(
        f"neutral posts flagged: {result['neutral_flagged']}/{result['neutral_posts']} "
        f"({100 * _num(result['neutral_flagged_rate']):.1f}%); "
        f"exact match {result['exact_match']:.2f}; {result['ms_per_post']:.2f} ms/post"
    )
    by_form = result["recall_by_form"]
    assert isinstance(by_form, dict)
    if by_form:
        print("recall by form: " + ", ".join(f"{f} {r:.2f}" for f, r in by_form.items()))
    if errors:
        wrong = result["errors"]
        assert isinstance(wrong, list)
        for e in wrong:
            print(f"- expected {e['expected']} got {e['got']}: {e['text']}")


if __name__ == "__main__":
    raise SystemExit(main())
