"""Content notes on real posts from public research datasets, labelled for this project.

    .venv/bin/python -m benchmarks.content_notes_public --posts FILE [FILE ...]
        [--errors dev] [--json] [--copies]

The labels in ``data/content_notes_public_labels.jsonl`` are the project's own. Two readers
labelled every post apart, following ``content_notes_labelling.md`` and without seeing what
the lexicon makes of it; a third settled the posts they disagreed on. Each line
names the post by its dataset and the dataset's own id, keeps both readers' labels (so their
agreement can be reported) and the settled ones.

The posts' texts are not in the project: they are real people's words, and the datasets'
own terms cover them. ``--posts`` reads them from the datasets' files as published (the
format is told from the file) or from JSONL lines ``{"source", "id", "text"}``:
- ``dreaddit-test``: ``dreaddit-test.csv`` (columns ``id``, ``subreddit``, ``text``), Reddit
  posts from ten communities, five-sentence excerpts;
- ``goemotions-dev``: ``goemotions/data/dev.tsv`` (text, emotion ids, comment id), Reddit
  comments from a broad sample of communities;
- ``rmhd-test``: the Reddit Mental Health Dataset's 27-community test sample as packaged on
  PyPI (``pip download --no-deps construct-tracker==1.0.16``; give the wheel itself);
- ``offmychest-top``: ``data/offmychest.csv`` of the "reddit top 2.5 million" collection
  (a community's top posts; its self posts, title and text).

Posts are split in half by a hash of their dataset and id: ``dev`` may be studied (its
errors read, the lexicon tuned on them); ``test`` is only measured. Both are reported for
the lexicon (the notes that warn).
``--copies`` lists any run of ten words of a post found in a file of the project.
A category is averaged only where the half has at least ``MIN_SUPPORT`` posts of it; the
others are listed with their counts, not hidden in an average.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import itertools
import json
import re
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, TextIO

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.content_notes_eval import CATS, per_category  # noqa: E402
from cogs.content_notes.annotate import text_notes  # noqa: E402
from cogs.content_notes.classifier import Classifier  # noqa: E402

LABELS = Path(__file__).resolve().parent / "data" / "content_notes_public_labels.jsonl"
MIN_SUPPORT = 10
HALVES = ("dev", "test")
RMHD_IN_WHEEL = (
    "construct_tracker/data/datasets/reddit_27_subreddits/rmhd_27subreddits_260posts_test.csv"
)

csv.field_size_limit(1 << 24)


def half(source: str, post_id: str) -> str:
    digest = hashlib.sha256(f"{source}:{post_id}".encode()).digest()
    return HALVES[digest[0] & 1]


def read_labels(path: Path = LABELS) -> dict[tuple[str, str], dict[str, Any]]:
    labelled: dict[tuple[str, str], dict[str, Any]] = {}
    for n, line in enumerate(path.read_text("utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            unknown = {c for key in ("labels", "a", "b") for c in item[key]} - set(CATS)
            key = (item["source"], str(item["id"]))
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise SystemExit(f"{path}:{n}: not a label line ({exc!r})") from None
        if unknown:
            raise SystemExit(f"{path}:{n}: unknown categories {sorted(unknown)}")
        labelled[key] = item
    return labelled


def read_posts(path: Path) -> Iterator[tuple[str, str, str]]:
    """(source, id, text) from a dataset file as published, or from JSONL."""
    if not path.is_file():
        raise SystemExit(f"{path}: no such file")
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as wheel:
            if RMHD_IN_WHEEL not in wheel.namelist():
                raise SystemExit(f"{path}: a zip without {RMHD_IN_WHEEL}")
            with wheel.open(RMHD_IN_WHEEL) as raw:
                text = io.TextIOWrapper(raw, encoding="utf-8", newline="")
                yield from _read_text(text, path)
        return
    try:
        with path.open(encoding="utf-8", newline="") as f:
            yield from _read_text(f, path)
    except UnicodeDecodeError:
        raise SystemExit(f"{path}: not UTF-8 text") from None


def _read_text(f: TextIO, path: Path) -> Iterator[tuple[str, str, str]]:
    first = f.readline()
    rest = itertools.chain([first], f)
    if first.lstrip().startswith("{"):
        for line in rest:
            if line.strip():
                item = json.loads(line)
                yield item["source"], str(item["id"]), item["text"]
    elif first.startswith(",subreddit,author,date,post"):
        for row in csv.DictReader(rest):
            yield "rmhd-test", row[""], row["post"]
    elif "subreddit" in first and "sentence_range" in first:
        for row in csv.DictReader(rest):
            yield "dreaddit-test", row["id"], row["text"]
    elif first.startswith("created_utc,score,domain,id,title"):
        source = f"{path.stem.lower()}-top"
        for row in csv.DictReader(rest):
            if row["is_self"] == "True" and row["selftext"]:
                yield source, row["id"], f"{row['title']}\n\n{row['selftext']}"
    elif first.count("\t") == 2:
        for fields in csv.reader(rest, delimiter="\t"):
            if len(fields) == 3:
                yield "goemotions-dev", fields[2], fields[0]
    else:
        raise SystemExit(f"{path}: not a dataset file this benchmark knows")


def score(gold: Sequence[set[str]], found: Sequence[set[str]]) -> dict[str, Any]:
    per_cat = per_category(gold, found)
    counted = [m for m in per_cat.values() if m["support"] >= MIN_SUPPORT]
    neutral = [f for g, f in zip(gold, found, strict=True) if not g]
    return {
        "precision": sum(m["precision"] for m in counted) / len(counted) if counted else 1.0,
        "recall": sum(m["recall"] for m in counted) / len(counted) if counted else 1.0,
        "neutral_posts": len(neutral),
        "neutral_flagged": sum(1 for f in neutral if f) / len(neutral) if neutral else 0.0,
        "per_category": per_cat,
    }


def kappa(a: Sequence[set[str]], b: Sequence[set[str]], category: str) -> float:
    """Cohen's kappa of two readers on one category: agreement beyond chance."""
    n = len(a)
    both = sum(1 for x, y in zip(a, b, strict=True) if (category in x) == (category in y))
    pa = sum(1 for x in a if category in x) / n
    pb = sum(1 for y in b if category in y) / n
    chance = pa * pb + (1 - pa) * (1 - pb)
    return (both / n - chance) / (1 - chance) if chance < 1 else 1.0


