"""A value of the wrong type names what the file holds, so a quoted value is not read as right."""

import subprocess
import sys
from pathlib import Path

import pytest


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        (
            '[discord]\nenabled = "true"\n',
            'discord.enabled: expected true or false, got the string "true"',
        ),
        (
            '[unroll]\nmax_posts = "50"\n',
            'unroll.max_posts: expected a whole number, got the string "50"',
        ),
        (
            "[unroll]\nmax_posts = 2.5\n",
            "unroll.max_posts: expected a whole number, got the number 2.5",
        ),
        (
            '[network]\ntimeout_s = "10"\n',
            'network.timeout_s: expected a number, got the string "10"',
        ),
        ("[matrix]\nhomeserver = 5\n", "matrix.homeserver: expected a string, got the number 5"),
    ],
)
def test_wrong_type_is_named_on_stderr(tmp_path: Path, toml: str, message: str) -> None:
    cfg = tmp_path / "bot.toml"
    cfg.write_text(toml)
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "unroll", "https://bsky.app/x", "--config", str(cfg)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr == f"unrollbot: {cfg}: {message}\n"
