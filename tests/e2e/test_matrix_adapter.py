"""The Matrix adapter against a real Synapse, driven by a person at a second nio client:
invites, commands, threads and their fallbacks, spoilers, power levels, edits."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from bot.adapters.matrix.content import BLANKED
from bot.commands import Cog, command
from bot.context import Context, Room
from bot.render.document import Message, para
from tests.e2e.conftest_matrix import (
    BotFactory,
    PersonFactory,
    ProbeCog,
    body,
    dispatcher_with,
    joined,
    notice_from,
    room_with_bot,
)

pytestmark = pytest.mark.synapse


async def test_joins_on_invite_and_answers_a_command_with_a_rich_reply(
    person: PersonFactory, matrix_bot: BotFactory
) -> None:
    probe = ProbeCog()
    bot = await matrix_bot(dispatcher_with(probe))
    human = await person()
    room = await room_with_bot(human, bot)

    cmd = await human.say(room, "!echo hello there")
    [answer] = await human.wait_for(notice_from(bot.user_id, "hello there"))
    assert answer["room_id"] == room
    assert answer["content"]["m.relates_to"] == {"m.in_reply_to": {"event_id": cmd}}
    assert answer["content"]["m.mentions"] == {}
    assert probe.calls == [("echo", human.user_id, True)]  # room creator: level 100


async def test_ignores_plain_talk_notices_edits_and_its_own_messages(
    person: PersonFactory, matrix_bot: BotFactory
) -> None:
    probe = ProbeCog()
    bot = await matrix_bot(dispatcher_with(probe))
    human = await person()
    room = await room_with_bot(human, bot)

    await human.say(room, "just talking about !echo")
    await human.say(room, "!echo from a bot", msgtype="m.notice")
    first = await human.say(room, "!echo once")
    await human.say(
        room,
        "* !echo once",
        **{
            "m.new_content": {"msgtype": "m.text", "body": "!echo once"},
            "m.relates_to": {"rel_type": "m.replace", "event_id": first},
        },
    )
    # The bot's own "!echo" text must not trigger it again (no loop).
    await human.say(room, "!echo !echo loop")
    await human.wait_for(notice_from(bot.user_id, "!echo loop"))
    await human.say(room, "!echo last")
    await human.wait_for(notice_from(bot.user_id, "last"))
    assert [c[0] for c in probe.calls] == ["echo", "echo", "echo"]
    answers = [body(e) for e in human.from_user(bot.user_id, room)]
    assert answers == ["once", "!echo loop", "last"]


async def test_declines_invites_from_users_not_allowed(
    person: PersonFactory, matrix_bot: BotFactory
) -> None:
    human = await person()
    bot = await matrix_bot(dispatcher_with(ProbeCog()), allowed_inviters=[":elsewhere.example"])
    room = await human.create_room(invite=(bot.user_id,))
    leave = await human.wait_for(
        lambda e: (
            e.get("type") == "m.room.member"
            and e.get("state_key") == bot.user_id
            and e["content"].get("membership") == "leave"
        )
    )
    assert leave[0]["room_id"] == room

    allowed = await person("friend")
    bot2 = await matrix_bot(dispatcher_with(ProbeCog()), allowed_inviters=[allowed.user_id])
    room2 = await allowed.create_room(invite=(bot2.user_id,))
    await allowed.wait_for(joined(bot2.user_id))
    assert room2 != room


async def test_thread_output_has_thread_relation_and_reply_fallbacks(
    person: PersonFactory, matrix_bot: BotFactory
) -> None:
    probe = ProbeCog()
    bot = await matrix_bot(dispatcher_with(probe))
    human = await person()
    room = await room_with_bot(human, bot)

    await human.say(room, "!story")
    events = await human.wait_for(notice_from(bot.user_id), count=4)
    header, *posts = events
    assert body(header) == "Header"
    assert "m.relates_to" not in header["content"]
    previous = header["event_id"]
    for i, post in enumerate(posts):
        assert body(post) == f"post {i}"
        assert post["content"]["m.relates_to"] == {
            "rel_type": "m.thread",
            "event_id": header["event_id"],
            "is_falling_back": True,
            "m.in_reply_to": {"event_id": previous},
        }
        assert post["content"]["formatted_body"] == f"<p>post {i}</p>"
        previous = post["event_id"]


async def test_spoiler_body_never_holds_the_hidden_text(
    person: PersonFactory, matrix_bot: BotFactory
) -> None:
    bot = await matrix_bot(dispatcher_with(ProbeCog()))
    human = await person()
    room = await room_with_bot(human, bot)

    await human.say(room, "!secret eating disorders")
    [event] = await human.wait_for(notice_from(bot.user_id))
    content = event["content"]
    assert content["body"] == "[Content warning: eating disorders]"
    assert "hidden" not in content["body"]
    assert content["formatted_body"] == (
        '<p><span data-mx-spoiler="eating disorders">the hidden words</span></p>'
    )


async def test_moderator_commands_follow_room_power_levels(
    person: PersonFactory, matrix_bot: BotFactory
) -> None:
    probe = ProbeCog()
    bot = await matrix_bot(dispatcher_with(probe), moderator_power_level=50)
    owner = await person("owner")
    helper = await person("helper")
    guest = await person("guest")
    room = await owner.create_room(
        invite=(bot.user_id, helper.user_id, guest.user_id),
        power={helper.user_id: 50, guest.user_id: 49},
    )
    await owner.wait_for(joined(bot.user_id))
    for p in (helper, guest):
        await p.client.join(room)

    await owner.say(room, "!story")
    await owner.wait_for(notice_from(bot.user_id), count=4)

    await guest.say(room, "!warn")
    [refusal] = await guest.wait_for(notice_from(bot.user_id, "Only moderators"))
    assert "moderator power level" in body(refusal)

    await helper.say(room, "!warn")
    await helper.wait_for(notice_from(bot.user_id, "Warning applied."))

    # Help shows moderator commands only to moderators.
    await guest.say(room, "!help")
    [guest_help] = await guest.wait_for(notice_from(bot.user_id, "Commands:"))
    assert "!warn" not in body(guest_help)
    assert "!echo <text...>" in body(guest_help)


async def test_edits_after_a_warning_replace_posts_in_place(
    person: PersonFactory, matrix_bot: BotFactory
) -> None:
    probe = ProbeCog()
    bot = await matrix_bot(dispatcher_with(probe))
    human = await person()
    room = await room_with_bot(human, bot)
    await human.say(room, "!story")
    _header, *posts = await human.wait_for(notice_from(bot.user_id), count=4)

    await human.say(room, "!warn")
    await human.wait_for(notice_from(bot.user_id, "Warning applied."))
    edits = await human.wait_for(
        lambda e: e.get("content", {}).get("m.relates_to", {}).get("rel_type") == "m.replace",
        count=3,
    )
    assert [e["content"]["m.relates_to"]["event_id"] for e in edits] == [
        p["event_id"] for p in posts
    ]
    for i, edit in enumerate(edits):
        new = edit["content"]["m.new_content"]
        assert new["body"] == "[Content warning: spiders]"
        assert new["formatted_body"] == (f'<p><span data-mx-spoiler="spiders">post {i}</span></p>')
        assert f"post {i}" not in edit["content"]["body"]  # the fallback leaks nothing
        assert "m.relates_to" not in new
    # The server agrees: fetching a post shows the replacement.
    ev = await human.client.room_get_event(room, posts[0]["event_id"])
    relations = ev.event.source.get("unsigned", {}).get("m.relations", {})  # type: ignore[union-attr]
    assert relations.get("m.replace", {}).get("event_id") == edits[0]["event_id"]


async def test_unknown_and_malformed_commands_get_a_short_answer(
    person: PersonFactory, matrix_bot: BotFactory
) -> None:
    bot = await matrix_bot(dispatcher_with(ProbeCog()), command_prefix="?")
    human = await person()
    room = await room_with_bot(human, bot)
    await human.say(room, "?nosuch thing")
    [a] = await human.wait_for(notice_from(bot.user_id, "Unknown command"))
    assert body(a) == "Unknown command 'nosuch'. Type ?help for the commands."  # this room's prefix
    await human.say(room, '?echo "unclosed')
    [b] = await human.wait_for(notice_from(bot.user_id, "Could not read the arguments"))
    assert "Usage: ?echo" in body(b)
    await human.say(room, "!echo wrong prefix")
    await human.say(room, "?echo right prefix")
    await human.wait_for(notice_from(bot.user_id, "right prefix"))
    assert not [e for e in human.from_user(bot.user_id) if "wrong prefix" in body(e)]
    assert a["room_id"] == b["room_id"] == room


async def test_slow_work_shows_typing(person: PersonFactory, matrix_bot: BotFactory) -> None:
    gate = asyncio.Event()

    class Slow(Cog):
        @command("slow", "Takes a while")
        async def slow(self, ctx: Context) -> None:
            await ctx.progress("working")
            await gate.wait()
            await ctx.reply("done")

    bot = await matrix_bot(dispatcher_with(Slow()))
    human = await person()
    room = await room_with_bot(human, bot)
    await human.say(room, "!slow")

    async def typing_users() -> list[str]:
        await human.sync(timeout_ms=500)
        r = human.client.rooms[room]
        return list(r.typing_users)

    for _ in range(20):
        if bot.user_id in await typing_users():
            break
    else:
        raise AssertionError("the bot never showed it was typing")
    gate.set()
    await human.wait_for(notice_from(bot.user_id, "done"))
    for _ in range(20):
        if bot.user_id not in await typing_users():
            break
    else:
        raise AssertionError("the bot kept typing after it answered")


async def test_a_command_inside_a_thread_is_answered_in_that_thread(
    person: PersonFactory, matrix_bot: BotFactory
) -> None:
    bot = await matrix_bot(dispatcher_with(ProbeCog()))
    human = await person()
    room = await room_with_bot(human, bot)
    root = await human.say(room, "a topic")
    relation = {
        "rel_type": "m.thread",
        "event_id": root,
        "is_falling_back": True,
        "m.in_reply_to": {"event_id": root},
    }
    cmd = await human.say(room, "!echo in the thread", **{"m.relates_to": relation})
    [answer] = await human.wait_for(notice_from(bot.user_id, "in the thread"))
    assert answer["content"]["m.relates_to"] == {
        "rel_type": "m.thread",
        "event_id": root,
        "is_falling_back": False,  # a real reply to the command, not a fallback
        "m.in_reply_to": {"event_id": cmd},
    }


async def test_an_edit_that_grows_adds_events_and_one_that_shrinks_blanks_them(
    person: PersonFactory, matrix_bot: BotFactory
) -> None:
    bot = await matrix_bot(dispatcher_with(ProbeCog()))
    human = await person()
    room_id = await room_with_bot(human, bot)
    room = Room("matrix", room_id, room_id)
    [header] = await bot.adapter.send(room, Message((para("Header"),), kind="header"))
    thread = await bot.adapter.start_thread(room, header, "t")
    [post] = await bot.adapter.send(room, Message((para("short"),)), thread=thread)

    long_text = " ".join(f"word{i}" for i in range(4000))  # over one event's budget
    grown = await bot.adapter.edit([post], Message((para(long_text),)))
    assert grown[0] == post and len(grown) >= 2
    for ref in grown[1:]:
        assert ref.thread_id == header.message_id
    shrunk = await bot.adapter.edit(grown, Message((para("short again"),)))
    assert [r.message_id for r in shrunk] == [r.message_id for r in grown]

    def replaced(target: str) -> list[dict[str, Any]]:
        return [
            e
            for e in human.events
            if e.get("content", {}).get("m.relates_to", {}).get("event_id") == target
            and e["content"]["m.relates_to"].get("rel_type") == "m.replace"
        ]

    await human.wait_for(lambda e: bool(replaced(grown[-1].message_id)))
    assert replaced(post.message_id)[-1]["content"]["m.new_content"]["body"] == "short again"
    for ref in grown[1:]:
        assert replaced(ref.message_id)[-1]["content"]["m.new_content"]["body"] == BLANKED
    # The added events continue the thread, with the reply fallback.
    extra = [e for e in human.events if e.get("event_id") == grown[1].message_id]
    assert extra[0]["content"]["m.relates_to"]["rel_type"] == "m.thread"
    assert extra[0]["content"]["m.relates_to"]["is_falling_back"] is True
