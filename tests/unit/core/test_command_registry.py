"""One registry: the `unrollbot` subcommands and the chat commands come from the same
declarations on the features' cogs."""

from __future__ import annotations

import pytest

from bot import cli
from bot.extensions import declared_commands


def test_the_command_line_offers_each_declared_command(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    listed = capsys.readouterr().out
    declared = {spec.name.split()[0] for _, spec in declared_commands() if spec.cli}
    assert {"unroll", "links", "link", "unlink", "links-undo", "notes", "subscriptions"} <= declared
    for name in [*declared, "console", "run"]:
        assert f"    {name} " in listed or f"    {name}\n" in listed, name


def test_a_command_offered_in_both_places_is_one_declaration() -> None:
    both = {spec.name: spec for _, spec in declared_commands() if spec.cli and spec.chat}
    assert {"link", "unlink", "links", "links-undo"} <= set(both)
    kinds = next(p for p in both["link"].params if p.name == "kind")
    assert kinds.choices == ("belongs", "context", "continues")


def test_a_bare_link_is_a_declared_trigger() -> None:
    triggered = [spec.name for _, spec in declared_commands() if spec.trigger == "link"]
    assert triggered == ["unroll"]
