"""`unrollbot notes classify`: one JSON object per text, from arguments or stdin lines."""

from __future__ import annotations

import io
import json
from pathlib import Path

from cogs.content_notes.cli import classify_cli, register_cli


def run(argv: list[str], stdin: str = "") -> tuple[int, list[dict[str, object]]]:
    out = io.StringIO()
    code = classify_cli(argv, io.StringIO(stdin), out)
    return code, [json.loads(line) for line in out.getvalue().splitlines()]


def test_arguments_give_one_object_each_in_order() -> None:
    code, rows = run(["My therapist and my psychiatrist agree", "killer feature"])
    assert code == 0
    assert rows == [
        {
            "text": "My therapist and my psychiatrist agree",
            "notes": [
                {"category": "mental-health", "origin": "auto", "reason": "therapist, psychiatrist"}
            ],
        },
        {"text": "killer feature", "notes": []},
    ]


def test_stdin_lines_when_no_arguments() -> None:
    code, rows = run([], "CW: sui\nI'm dying to see it\n\nflashbacks again tonight\n")
    assert code == 0
    assert [r["text"] for r in rows] == [
        "CW: sui",
        "I'm dying to see it",
        "flashbacks again tonight",
    ]
    assert rows[0]["notes"] == [{"category": "suicide", "origin": "author", "reason": "sui"}]
    assert rows[1]["notes"] == []
    assert rows[2]["notes"] == [{"category": "trauma", "origin": "auto", "reason": "flashbacks"}]


def test_non_ascii_text_is_kept_as_written() -> None:
    _, rows = run(["Ma thérapie — #MentalHealth"])
    assert rows[0]["text"] == "Ma thérapie — #MentalHealth"


def test_extra_terms_apply() -> None:
    out = io.StringIO()
    classify_cli(["ketamine"], io.StringIO(), out, extra_terms={"substance-use": ["ketamine"]})
    assert json.loads(out.getvalue())["notes"][0]["category"] == "substance-use"


def test_registered_subcommand_reads_the_config(tmp_path: Path, capsys: object) -> None:
    import argparse

    table: dict[str, tuple[object, object, object]] = {}
    register_cli(table)  # type: ignore[arg-type]
    _, add_arguments, runner = table["notes"]
    parser = argparse.ArgumentParser()
    parser.add_argument("--config")
    add_arguments(parser)  # type: ignore[operator]
    config = tmp_path / "bot.toml"
    config.write_text('[content_notes]\nextra_terms = { substance-use = ["ketamine"] }\n')
    args = parser.parse_args(["--config", str(config), "classify", "ketamine"])
    assert runner(args) == 0  # type: ignore[operator]
    printed = capsys.readouterr().out  # type: ignore[attr-defined]
    assert json.loads(printed)["notes"][0]["category"] == "substance-use"
    bad = tmp_path / "bad.toml"
    bad.write_text('[content_notes]\nextra_terms = { nope = ["x"] }\n')
    args = parser.parse_args(["--config", str(bad), "classify", "x"])
    assert runner(args) == 2  # type: ignore[operator]
    assert "nope" in capsys.readouterr().err  # type: ignore[attr-defined]
