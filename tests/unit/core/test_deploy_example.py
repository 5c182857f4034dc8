"""The compose example in deploy/ is a deployment a reader can start: it parses, runs one
PostgreSQL and three bot processes, and each process reads a valid config that points at
that database with the password from a variable the service sets."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from bot.config import parse_config

DEPLOY = Path(__file__).resolve().parents[3] / "deploy"


def services() -> dict[str, Any]:
    doc = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    assert isinstance(doc, dict)
    found: dict[str, Any] = doc["services"]
    return found


def test_compose_runs_one_database_and_three_bots() -> None:
    svc = services()
    bots = sorted(name for name in svc if name.startswith("bot-"))
    assert bots == ["bot-1", "bot-2", "bot-3"]
    assert svc["db"]["image"].startswith("postgres:")
    for name in bots:
        assert svc[name]["depends_on"]["db"]["condition"] == "service_healthy"
        build = svc[name]["build"]
        assert (DEPLOY / build["context"] / build["dockerfile"]).is_file()


def test_each_bot_reads_a_valid_config_on_the_compose_database() -> None:
    svc = services()
    db_env = svc["db"]["environment"]
    for name in ("bot-1", "bot-2", "bot-3"):
        env = svc[name]["environment"]
        mounted = Path(env["UNROLLBOT_CONFIG"])
        local = DEPLOY / mounted.name
        cfg = parse_config(local.read_text(), base_dir=str(DEPLOY))
        url = urlsplit(cfg.storage.url)
        assert url.scheme == "postgresql" and url.hostname == "db"
        assert url.username == db_env["POSTGRES_USER"]
        assert url.path.lstrip("/") == db_env["POSTGRES_DB"]
        # The password comes from the variable the config names, set for the service
        # from the same source as the database's own.
        assert env[cfg.storage.password_env] == db_env["POSTGRES_PASSWORD"]
        for token_env in (cfg.discord.token_env, cfg.matrix.password_env):
            assert token_env in env


def test_the_bots_run_every_discord_shard_once_with_the_same_count() -> None:
    svc = services()
    configs = [
        parse_config((DEPLOY / Path(svc[name]["environment"]["UNROLLBOT_CONFIG"]).name).read_text())
        for name in ("bot-1", "bot-2", "bot-3")
    ]
    counts = {cfg.discord.shard_count for cfg in configs}
    assert len(counts) == 1 and counts.pop() > 0
    shards = sorted(i for cfg in configs for i in cfg.discord.shard_ids)
    assert shards == list(range(configs[0].discord.shard_count))
