"""The Matrix adapter over time: restarts, a homeserver that goes away and comes back,
encrypted rooms, and start-up errors a person running the bot can act on."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.adapters.matrix.adapter import ENCRYPTED_NOTICE, MatrixAdapter, MatrixStartupError
from bot.commands import Cog, command
from bot.config import Config, MatrixConfig
from bot.context import Context, Room
from bot.dispatcher import Dispatcher
from bot.render.document import Message, para
from tests.e2e.conftest_matrix import (
    BotFactory,
    Person,
    PersonFactory,
    ProbeCog,
    RunningBot,
    body,
    connect,
    dispatcher_with,
    joined,
    notice_from,
    room_with_bot,
)
from tests.e2e.synapse import Account, Synapse, free_port

pytestmark = pytest.mark.synapse


def answers(human: Person, bot: RunningBot) -> list[str]:
    return [body(e) for e in human.from_user(bot.user_id)]


async def settle(human: Person, bot: RunningBot, room: str, marker: str) -> None:
    """Send a last command and wait for its answer: everything before it is done."""
    await human.say(room, f"!echo {marker}")
    await human.wait_for(notice_from(bot.user_id, marker))


async def test_restart_neither_replays_nor_loses_commands(
    person: PersonFactory, matrix_bot: BotFactory
) -> None:
    probe = ProbeCog()
    bot = await matrix_bot(dispatcher_with(probe))
    human = await person()
    room = await room_with_bot(human, bot)
    await human.say(room, "!echo before")
    await human.wait_for(notice_from(bot.user_id, "before"))
    await bot.stop()

    # Sent while the bot is down (more than a default sync timeline holds): answered once
    # it is back, each exactly once.
    for i in range(15):
        await human.say(room, f"!echo while down {i}")
    again = await matrix_bot(dispatcher_with(probe), account=bot.account, store_dir=bot.store_dir)
    await human.wait_for(notice_from(bot.user_id, "while down 14"))
    await settle(human, again, room, "after")
    down = [f"while down {i}" for i in range(15)]
    assert sorted(answers(human, bot)) == sorted(["before", *down, "after"])
    assert len(probe.calls) == 17


async def test_moderators_are_recognised_after_a_restart(
    person: PersonFactory, matrix_bot: BotFactory
) -> None:
    probe = ProbeCog()
    bot = await matrix_bot(dispatcher_with(probe))
    owner = await person("owner")
    helper = await person("helper")
    room = await owner.create_room(invite=(bot.user_id, helper.user_id), power={helper.user_id: 50})
    await owner.wait_for(joined(bot.user_id, room))
    await helper.client.join(room)
    await bot.stop()

    # After a restart the incremental sync carries no room state: the levels are read anew.
    again = await matrix_bot(dispatcher_with(probe), account=bot.account, store_dir=bot.store_dir)
    await helper.say(room, "!echo as helper")
    await helper.wait_for(notice_from(again.user_id, "as helper"))
    assert probe.calls == [("echo", helper.user_id, True)]
    # A level change is seen at once.
    await owner.client.room_put_state(
        room, "m.room.power_levels", {**(await _levels(owner, room)), "users": {}}
    )
    await helper.say(room, "!echo demoted")
    await helper.wait_for(notice_from(again.user_id, "demoted"))
    assert probe.calls[-1] == ("echo", helper.user_id, False)


async def _levels(p: Person, room: str) -> dict[str, Any]:
    res = await p.client.room_get_state_event(room, "m.room.power_levels")
    return dict(res.content)  # type: ignore[union-attr]


async def test_first_start_ignores_history(
    person: PersonFactory,
    matrix_bot: BotFactory,
    synapse: Synapse,
    register: Callable[[str], Account],
) -> None:
    # The bot's account is already in a room full of old commands before the bot starts.
    account = register("bot")
    human = await person()
    room = await human.create_room(invite=(account.user_id,))
    client = await connect(synapse, account)
    await client.join(room)
    await client.close()
    for i in range(3):
        await human.say(room, f"!echo old {i}")

    probe = ProbeCog()
    bot = await matrix_bot(dispatcher_with(probe), account=account)
    await settle(human, bot, room, "new")
    assert answers(human, bot) == ["new"]


async def test_commands_sent_before_the_bot_joined_are_not_answered(
    person: PersonFactory, matrix_bot: BotFactory
) -> None:
    bot = await matrix_bot(dispatcher_with(ProbeCog()))
    human = await person()
    room = await human.create_room()
    await human.say(room, "!echo not for you")
    await human.client.room_invite(room, bot.user_id)
    await human.wait_for(joined(bot.user_id))
    await settle(human, bot, room, "for you")
    assert answers(human, bot) == ["for you"]


async def test_homeserver_restart_mid_session_loses_and_repeats_nothing(
    person: PersonFactory, matrix_bot: BotFactory, synapse: Synapse
) -> None:
    gate, started = asyncio.Event(), asyncio.Event()

    class Slow(Cog):
        @command("slow", "Answers when the test lets it")
        async def slow(self, ctx: Context) -> None:
            started.set()
            await gate.wait()
            await ctx.reply("slow answer")

    bot = await matrix_bot(dispatcher_with(ProbeCog(), Slow()))
    human = await person()
    room = await room_with_bot(human, bot)
    await human.say(room, "!slow")
    await asyncio.wait_for(started.wait(), 10)
    try:
        synapse.stop()
        await asyncio.wait_for(_until(lambda: not bot.adapter.connected.is_set()), 10)
        # The answer is due while the server is away: it must arrive once, later.
        gate.set()
        await asyncio.wait_for(_until(lambda: bot.adapter.send_retries > 0), 10)
    finally:
        synapse.start()
    await asyncio.wait_for(bot.adapter.connected.wait(), 15)
    await human.say(room, "!echo back again")
    await human.wait_for(notice_from(bot.user_id, "back again"))
    await human.wait_for(notice_from(bot.user_id, "slow answer"))
    await settle(human, bot, room, "done")
    assert sorted(answers(human, bot)) == ["back again", "done", "slow answer"]
    assert bot.adapter.reconnects >= 1


async def _until(cond: Callable[[], bool]) -> None:
    # Polls adapter counters that have no event to wait on; bounded by the caller.
    while not cond():  # noqa: ASYNC110
        await asyncio.sleep(0.02)


async def test_encrypted_room_is_told_once_that_the_bot_cannot_read_it(
    person: PersonFactory, matrix_bot: BotFactory
) -> None:
    bot = await matrix_bot(dispatcher_with(ProbeCog()))
    human = await person()
    room = await room_with_bot(human, bot, encrypted=True)
    [notice] = await human.wait_for(notice_from(bot.user_id, "encrypted"))
    assert body(notice) == ENCRYPTED_NOTICE
    # An encrypted message (the bot cannot read it) does not bring the notice back.
    await human.client.room_send(
        room,
        "m.room.encrypted",
        {
            "algorithm": "m.megolm.v1.aes-sha2",
            "ciphertext": "AAAA",
            "sender_key": "key",
            "session_id": "x",
            "device_id": "DEV",
        },
    )
    await bot.stop()
    again = await matrix_bot(
        dispatcher_with(ProbeCog()), account=bot.account, store_dir=bot.store_dir
    )
    plain = await room_with_bot(human, again)
    await settle(human, again, plain, "still here")
    assert [body(e) for e in human.from_user(bot.user_id, room)] == [ENCRYPTED_NOTICE]


def test_missing_secret_is_a_clear_start_up_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_SUCH_MATRIX_SECRET", raising=False)
    cfg = Config(
        matrix=MatrixConfig(
            enabled=True,
            homeserver="http://127.0.0.1:1",
            user_id="@bot:localhost",
            password_env="NO_SUCH_MATRIX_SECRET",
        )
    )
    with pytest.raises(MatrixStartupError, match="NO_SUCH_MATRIX_SECRET is not set"):
        MatrixAdapter.from_config(cfg, Dispatcher())
    neither = Config(matrix=MatrixConfig(homeserver="http://x", user_id="@bot:localhost"))
    with pytest.raises(MatrixStartupError, match="password_env or access_token_env"):
        MatrixAdapter.from_config(neither, Dispatcher())
    bad_user = Config(matrix=MatrixConfig(homeserver="http://x", user_id="bot"))
    with pytest.raises(MatrixStartupError, match=r"matrix\.user_id"):
        MatrixAdapter.from_config(bad_user, Dispatcher())


async def test_unreachable_homeserver_is_a_clear_start_up_error(tmp_path: Path) -> None:
    port = free_port()  # nothing listens here
    cfg = MatrixConfig(homeserver=f"http://127.0.0.1:{port}", user_id="@bot:localhost")
    adapter = MatrixAdapter(cfg, Dispatcher(), store_dir=str(tmp_path), password="pw")
    with pytest.raises(MatrixStartupError, match=f"cannot reach the Matrix homeserver at .*{port}"):
        await adapter.start()


async def test_wrong_password_and_token_login(
    synapse: Synapse,
    register: Callable[[str], Account],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    account = register("bot")
    cfg = MatrixConfig(homeserver=synapse.url, user_id=account.user_id)
    wrong = MatrixAdapter(cfg, Dispatcher(), store_dir=str(tmp_path / "a"), password="nope")
    with pytest.raises(MatrixStartupError, match=r"login as .* failed"):
        await wrong.start()

    monkeypatch.setenv("TEST_MATRIX_TOKEN", account.access_token)
    full = Config(
        matrix=MatrixConfig(
            enabled=True,
            homeserver=synapse.url,
            user_id=account.user_id,
            access_token_env="TEST_MATRIX_TOKEN",
            store_path=str(tmp_path / "b"),
        )
    )
    adapter = MatrixAdapter.from_config(full, Dispatcher())
    await adapter.start()
    assert adapter.client is not None and adapter.client.device_id == account.device_id
    await adapter.stop()

    other = Config(
        matrix=MatrixConfig(
            homeserver=synapse.url,
            user_id="@someone-else:localhost",
            access_token_env="TEST_MATRIX_TOKEN",
            store_path=str(tmp_path / "c"),
        )
    )
    mismatch = MatrixAdapter.from_config(other, Dispatcher())
    with pytest.raises(MatrixStartupError, match="belongs to"):
        await mismatch.start()


async def test_a_repeated_send_key_posts_once_even_across_a_restart(
    person: PersonFactory, matrix_bot: BotFactory
) -> None:
    bot = await matrix_bot(dispatcher_with(ProbeCog()))
    human = await person()
    room = await room_with_bot(human, bot)
    where = Room("matrix", room, room)
    msg = Message((para("posted once"),))
    first = await bot.adapter.send(where, msg, key="delivery-7-3")
    device = bot.adapter.client.device_id if bot.adapter.client else None
    await bot.stop()

    # A resumed delivery sends the same message with the same key after a restart.
    again = await matrix_bot(
        dispatcher_with(ProbeCog()), account=bot.account, store_dir=bot.store_dir
    )
    assert again.adapter.client is not None and again.adapter.client.device_id == device
    second = await again.adapter.send(where, msg, key="delivery-7-3")
    assert [r.message_id for r in second] == [r.message_id for r in first]
    await settle(human, again, room, "end")
    assert answers(human, bot).count("posted once") == 1


async def test_with_encryption_enabled_the_bot_works_in_encrypted_rooms(
    person: PersonFactory, matrix_bot: BotFactory, synapse: Synapse
) -> None:
    pytest.importorskip("vodozemac", reason="needs matrix-nio[e2e]")
    probe = ProbeCog()
    bot = await matrix_bot(dispatcher_with(probe), encryption=True)
    assert bot.adapter.e2e
    human = await person(e2e=True)
    room = await room_with_bot(human, bot, encrypted=True)
    await human.sync()
    cmd = await human.say(room, "!echo whispered")
    [answer] = await human.wait_for(notice_from(bot.user_id, "whispered"))
    # It travelled encrypted, and the human's client decrypted it.
    raw = await raw_event(synapse, human, room, answer["event_id"])
    assert raw["type"] == "m.room.encrypted"
    assert "whispered" not in json.dumps(raw)
    assert answer["content"]["m.relates_to"] == {"m.in_reply_to": {"event_id": cmd}}
    assert not [e for e in human.from_user(bot.user_id) if body(e) == ENCRYPTED_NOTICE]

    # Threads and edits work encrypted too, and survive a restart of the bot.
    await human.say(room, "!story")
    await human.wait_for(notice_from(bot.user_id, ""), count=5)
    await bot.stop()
    again = await matrix_bot(
        dispatcher_with(probe), account=bot.account, store_dir=bot.store_dir, encryption=True
    )
    await human.say(room, "!warn")
    await human.wait_for(notice_from(again.user_id, "Warning applied."))
    edits = await human.wait_for(
        lambda e: e.get("content", {}).get("m.relates_to", {}).get("rel_type") == "m.replace",
        count=3,
    )
    assert edits[0]["content"]["m.new_content"]["body"] == "[Content warning: spiders]"


async def raw_event(synapse: Synapse, p: Person, room: str, event_id: str) -> dict[str, Any]:
    """The event as the server stores it (no client-side decryption)."""
    url = f"{synapse.url}/_matrix/client/v3/rooms/{room}/event/{event_id}"
    headers = {"Authorization": f"Bearer {p.client.access_token}"}
    async with aiohttp.ClientSession() as session, session.get(url, headers=headers) as resp:
        data: dict[str, Any] = await resp.json()
        return data


async def test_a_revoked_token_means_logging_in_again(
    person: PersonFactory, matrix_bot: BotFactory, synapse: Synapse
) -> None:
    bot = await matrix_bot(dispatcher_with(ProbeCog()))
    human = await person()
    room = await room_with_bot(human, bot)
    assert bot.adapter.client is not None
    old_token = bot.adapter.client.access_token
    # Someone logs the bot's session out (an admin, a password change elsewhere).
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"{synapse.url}/_matrix/client/v3/logout",
            headers={"Authorization": f"Bearer {old_token}"},
            json={},
        ) as resp,
    ):
        assert resp.status == 200
    await human.say(room, "!echo still answering")
    await human.wait_for(notice_from(bot.user_id, "still answering"))
    assert bot.adapter.relogins == 1
    assert bot.adapter.client.access_token != old_token
