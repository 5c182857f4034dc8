"""``unrollbot notes classify [TEXT ...]``: one JSON object per text, from the arguments or
one per line of stdin: ``{"text": ..., "notes": [{"category", "origin", "reason"}]}``."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterable, Mapping
from typing import IO

from bot.errors import ConfigError
from cogs.content_notes.annotate import text_notes
from cogs.content_notes.classifier import Classifier


def classify_cli(
    argv: list[str],
    stdin: IO[str],
    stdout: IO[str],
    *,
    extra_terms: Mapping[str, Iterable[str]] | None = None,
) -> int:
    """``argv`` holds the texts (none: read stdin, one text per non-blank line)."""
    classifier = Classifier.default(extra_terms)
    texts: Iterable[str] = argv if argv else (ln.rstrip("\r\n") for ln in stdin)
    for text in texts:
        if not argv and not text.strip():
            continue
        notes = [
            {"category": n.category, "origin": n.origin, "reason": n.reason}
            for n in text_notes(text, classifier)
        ]
        stdout.write(json.dumps({"text": text, "notes": notes}, ensure_ascii=False) + "\n")
    stdout.flush()
    return 0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="notes_command", metavar="ACTION", required=True)
    p = sub.add_parser("classify", help="print the content notes each text would get")
    p.add_argument("text", nargs="*", help="texts to classify (default: one per line of stdin)")


def run(args: argparse.Namespace) -> int:
    """The ``notes`` subcommand (config only for the server's extra terms)."""
    from bot.config import load_config

    try:
        config = load_config(getattr(args, "config", None))
        return classify_cli(
            list(args.text), sys.stdin, sys.stdout, extra_terms=config.content_notes.extra_terms
        )
    except ConfigError as exc:
        print(f"unrollbot: {exc}", file=sys.stderr)
        return 2


Register = dict[
    str,
    tuple[str, Callable[[argparse.ArgumentParser], None], Callable[[argparse.Namespace], int]],
]


def register_cli(table: Register) -> None:
    """Adds ``notes`` to the command line's subcommand table."""
    table["notes"] = ("content notes: classify texts", add_arguments, run)
