"""Content notes as a Discord user sees them, through the real discord.py against the fake
Discord: the thread's note once, a thread title that never shows warned text (and is
renamed when a warning is added), and no link previews on warned messages."""

# The Discord harness comes from tests/e2e/test_discord_e2e.py, named as a test argument.
# ruff: noqa: F811

from __future__ import annotations

import re
from typing import Any

from tests.e2e.test_discord_e2e import Harness, bot, shown  # noqa: F401

TEXTS = [
    "The year I moved to the coast, in five short posts.",
    "The flat had a view of the harbour.",
    "Every morning the fishing boats went out.",
    "I learned the names of the gulls.",
    "That is all for now.",
]
SELF_HARM = re.compile(r"self.harm", re.IGNORECASE)
BARE_URL = re.compile(r"(?<![<(])https?://[^\s<>|)]+")
THREADS = "/channels/{channel_id}/messages/{message_id}/threads"


def _seen(bot: Harness, header: dict[str, Any]) -> list[str]:
    return [header["content"]] + [m["content"] for m in bot.fake.channel_messages(header["id"])]


async def _cw_add(bot: Harness, url: str, category: str) -> None:
    mod = bot.fake.new_user("mod", moderator=True)
    rec = await bot.fake.slash("cw add", mod, url=url, categories=category)
    await bot.settled(rec)
    assert "Content warning added" in " ".join(rec.texts())


async def test_a_moderator_warning_shows_once_and_the_title_hides_the_text(bot: Harness) -> None:
    url = bot.source.add("710", TEXTS, media=True)
    await _cw_add(bot, url, "self-harm")
    await bot.unroll(url)

    header = bot.channel_posts()[-1]
    seen = _seen(bot, header)
    assert len(seen) == 6
    # Once, in the header (it used to be on the header and each of the five posts).
    assert len(SELF_HARM.findall("\n".join(seen))) == 1
    assert SELF_HARM.search(header["content"])
    for i, content in enumerate(seen[1:], start=1):
        number, spoiler = content.split("\n", 1)
        assert number == f"**{i}/5**"
        assert spoiler.startswith("||") and spoiler.endswith("||")
    # No link in these messages unfurls: a preview of the post would show its text.
    for content in seen:
        assert BARE_URL.findall(content) == [], content
    assert f"<{url}>" in header["content"]
    assert "<https://img.example/" in seen[1]

    (create,) = bot.fake.calls_to("POST", THREADS)
    assert create.json["name"] == "Thread by @alice · 5 posts"
    assert not any(text[:20] in create.json["name"] for text in TEXTS)


async def test_adding_a_warning_renames_the_thread_and_stops_previews(bot: Harness) -> None:
    url = bot.source.add("720", TEXTS, media=True)
    await bot.unroll(url)
    header = bot.channel_posts()[-1]
    thread = bot.fake.threads[header["id"]]
    assert thread["name"] == f"@alice: {TEXTS[0]}"
    # Nothing is warned: the image link previews as usual.
    first = bot.fake.channel_messages(header["id"])[0]["content"]
    assert [u for u in BARE_URL.findall(first) if u.startswith("https://img.example/")]

    await _cw_add(bot, url, "self-harm")
    (rename,) = bot.fake.calls_to("PATCH", "/channels/{channel_id}")
    assert rename.path.endswith(f"/channels/{header['id']}")
    assert thread["name"] == "Thread by @alice · 5 posts"
    seen = _seen(bot, header)
    assert len(SELF_HARM.findall("\n".join(seen))) == 1
    for content in seen:
        assert BARE_URL.findall(content) == [], content


async def test_a_second_warning_leaves_the_title_alone(bot: Harness) -> None:
    url = bot.source.add("730", TEXTS[:2])
    await bot.unroll(url)
    header = bot.channel_posts()[-1]
    await _cw_add(bot, url, "trauma")
    assert bot.fake.threads[header["id"]]["name"] == "Thread by @alice · 2 posts"
    await _cw_add(bot, url, "self-harm")
    assert len(bot.fake.calls_to("PATCH", "/channels/{channel_id}")) == 1


async def test_a_thread_it_was_unrolled_into_keeps_its_title(bot: Harness) -> None:
    outer = bot.source.add("740", ["the outer thread"])
    await bot.unroll(outer)
    thread_id = bot.channel_posts()[-1]["id"]
    inner = bot.source.add("741", ["inner one", "inner two"])
    rec = await bot.fake.slash("unroll", channel_id=thread_id, url=inner)
    await bot.settled(rec)

    await _cw_add(bot, inner, "self-harm")
    # The warning is about the inner thread; the title belongs to the outer one.
    assert bot.fake.threads[thread_id]["name"] == "@alice: the outer thread"
    assert bot.fake.calls_to("PATCH", "/channels/{channel_id}") == []
    inside = [m["content"] for m in bot.fake.channel_messages(thread_id)]
    assert "inner one" not in inside[-2].split("||")[0]


async def test_a_private_unroll_hides_warned_posts_like_the_channel(bot: Harness) -> None:
    url = bot.source.add("750", TEXTS)
    await _cw_add(bot, url, "self-harm")
    rec = await bot.unroll(url, private=True)
    answers = rec.texts()
    assert bot.channel_posts() == []
    outside = "\n".join(re.sub(r"\|\|.*?\|\|", "", a, flags=re.DOTALL) for a in answers)
    assert not any(text in outside for text in TEXTS)
    assert all(any(text in a for a in answers) for text in TEXTS)  # behind spoilers
    assert len(SELF_HARM.findall("\n".join(answers))) == 1
