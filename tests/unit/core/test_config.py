"""Config files: typed values, unknown keys and bad values named by their path."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from dataclasses import fields, is_dataclass
from pathlib import Path
from typing import get_type_hints

import pytest

from bot.config import Config, load_config, parse_config
from bot.errors import ConfigError

EXAMPLE = Path(__file__).resolve().parents[3] / "config.example.toml"


def test_defaults_work_without_a_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("UNROLLBOT_CONFIG", raising=False)
    cfg = load_config(None)
    assert cfg == Config()
    assert cfg.unroll.max_posts == 500 and cfg.unroll.cache_ttl_s == 600
    assert cfg.sources.bluesky.appview_url == "https://public.api.bsky.app"


def test_example_config_is_valid_and_documents_every_section() -> None:
    cfg = parse_config(EXAMPLE.read_text())
    text = EXAMPLE.read_text()
    for section in (
        "[storage]",
        "[network]",
        "[sources.bluesky]",
        "[unroll]",
        "[discord]",
        "[matrix]",
        "[subscriptions]",
    ):
        assert section in text
    assert cfg.unroll.max_posts == 500


def _key_paths(cls: type, prefix: str = "") -> list[str]:
    paths: list[str] = []
    for f in fields(cls):
        if f.metadata.get("internal"):
            continue
        path = f"{prefix}{f.name}"
        tp = get_type_hints(cls)[f.name]
        paths += _key_paths(tp, f"{path}.") if is_dataclass(tp) else [path]
    return paths


def test_example_config_sets_and_explains_every_key() -> None:
    # Each key is in the file, under a comment that says what it does (a comment may
    # explain the run of keys right below it).
    data = tomllib.loads(EXAMPLE.read_text())
    lines = EXAMPLE.read_text().splitlines()
    section, explained, unexplained = "", False, []
    for line in lines:
        stripped = line.strip()
        if stripped.startswith("["):
            section, explained = stripped.strip("[]"), False
        elif not stripped:
            explained = False
        elif stripped.startswith("#"):
            explained = True
        elif not explained:
            unexplained.append(f"{section}.{stripped.split('=')[0].strip()}")
    assert unexplained == []
    for path in _key_paths(Config):
        table: object = data
        for part in path.split("."):
            assert isinstance(table, dict) and part in table, f"{path} is not in the example"
            table = table[part]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[unroll]\nmax_post = 3", "unroll.max_post: unknown key"),
        (
            "[content_notes]\nmodel = true\nmodels = true",
            "content_notes.models: unknown key (known keys here: extra_terms)",
        ),
        ("[unroll]\nmax_posts = 'many'", "unroll.max_posts: expected a whole number"),
        ("[unroll]\nmax_posts = 0", "unroll.max_posts: must be greater than 0"),
        (
            "[network]\nallow_private_addresses = 'yes'",
            "network.allow_private_addresses: expected true or false",
        ),
        (
            "[sources.bluesky]\nappview_url = 'ftp://x'",
            "sources.bluesky.appview_url: must be an http(s) URL",
        ),
        ("[discord]\ntest_guild_ids = ['a']", "discord.test_guild_ids[0]: expected a whole number"),
        ("unroll = 3", "unroll: expected a table"),
        ("[unroll\nmax_posts = 3", "not valid TOML"),
        (
            "[subscriptions]\nmin_poll_interval_s = 1000\nmax_poll_interval_s = 10",
            "must not exceed",
        ),
    ],
)
def test_bad_values_name_the_key(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        parse_config(text)


def test_the_withdrawn_model_key_is_ignored_with_a_reason() -> None:
    cfg = parse_config("[content_notes]\nmodel = true\nextra_terms = { trauma = ['x'] }\n")
    assert cfg.content_notes.extra_terms == {"trauma": ["x"]}
    assert len(cfg.withdrawn) == 1 and cfg.withdrawn[0].startswith("content_notes.model: ")
    assert parse_config("[content_notes]\n").withdrawn == ()


def test_bad_config_file_stops_the_cli_with_the_key(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[unroll]\ncache_ttl_s = -5\n")
    env = {**os.environ, "UNROLLBOT_CONFIG": str(bad)}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "bot.cli",
            "unroll",
            "https://bsky.app/profile/a.test/post/3kabcdefghij2",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert proc.returncode == 2
    assert "unroll.cache_ttl_s" in proc.stderr
    assert proc.stderr.count("\n") == 1  # one clear line, no traceback


def test_relative_storage_path_is_relative_to_the_config_file(tmp_path: Path) -> None:
    f = tmp_path / "c.toml"
    f.write_text("[storage]\npath = 'data/bot.sqlite3'\n")
    cfg = load_config(str(f))
    assert cfg.resolve_path(cfg.storage.path) == str(tmp_path / "data" / "bot.sqlite3")
