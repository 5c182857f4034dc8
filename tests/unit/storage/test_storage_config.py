"""Choosing the storage engine in the config: [storage] url and password_env, their
mistakes named by key, and the command line working against a real PostgreSQL."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import parse_config, storage_target
from bot.errors import ConfigError
from tests.postgres import PASSWORD, PostgresServer


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("url = 'mysql://db.example/bot'", "storage.url: must be a PostgreSQL URL"),
        ("url = 'postgresql:///bot'", "storage.url: must be a PostgreSQL URL"),
        (
            "url = 'postgresql://bot:secret@db.example/bot'",
            "storage.url: must not hold the password",
        ),
        (
            "url = 'postgresql://bot@db.example/bot'\npassword_env = 'hunter 2'",
            "storage.password_env: must name the environment variable",
        ),
        ("password_env = 'DB_PASSWORD'", "storage.password_env: only used with storage.url"),
        ("url = 5", "storage.url: expected a string"),
        ("lease_s = 0.5", "storage.lease_s: must be between 2 and 3600 seconds (got 0.5)"),
        ("lease_s = 'long'", "storage.lease_s: expected a number"),
    ],
)
def test_bad_storage_settings_name_the_key(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        parse_config(f"[storage]\n{text}\n")


def test_sqlite_stays_the_default_and_postgres_takes_its_password_from_the_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert storage_target(parse_config(""))[1] is None
    assert storage_target(parse_config("", base_dir="/srv"))[0] == "/srv/unrollbot.sqlite3"
    cfg = parse_config(
        "[storage]\nurl = 'postgresql://bot@db.example:5433/bot'\npassword_env = 'BOT_DB_PW'\n"
    )
    monkeypatch.setenv("BOT_DB_PW", "s3cret")
    assert storage_target(cfg) == ("postgresql://bot@db.example:5433/bot", "s3cret")
    monkeypatch.delenv("BOT_DB_PW")
    expected = "storage.password_env: the environment variable BOT_DB_PW is not set"
    with pytest.raises(ConfigError, match=re.escape(expected)):
        storage_target(cfg)


def _cli(config: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", "subscriptions", "--config", str(config)],
        capture_output=True,
        text=True,
        env={**{k: v for k, v in os.environ.items() if k != "UNROLLBOT_PG_PW"}, **env},
        timeout=60,
    )


async def test_the_command_line_runs_on_postgres_and_says_what_is_wrong(
    tmp_path: Path, postgres_server: PostgresServer
) -> None:
    url = await postgres_server.create_database()
    config = tmp_path / "pg.toml"
    config.write_text(f"[storage]\nurl = '{url}'\npassword_env = 'UNROLLBOT_PG_PW'\n")
    ok = _cli(config, {"UNROLLBOT_PG_PW": PASSWORD})
    unset = _cli(config, {})
    wrong = _cli(config, {"UNROLLBOT_PG_PW": "not-the-password"})
    assert (ok.returncode, ok.stdout) == (0, "No subscriptions.\n"), ok.stderr
    # The variable is not set: the key is named, nothing is opened.
    assert unset.returncode == 2
    assert "storage.password_env: the environment variable UNROLLBOT_PG_PW is not set" in (
        unset.stderr
    )
    # The server refuses the password: one line naming the database, never the password.
    assert wrong.returncode == 1 and wrong.stderr.count("\n") == 1
    assert f"cannot open database {url}" in wrong.stderr
    assert "not-the-password" not in wrong.stderr
