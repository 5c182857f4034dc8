"""The test homeserver itself: it starts, registers users and carries messages between two
real matrix-nio clients, and survives a stop and start with its data."""

from __future__ import annotations

import time

import pytest
from nio import JoinResponse

from tests.e2e.conftest_matrix import PersonFactory
from tests.e2e.synapse import Synapse

pytestmark = pytest.mark.synapse


async def test_two_clients_exchange_a_message(
    person: PersonFactory,
) -> None:
    alice = await person("alice")
    bob = await person("bob")
    room = await alice.create_room(invite=(bob.user_id,))
    assert isinstance(await bob.client.join(room), JoinResponse)

    started = time.monotonic()
    await alice.say(room, "hello from alice")
    [got] = await bob.wait_for(
        lambda e: e.get("content", {}).get("body") == "hello from alice", timeout_s=5
    )
    assert got["sender"] == alice.user_id
    assert got["room_id"] == room
    assert time.monotonic() - started < 5


async def test_register_gives_working_tokens(synapse: Synapse) -> None:
    acc = synapse.register(f"probe-{time.monotonic_ns()}")
    assert acc.user_id == f"@{acc.localpart}:localhost"
    assert acc.access_token.startswith("syt_")