def judge(texts: Sequence[str], gold: Sequence[set[str]]) -> tuple[dict[str, Any], list[set[str]]]:
    """The lexicon's figures on ``texts``, and the categories it found in each."""
    lexicon = Classifier.default()
    started = time.process_time()  # CPU time: the figure holds on a busy machine
    by_lexicon = [
        {n.category for n in text_notes(t, lexicon) if n.category != "other"} for t in texts
    ]
    elapsed = time.process_time() - started
    figures = score(gold, by_lexicon)
    figures["ms_per_post"] = 1000 * elapsed / len(texts) if texts else 0.0
    return figures, by_lexicon


def neutral_by_source(
    part: Sequence[tuple[str, str, str, dict[str, Any]]], found: Sequence[set[str]]
) -> dict[str, tuple[int, int]]:
    """Per dataset: neutral posts given a note, and neutral posts. Everyday comments and
    posts from support communities that name no topic are different tests of precision."""
    counts: dict[str, tuple[int, int]] = {}
    for (source, _, _, item), got in zip(part, found, strict=True):
        if not item["labels"]:
            flagged, total = counts.get(source, (0, 0))
            counts[source] = (flagged + bool(got), total + 1)
    return dict(sorted(counts.items()))


def collect(
    paths: Iterable[Path], labelled: dict[tuple[str, str], dict[str, Any]]
) -> dict[str, list[tuple[str, str, str, dict[str, Any]]]]:
    rows: dict[str, list[tuple[str, str, str, dict[str, Any]]]] = {h: [] for h in HALVES}
    seen: set[tuple[str, str]] = set()
    for path in paths:
        for source, post_id, text in read_posts(path):
            item = labelled.get((source, post_id))
            if item is None or (source, post_id) in seen:
                continue
            seen.add((source, post_id))
            rows[half(source, post_id)].append((source, post_id, text, item))
    missing = len(labelled) - len(seen)
    if missing:
        print(f"note: {missing} labelled posts have no text in the files given", file=sys.stderr)
    return rows


