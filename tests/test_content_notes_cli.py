"""`unrollbot notes classify`: one JSON object per text, from arguments or stdin lines."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

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


def test_through_the_command_line_parser(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`unrollbot notes classify ...` as the bot's own parser builds it."""
    from bot import cli

    table: dict[str, object] = {}
    register_cli(table)  # type: ignore[arg-type]
    monkeypatch.setitem(cli.SUBCOMMANDS, "notes", table["notes"])  # type: ignore[arg-type]
    monkeypatch.delenv("UNROLLBOT_CONFIG", raising=False)
    args = cli.build_parser().parse_args(["notes", "classify", "TW: ed", "plain text"])
    assert cli.SUBCOMMANDS["notes"][2](args) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert rows[0]["notes"] == [
        {"category": "eating-disorders", "origin": "author", "reason": "ed"}
    ]
    assert rows[1] == {"text": "plain text", "notes": []}
