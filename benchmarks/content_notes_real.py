"""Content notes on real posts: every post text in the answers recorded from real servers.

    .venv/bin/python -m benchmarks.content_notes_real [--list]

``../shared/real_replay/data/`` holds answers recorded from mastodon.social, fosstodon,
Pleroma, GoToSocial, Bluesky's AppView and FxTwitter: posts real people wrote, mostly on
everyday subjects. They are not labelled, so this reports how many get a note, and
``--list`` prints each flagged post beside its notes for a reader to judge (the figures in
the project's notes come from reading that list). The recordings are read where they lie;
nothing from them is copied into the project.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bot.sources.html_text import html_to_text
from cogs.content_notes.annotate import text_notes
from cogs.content_notes.classifier import Classifier

ROOT = Path(__file__).resolve().parent.parent
RECORDINGS = next(
    (
        p
        for p in (
            ROOT.parent / "shared" / "real_replay" / "data",
            ROOT.parent.parent / "shared" / "real_replay" / "data",
        )
        if p.is_dir()
    ),
    None,
)


def post_texts(node: Any) -> Iterator[str]:
    """Post texts anywhere in a recorded answer: Mastodon-API statuses (HTML ``content``),
    Bluesky post records (``$type`` app.bsky.feed.post) and FxTwitter posts."""
    if isinstance(node, dict):
        content = node.get("content")
        if isinstance(content, str) and "id" in node and ("account" in node or "uri" in node):
            yield html_to_text(content).text if content.lstrip().startswith("<") else content
        text = node.get("text")
        if isinstance(text, str) and (
            node.get("$type") == "app.bsky.feed.post" or "replying_to" in node or "author" in node
        ):
            yield text
        for value in node.values():
            yield from post_texts(value)
    elif isinstance(node, list):
        for value in node:
            yield from post_texts(value)


def real_posts(folder: Path) -> list[str]:
    seen: dict[str, None] = {}
    for path in sorted(folder.glob("*.json")):
        for text in post_texts(json.loads(path.read_text("utf-8"))):
            text = text.strip()
            if text:
                seen.setdefault(text, None)
    return list(seen)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--list", action="store_true", help="print every flagged post")
    parser.add_argument("--data", type=Path, default=RECORDINGS)
    args = parser.parse_args(argv)
    if args.data is None or not args.data.is_dir():
        print("no recordings found (../shared/real_replay/data): nothing to measure")
        return 0
    posts = real_posts(args.data)
    classifier = Classifier.default()
    started = time.process_time()  # CPU time: the figure holds on a busy machine
    flagged = [(text, text_notes(text, classifier)) for text in posts]
    elapsed = time.process_time() - started
    flagged = [(t, notes) for t, notes in flagged if notes]
    print(
        f"real recorded posts: {len(posts)} distinct, {len(flagged)} with a note "
        f"({100 * len(flagged) / max(len(posts), 1):.1f}%); "
        f"{1000 * elapsed / max(len(posts), 1):.2f} ms/post"
    )
    if args.list:
        for text, notes in flagged:
            reasons = "; ".join(f"{n.category} ({n.origin}): {n.reason}" for n in notes)
            print(f"- [{reasons}] {' '.join(text.split())[:300]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