def line(name: str, f: dict[str, Any]) -> str:
    cats = " ".join(
        f"{c} {m['precision']:.2f}/{m['recall']:.2f} ({m['support']})"
        for c, m in f["per_category"].items()
        if m["support"] >= MIN_SUPPORT
    )
    few = ", ".join(
        f"{c} {m['support']}" for c, m in f["per_category"].items() if m["support"] < MIN_SUPPORT
    )
    return (
        f"  {name:<16} P {f['precision']:.2f} R {f['recall']:.2f} "
        f"neutral {100 * f['neutral_flagged']:.1f}% of {f['neutral_posts']}, "
        f"{f['ms_per_post']:.2f} ms/post\n      {cats}"
        + (f"\n      too few to average: {few}" if few else "")
    )


COPY_WORDS = 10  # shorter shared runs are common wording ("i wish i could just not wake up")


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z']+", text.lower())


def copies(texts: Iterable[str], root: Path = ROOT) -> list[tuple[str, str]]:
    """(file, words) for every run of ``COPY_WORDS`` words of a real post found in a file
    git tracks: the posts must never be copied into the project, tests included."""
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=root, capture_output=True, text=True, check=True
    ).stdout.split()
    runs = {
        tuple(words[i : i + COPY_WORDS])
        for words in map(_words, texts)
        for i in range(len(words) - COPY_WORDS + 1)
    }
    found = []
    for name in tracked:
        if name.endswith(("public_labels.jsonl", ".gz", ".png")):
            continue
        try:
            words = _words((root / name).read_text("utf-8"))
        except (UnicodeDecodeError, OSError):
            continue
        for i in range(len(words) - COPY_WORDS + 1):
            if tuple(words[i : i + COPY_WORDS]) in runs:
                found.append((name, " ".join(words[i : i + COPY_WORDS])))
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", type=Path, nargs="+", required=True)
    parser.add_argument("--labels", type=Path, default=LABELS)
    parser.add_argument("--errors", choices=HALVES, help="list one half's misclassified posts")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument(
        "--copies", action="store_true", help="list real posts' words found in the project"
    )
    args = parser.parse_args(argv)
    labelled = read_labels(args.labels)
    rows = collect(args.posts, labelled)
    if args.copies:
        copied = copies(t for part in rows.values() for _, _, t, _ in part)
        for name, words in copied:
            print(f"{name}: {words}")
        print(f"{len(copied)} runs of {COPY_WORDS} words from the real posts in the project")
        return 1 if copied else 0
    results: dict[str, Any] = {}
    found: dict[str, list[set[str]]] = {}
    for name, part in rows.items():
        figures, found[name] = judge(
            [t for _, _, t, _ in part], [set(i["labels"]) for *_, i in part]
        )
        a = [set(item["a"]) for *_, item in part]
        b = [set(item["b"]) for *_, item in part]
        figures["agreement"] = {c: kappa(a, b, c) for c in CATS} if part else {}
        figures["posts"] = len(part)
        figures["neutral_by_source"] = neutral_by_source(part, found[name])
        results[name] = figures
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    for name, figures in results.items():
        print(f"\n== {name}: {figures['posts']} real posts")
        print(line("lexicon", figures))
        print(
            "  neutral posts flagged, by dataset: "
            + ", ".join(
                f"{source} {100 * flagged / total:.1f}% of {total}"
                for source, (flagged, total) in figures["neutral_by_source"].items()
            )
        )
        print(
            "  readers' agreement (kappa): "
            + " ".join(f"{c} {k:.2f}" for c, k in figures["agreement"].items())
        )
    if args.errors:
        for (source, post_id, text, item), got in zip(
            rows[args.errors], found[args.errors], strict=True
        ):
            if got != set(item["labels"]):
                print(f"- {source}:{post_id} expected {item['labels']} got {sorted(got)}: {text}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
