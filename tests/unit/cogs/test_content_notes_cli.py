"""`unrollbot notes classify`: one JSON object per text, from arguments or stdin lines."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from bot.cli import main
from cogs.content_notes.cli import classify_cli


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


def test_the_subcommand_reads_the_config_and_opens_no_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    config = tmp_path / "bot.toml"
    config.write_text('[content_notes]\nextra_terms = { substance-use = ["ketamine"] }\n')
    assert main(["notes", "--config", str(config), "classify", "ketamine"]) == 0
    printed = capsys.readouterr().out
    assert json.loads(printed)["notes"][0]["category"] == "substance-use"
    # --config after the action works too.
    assert main(["notes", "classify", "ketamine", "--config", str(config)]) == 0
    assert json.loads(capsys.readouterr().out)["notes"][0]["category"] == "substance-use"
    bad = tmp_path / "bad.toml"
    bad.write_text('[content_notes]\nextra_terms = { nope = ["x"] }\n')
    assert main(["notes", "--config", str(bad), "classify", "x"]) == 2
    assert "content_notes.extra_terms.nope: unknown category" in capsys.readouterr().err
    assert not list(tmp_path.glob("*.sqlite3"))


@pytest.mark.parametrize(
    ("extra_terms", "message"),
    [
        ('{ trauma = "flashback" }', "content_notes.extra_terms.trauma: expected a list"),
        ("{ trauma = [3] }", "content_notes.extra_terms.trauma[0]: expected a string"),
        ('["flashback"]', "content_notes.extra_terms: expected a table"),
        ('{ trauma = ["ab*"] }', "content_notes.extra_terms.trauma: 'ab*': a prefix needs"),
        ('{ trauma = ["a ~ b"] }', "content_notes.extra_terms.trauma: 'a ~ b': '~' must be"),
        ('{ trauma = ["{nope} x"] }', "content_notes.extra_terms.trauma: '{nope} x' names an"),
    ],
)
def test_malformed_extra_terms_are_reported_with_their_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra_terms: str, message: str
) -> None:
    config = tmp_path / "bot.toml"
    config.write_text(f"[content_notes]\nextra_terms = {extra_terms}\n")
    assert main(["notes", "--config", str(config), "classify", "flashback"]) == 2
    captured = capsys.readouterr()
    assert message in captured.err
    assert captured.out == ""


def test_through_the_command_line_parser(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """`unrollbot notes classify ...` as the bot's own parser builds it."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("UNROLLBOT_CONFIG", raising=False)
    assert main(["notes", "classify", "TW: ed", "plain text"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert rows[0]["notes"] == [
        {"category": "eating-disorders", "origin": "author", "reason": "ed"}
    ]
    assert rows[1] == {"text": "plain text", "notes": []}


@pytest.mark.parametrize("value", ["true", "false", '"yes"'])
def test_a_config_still_setting_the_withdrawn_model_gets_lexicon_notes_and_one_warning(
    value: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    texts = ["my therapist says the flashbacks will fade", "TW: ed", "lovely weather today"]
    plain = tmp_path / "plain.toml"
    plain.write_text("[content_notes]\n")
    assert main(["notes", "--config", str(plain), "classify", *texts]) == 0
    expected = capsys.readouterr().out
    assert caplog.records == []
    old = tmp_path / "old.toml"
    old.write_text(f"[content_notes]\nmodel = {value}\n")
    assert main(["notes", "--config", str(old), "classify", *texts]) == 0
    assert capsys.readouterr().out == expected
    rows = [json.loads(line) for line in expected.splitlines()]
    assert {n["origin"] for row in rows for n in row["notes"]} == {"auto", "author"}
    assert [r.getMessage() for r in caplog.records] == [
        f"{old}: content_notes.model: the content-notes suggestions model was withdrawn "
        "(it did not hold on real posts); this key is ignored and can be deleted"
    ]
