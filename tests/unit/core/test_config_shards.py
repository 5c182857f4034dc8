"""[discord] shard_count and shard_ids: what a process runs, and mistakes named by key."""

from __future__ import annotations

import re

import pytest

from bot.adapters.discord.shards import ShardPlan
from bot.config import parse_config
from bot.errors import ConfigError


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("shard_count = -1", "discord.shard_count: must be 0 (not sharded) or the total number"),
        ("shard_count = 'two'", "discord.shard_count: expected a whole number"),
        ("shard_ids = [0]", "discord.shard_ids: needs discord.shard_count"),
        (
            "shard_count = 2\nshard_ids = [0, 2]",
            "discord.shard_ids[1]: must be between 0 and 1 (shards are numbered from 0, below "
            "discord.shard_count = 2), got 2",
        ),
        ("shard_count = 2\nshard_ids = [-1]", "discord.shard_ids[0]: must be between 0 and 1"),
        ("shard_count = 4\nshard_ids = [1, 3, 1]", "discord.shard_ids[2]: shard 1 is listed twice"),
        ("shard_count = 2\nshard_ids = 1", "discord.shard_ids: expected a list of a whole number"),
    ],
)
def test_bad_shard_settings_name_the_key(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        parse_config(f"[discord]\n{text}\n")


def test_shard_settings_say_what_this_process_runs_and_syncs() -> None:
    plain = parse_config("").discord
    assert (plain.shard_count, plain.shard_ids) == (0, [])
    assert ShardPlan().runs == (0,) and ShardPlan().syncs_commands
    cfg = parse_config("[discord]\nshard_count = 4\nshard_ids = [3, 1]\n").discord
    plan = ShardPlan(cfg.shard_count, tuple(cfg.shard_ids))
    assert plan.runs == (3, 1) and not plan.syncs_commands
    assert plan.describe() == "shards 3, 1 of 4"
    everything = ShardPlan(3)
    assert everything.runs == (0, 1, 2) and everything.syncs_commands
