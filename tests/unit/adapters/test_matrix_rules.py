"""The Matrix adapter's pure rules: invites, command recognition, power levels, state file."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.adapters.matrix.rules import (
    CREATOR_POWER,
    Backoff,
    RoomAuth,
    command_text,
    creators_privileged,
    inviter_allowed,
    thread_root_of,
    user_power,
)
from bot.adapters.matrix.store import FileStore

BOT = "@bot:home.example"


@pytest.mark.parametrize(
    ("inviter", "allowed", "ok"),
    [
        ("@alice:home.example", [], True),  # no list: the bot's own server only
        ("@mallory:evil.example", [], False),
        ("@alice:friends.example", [":friends.example"], True),
        ("@alice:notfriends.example", [":friends.example"], False),
        ("@alice:sub.friends.example", [":friends.example"], False),
        ("@bob:other.example", ["@bob:other.example"], True),
        ("@bobby:other.example", ["@bob:other.example"], False),
        ("@alice:home.example", ["@bob:other.example"], False),  # a list replaces the default
        ("@anyone:any.example", ["*"], True),
        ("not-a-user", ["*"], False),
    ],
)
def test_inviter_allowed(inviter: str, allowed: list[str], ok: bool) -> None:
    assert inviter_allowed(inviter, allowed, BOT) is ok


@pytest.mark.parametrize(
    ("content", "prefix", "expected"),
    [
        ({"msgtype": "m.text", "body": "!unroll https://x"}, "!", "unroll https://x"),
        ({"msgtype": "m.text", "body": "  !help  "}, "!", "help"),
        ({"msgtype": "m.text", "body": "!"}, "!", None),
        ({"msgtype": "m.text", "body": "hello !unroll"}, "!", None),
        ({"msgtype": "m.notice", "body": "!unroll x"}, "!", None),  # other bots
        ({"msgtype": "m.emote", "body": "!unroll x"}, "!", None),
        ({"msgtype": "m.text", "body": "ub unroll x"}, "ub ", "unroll x"),
        ({"msgtype": "m.text", "body": 5}, "!", None),
        (
            {
                "msgtype": "m.text",
                "body": "* !unroll x",
                "m.relates_to": {"rel_type": "m.replace", "event_id": "$e"},
            },
            "!",
            None,
        ),
        (
            {
                "msgtype": "m.text",
                "body": "!unroll x",
                "m.relates_to": {"rel_type": "m.thread", "event_id": "$root"},
            },
            "!",
            "unroll x",
        ),
    ],
)
def test_command_text(content: dict[str, object], prefix: str, expected: str | None) -> None:
    assert command_text(content, prefix) == expected


def test_thread_root_of() -> None:
    assert thread_root_of({"m.relates_to": {"rel_type": "m.thread", "event_id": "$r"}}) == "$r"
    assert thread_root_of({"m.relates_to": {"m.in_reply_to": {"event_id": "$x"}}}) is None
    assert thread_root_of({}) is None


def test_user_power() -> None:
    levels = {"users": {"@mod:h": 50, "@admin:h": 100, "@odd:h": "x"}, "users_default": 10}
    assert user_power(levels, "@mod:h") == 50
    assert user_power(levels, "@someone:h") == 10
    assert user_power(levels, "@odd:h") == 0
    assert user_power({}, "@someone:h") == 0
    # No power levels event: the creator has 100.
    assert user_power(None, "@c:h", creators=frozenset({"@c:h"})) == 100
    assert user_power(None, "@x:h", creators=frozenset({"@c:h"})) == 0
    # Room version 12: creators outrank everyone and are not listed in users.
    assert user_power(levels, "@c:h", creators=frozenset({"@c:h"}), room_version="12") == (
        CREATOR_POWER
    )
    assert user_power(levels, "@c:h", creators=frozenset({"@c:h"}), room_version="10") == 10
    assert creators_privileged("12") and creators_privileged("13")
    assert not creators_privileged("11") and not creators_privileged("org.example.custom")


async def test_state_file_round_trip_and_damage(tmp_path: Path) -> None:
    store = FileStore(tmp_path / "m")
    assert (await store.load()).next_batch is None  # first start
    store.state.next_batch = "s72_1"
    store.state.device_id = "DEV"
    store.state.told_encrypted.append("!room:h")
    await store.save()
    again = await FileStore(tmp_path / "m").load()
    assert (again.next_batch, again.device_id, again.told_encrypted) == (
        "s72_1",
        "DEV",
        ["!room:h"],
    )
    (tmp_path / "m" / "matrix-state.json").write_text("{not json")
    with pytest.raises(ValueError, match="cannot read the Matrix state file"):
        await FileStore(tmp_path / "m").load()


def test_room_auth_follows_create_and_power_level_events() -> None:
    auth = RoomAuth()
    auth.apply(
        {
            "type": "m.room.create",
            "state_key": "",
            "sender": "@c:h",
            "content": {"room_version": "12", "additional_creators": ["@d:h", 5]},
        }
    )
    auth.apply({"type": "m.room.power_levels", "state_key": "", "content": {"users": {}}})
    assert auth.creators == frozenset({"@c:h", "@d:h"}) and auth.version == "12"
    levels = {"users": {"@m:h": 50}}
    auth.apply({"type": "m.room.power_levels", "state_key": "", "content": levels})
    auth.apply({"type": "m.room.power_levels", "state_key": "x", "content": {}})  # ignored
    assert auth.levels == levels
    power = user_power(auth.levels, "@d:h", creators=auth.creators, room_version=auth.version)
    assert power == CREATOR_POWER


def test_backoff_grows_to_its_cap_with_jitter() -> None:
    b = Backoff(initial_s=1.0, max_s=8.0)
    delays = [b.delay(n) for n in range(1, 8)]
    assert 0.8 <= delays[0] <= 1.2
    assert 1.6 <= delays[1] <= 2.4
    assert all(d <= 8.0 * 1.2 for d in delays)
    assert delays[-1] >= 8.0 * 0.8
