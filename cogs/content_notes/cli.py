"""``unrollbot notes classify [TEXT ...]``: one JSON object per text, from the arguments or
one per line of stdin: ``{"text": ..., "notes": [{"category", "origin", "reason"}]}``."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Mapping, Sequence
from typing import IO

from bot.commands import Cog, Param, command
from bot.config import Config
from bot.context import Context
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


class ClassifyCog(Cog):
    """``notes classify``: the detector on its own, from the config alone (no database)."""

    def __init__(self, extra_terms: Mapping[str, Iterable[str]] | None = None) -> None:
        self.extra_terms = extra_terms

    @classmethod
    def offline(cls, config: Config) -> ClassifyCog:
        return cls(config.content_notes.extra_terms)

    @command(
        "notes classify",
        "print the content notes each text would get",
        Param(
            "text",
            "texts to classify (default: one per line of stdin)",
            kind="rest",
            required=False,
        ),
        chat=False,
        cli=True,
        offline=True,
    )
    async def classify(self, ctx: Context, text: Sequence[str] | None = None) -> None:
        classify_cli(list(text or ()), sys.stdin, sys.stdout, extra_terms=self.extra_terms)
