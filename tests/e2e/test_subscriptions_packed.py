"""Subscriptions with packed messages (the default): posts the author adds later join the
last message when they fit (it is edited in place), else open a new message; an append cut
short by a failure is finished later, without repeating a post."""

# The fixture comes from the subscriptions flow tests and is named as a test argument.
# ruff: noqa: F811

from __future__ import annotations

from bot.adapters.memory import MemoryAdapter
from bot.context import MessageRef
from bot.render.document import Capabilities, Message
from tests.e2e.test_subscriptions_flow import Bot, bot  # noqa: F401


async def _posted(bot: Bot, n: int) -> list[str]:
    bot.app.layouts.default = "packed"  # the flow tests' fixture pins per-post
    await bot.say("subscribe alice.example.com")
    keys = bot.thread("alice", n)
    await bot.run(700)
    return keys


async def _holdings(bot: Bot) -> list[list[str]]:
    """The posts each message of the delivery holds, from the outbox."""
    record = await bot.app.deliveries.find_by_message("memory", bot.headers()[0].ref.message_id)
    assert record is not None
    return [list(m.post_ids) for m in record.messages[1:]]


async def test_a_later_post_joins_the_last_message_when_it_fits(bot: Bot) -> None:
    keys = await _posted(bot, 3)
    [header] = bot.headers()
    [message] = bot.in_thread(header)
    assert all(f"Part {i}/3" in message for i in (1, 2, 3))
    bot.add_replies("alice", keys[-1], 2)
    await bot.run(700)
    [grown] = bot.in_thread(header)  # still one message, edited in place
    assert "Part 3/3" in grown and grown.index("Later 1") < grown.index("Later 2")
    assert "5 posts" in header.text
    held = await _holdings(bot)
    assert len(held) == 1 and len(held[0]) == 5
    await bot.run(1800)
    assert len(bot.in_thread(header)) == 1 and bot.in_thread(header)[0].count("Later 1") == 1


async def test_a_later_post_opens_a_new_message_when_the_last_is_full(bot: Bot) -> None:
    bot.chat.capabilities = Capabilities(
        max_length=260, markup="plain", spoilers=True, threads=True, edits=True
    )
    keys = await _posted(bot, 3)
    [header] = bot.headers()
    [first] = [s for s in bot.chat.sent if s.thread is not None]
    bot.add_replies("alice", keys[-1], 2)
    await bot.run(700)
    texts = bot.in_thread(header)
    assert len(texts) == 2 and "Later 1" in texts[1] and "Later 2" in texts[1]
    assert not first.edits and "Later" not in texts[0]
    assert [len(h) for h in await _holdings(bot)] == [3, 2]


class FailingEdits(MemoryAdapter):
    """Edits fail while ``broken``, as when the platform is briefly unreachable."""

    broken = True

    async def edit(self, refs: list[MessageRef], message: Message) -> list[MessageRef]:
        if self.broken and message.parts:
            raise ConnectionError("edit failed")
        return await super().edit(refs, message)


async def test_a_join_cut_short_is_finished_later_without_repeating(bot: Bot) -> None:
    chat = FailingEdits(bot.app.dispatcher)
    bot.chat = chat
    bot.app.adapters["memory"] = chat
    keys = await _posted(bot, 2)
    [header] = bot.headers()
    bot.add_replies("alice", keys[-1], 1)
    await bot.run(700)
    assert "Later 1" not in bot.in_thread(header)[0]
    assert "last problem: posting failed: edit failed" in await bot.say("subscriptions")
    chat.broken = False
    await bot.run(1800)
    [grown] = bot.in_thread(header)
    assert grown.count("Later 1") == 1 and "Part 2/2" in grown
    assert len([s for s in chat.sent if s.thread is not None]) == 1


async def test_later_posts_fill_the_last_message_then_pack_into_a_new_one(bot: Bot) -> None:
    # Room for one more post in the last message: the first later post joins it (edited
    # in place), the next two share one new message, all in order.
    bot.chat.capabilities = Capabilities(
        max_length=310, markup="plain", spoilers=True, threads=True, edits=True
    )
    keys = await _posted(bot, 3)
    [header] = bot.headers()
    bot.add_replies("alice", keys[-1], 3)
    await bot.run(700)
    texts = bot.in_thread(header)
    assert len(texts) == 2
    assert "Part 3/3" in texts[0] and "Later 1" in texts[0] and "Later 2" not in texts[0]
    assert texts[1].index("Later 2") < texts[1].index("Later 3") and "Later 1" not in texts[1]
    assert [len(h) for h in await _holdings(bot)] == [4, 2]
