"""Pure rules of the Matrix adapter: who may invite the bot, what counts as a command,
who is a moderator (from the room's create and power-level events), how long to back off.
No network, so each rule is tested on its own."""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# Matrix defaults when a room has no m.room.power_levels event or omits a key.
DEFAULT_USERS_LEVEL = 0


def server_of(user_id: str) -> str:
    return user_id.split(":", 1)[1] if ":" in user_id else ""


def inviter_allowed(inviter: str, allowed: list[str], own_user_id: str) -> bool:
    """Whether an invite from ``inviter`` may be accepted.

    Entries are full user ids (``@alice:example.org``) or server suffixes
    (``:example.org``). With no entries only users of the bot's own homeserver may invite
    it: a bot that joins any room on the federation on request is an open relay."""
    if not inviter.startswith("@") or ":" not in inviter:
        return False
    if not allowed:
        return server_of(inviter) == server_of(own_user_id)
    server = server_of(inviter)
    for entry in allowed:
        entry = entry.strip()
        if entry == "*":
            return True
        if entry.startswith("@") and entry == inviter:
            return True
        if entry.startswith(":") and entry[1:] == server:
            return True
    return False


# Room creators outrank every power level from room version 12 on (they are not listed in
# ``users``): treat them as above any configured moderator level.
CREATOR_POWER = 2**53


def creators_privileged(room_version: str) -> bool:
    if room_version.isdigit():
        return int(room_version) >= 12
    return room_version.startswith("org.matrix.hydra")


def user_power(
    power_levels: Mapping[str, Any] | None,
    user_id: str,
    *,
    creators: frozenset[str] = frozenset(),
    room_version: str = "1",
) -> int:
    """A user's power level from an ``m.room.power_levels`` content and the room's
    creators (the create event's sender plus ``additional_creators``)."""
    if user_id in creators and creators_privileged(room_version):
        return CREATOR_POWER
    if power_levels is None:
        # No power levels event: creators have 100, everyone else 0.
        return 100 if user_id in creators else DEFAULT_USERS_LEVEL
    users = power_levels.get("users") or {}
    level = users.get(user_id, power_levels.get("users_default", DEFAULT_USERS_LEVEL))
    try:
        return int(level)
    except (TypeError, ValueError):
        return DEFAULT_USERS_LEVEL


def command_text(content: Mapping[str, Any], prefix: str) -> str | None:
    """The text after the prefix when an event is a command for the bot, else None.

    Only ``m.text`` messages count: notices are other bots (answering them loops), and
    edits (``m.replace``) would run a command a second time."""
    if content.get("msgtype") != "m.text":
        return None
    relates = content.get("m.relates_to") or {}
    if isinstance(relates, dict) and relates.get("rel_type") == "m.replace":
        return None
    body = content.get("body")
    if not isinstance(body, str):
        return None
    body = body.strip()
    if not prefix or not body.startswith(prefix):
        return None
    rest = body[len(prefix) :].strip()
    return rest or None


def thread_root_of(content: Mapping[str, Any]) -> str | None:
    """The thread an event was sent in, if any."""
    relates = content.get("m.relates_to") or {}
    if isinstance(relates, dict) and relates.get("rel_type") == "m.thread":
        root = relates.get("event_id")
        return root if isinstance(root, str) else None
    return None


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff for reconnects and send retries (asyncio sleeps only)."""

    initial_s: float = 0.5
    max_s: float = 30.0
    factor: float = 2.0

    def delay(self, attempt: int) -> float:
        base = min(self.initial_s * self.factor ** max(attempt - 1, 0), self.max_s)
        return base * (0.8 + 0.4 * random.random())  # jitter: clients don't retry in step


@dataclass
class RoomAuth:
    """What decides who is a moderator in a room: its creators, version, power levels."""

    creators: frozenset[str] = frozenset()
    version: str = "1"
    levels: dict[str, Any] | None = None

    def apply(self, event: dict[str, Any]) -> None:
        if event.get("state_key") != "":
            return
        content = event.get("content") or {}
        if event.get("type") == "m.room.create":
            extra = content.get("additional_creators") or []
            self.creators = frozenset(
                [str(event.get("sender", ""))] + [c for c in extra if isinstance(c, str)]
            )
            self.version = str(content.get("room_version") or "1")
        elif event.get("type") == "m.room.power_levels" and isinstance(content, dict):
            self.levels = content


__all__ = [
    "CREATOR_POWER",
    "Backoff",
    "RoomAuth",
    "command_text",
    "creators_privileged",
    "inviter_allowed",
    "server_of",
    "thread_root_of",
    "user_power",
]
