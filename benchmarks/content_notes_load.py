"""What the content-notes classifier costs to build: memory and CPU of ``Classifier.default()``.

    .venv/bin/python -m benchmarks.content_notes_load [--against REV] [--repeat 3]

Each figure is taken in a fresh interpreter (the build happens once per process), for this
tree and for the same files at git revision ``REV`` (by default the last one before the
compact index) extracted to a temporary directory, alternating so both see the same
machine load. Reported per tree, as medians, with this tree's figures as ratios of the
baseline's:

- build CPU time of ``Classifier.default()`` plus one detection (process time);
- RSS added by the build (after imports -> after the build);
- tracemalloc peak during the build and what stays allocated after it;
- CPU time per post of detection, over every labelled split's texts (this tree's).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tarfile
import tempfile
from io import BytesIO
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.content_notes_eval import DEFAULT_DATA, load  # noqa: E402

BASELINE_REV = "ebc66eb"  # the word trie before lazy nodes and the compact typo table

# Runs in the child: argv[1] is the source tree, argv[2] "rss" or "trace".
_PROBE = """
import gc, json, sys, time
sys.path.insert(0, sys.argv[1])
import psutil
import cogs.content_notes.classifier as classifier
proc = psutil.Process()
gc.collect()
before = proc.memory_info().rss
trace = sys.argv[2] == "trace"
if trace:
    import tracemalloc
    tracemalloc.start()
started = time.process_time()
clf = classifier.Classifier.default()
clf.detect("after the overdose I was in therapy for my depression")
cpu = time.process_time() - started
out = {"cpu_s": cpu}
if trace:
    gc.collect()
    current, peak = tracemalloc.get_traced_memory()
    out.update(peak_mb=peak / 2**20, kept_mb=current / 2**20)
else:
    gc.collect()
    out["rss_mb"] = (proc.memory_info().rss - before) / 2**20
    with open(sys.argv[3], encoding="utf-8") as f:
        texts = json.load(f)
    started = time.process_time()
    for text in texts:
        clf.detect(text)
    out["detect_ms"] = 1000 * (time.process_time() - started) / len(texts)
print(json.dumps(out))
"""


def extract(rev: str, into: Path) -> Path:
    """The project's ``bot`` and ``cogs`` packages as they were at ``rev``."""
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", "--format=tar", rev, "bot", "cogs"],
        check=True,
        capture_output=True,
    ).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into


def probe(tree: Path, mode: str, texts: Path) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, str(tree), mode, str(texts)],
        check=True,
        capture_output=True,
        text=True,
        cwd=tree,
    )
    result: dict[str, float] = json.loads(done.stdout)
    return result


def measure(trees: dict[str, Path], repeat: int, texts: Path) -> dict[str, dict[str, float]]:
    samples: dict[str, dict[str, list[float]]] = {name: {} for name in trees}
    for _ in range(repeat):
        for mode in ("rss", "trace"):
            for name, tree in trees.items():
                for key, value in probe(tree, mode, texts).items():
                    # CPU time comes from the untraced run: tracemalloc slows allocation.
                    if mode == "trace" and key == "cpu_s":
                        continue
                    samples[name].setdefault(key, []).append(value)
    return {
        name: {key: statistics.median(values) for key, values in figures.items()}
        for name, figures in samples.items()
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--against", default=BASELINE_REV, help="git revision to compare with")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        texts = Path(tmp) / "texts.json"
        texts.write_text(json.dumps([row[0] for row in load(*DEFAULT_DATA)]), "utf-8")
        trees = {"baseline": extract(args.against, Path(tmp) / "tree"), "current": ROOT}
        figures = measure(trees, args.repeat, texts)
    if args.json:
        print(json.dumps(figures, indent=2))
        return 0
    labels = {
        "cpu_s": "build CPU (s)",
        "rss_mb": "RSS added (MB)",
        "peak_mb": "tracemalloc peak (MB)",
        "kept_mb": "allocated after (MB)",
        "detect_ms": "detection (ms/post)",
    }
    print(f"{'':<24}{'baseline ' + args.against:>18}{'current':>10}{'ratio':>8}")
    for key, label in labels.items():
        base, cur = figures["baseline"][key], figures["current"][key]
        ratio = cur / base if base else float("nan")
        print(f"{label:<24}{base:>18.2f}{cur:>10.2f}{ratio:>8.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
