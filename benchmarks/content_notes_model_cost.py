"""What turning on the content-notes model costs: memory and time to load it, and time per
post against the lexicon alone in the same process.

    .venv/bin/python -m benchmarks.content_notes_model_cost [--repeat 3]

Loading is measured in a fresh interpreter (it happens once per process): RSS added and
CPU time of ``shipped_model()``. Per-post time runs every labelled split's texts through
``text_notes`` with the lexicon alone (the baseline) and with the model, alternating, as
CPU time; the model's figure is also given as a ratio of the baseline's.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.content_notes_eval import DEFAULT_DATA, load  # noqa: E402
from cogs.content_notes.annotate import text_notes  # noqa: E402
from cogs.content_notes.classifier import Classifier  # noqa: E402
from cogs.content_notes.model import NoteModel, shipped_model  # noqa: E402

_PROBE = """
import gc, json, sys, time
sys.path.insert(0, sys.argv[1])
import psutil
from cogs.content_notes import model
proc = psutil.Process()
gc.collect()
before = proc.memory_info().rss
started = time.process_time()
m = model.shipped_model()
cpu = time.process_time() - started
gc.collect()
print(json.dumps({"rss_mb": (proc.memory_info().rss - before) / 2**20, "cpu_s": cpu}))
"""


def load_cost(repeat: int) -> dict[str, float]:
    runs = [
        json.loads(
            subprocess.run(
                [sys.executable, "-c", _PROBE, str(ROOT)],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
        )
        for _ in range(repeat)
    ]
    return {k: statistics.median(r[k] for r in runs) for k in runs[0]}


def per_post(texts: list[str], classifier: Classifier, model: NoteModel | None) -> float:
    started = time.process_time()
    for text in texts:
        text_notes(text, classifier, model)
    return 1000 * (time.process_time() - started) / len(texts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    cost = load_cost(args.repeat)
    print(f"loading the model: {cost['rss_mb']:.1f} MB RSS added, {cost['cpu_s']:.2f} s CPU")
    texts = [text for text, *_ in load(*DEFAULT_DATA)]
    classifier, model = Classifier.default(), shipped_model()
    per_post(texts[:200], classifier, model)  # warm caches for both
    alone: list[float] = []
    both: list[float] = []
    for _ in range(args.repeat):
        alone.append(per_post(texts, classifier, None))
        both.append(per_post(texts, classifier, model))
    a, b = statistics.median(alone), statistics.median(both)
    print(f"{len(texts)} posts: lexicon {a:.3f} ms/post, lexicon + model {b:.3f} ms/post")
    print(f"ratio {b / a:.2f}; the model alone about {b - a:.3f} ms/post")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
