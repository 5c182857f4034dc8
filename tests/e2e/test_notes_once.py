"""What a reader sees of content notes, through the whole bot (fake Bluesky, the app with
the content-notes feature, the in-memory adapter and the console as a real process): a
thread's own note shows once, in the header; a post names only what it adds; the chat
thread's title never shows warned text; private answers hide what the room hides."""

# Fixtures are imported from tests/e2e/test_content_notes_e2e.py and named as test arguments.
# ruff: noqa: F811

from __future__ import annotations

import re
from pathlib import Path

from bot.adapters.memory import MemoryAdapter
from bot.app import App
from bot.render import plain
from tests.e2e.test_content_notes_e2e import (  # noqa: F401
    SERVER_A,
    _thread,
    app,
    bsky,
    chat,
    http,
)
from tests.e2e.test_e2e_cli import run_cli
from tests.fakes.bluesky_server import FakeBluesky

CALM = [
    "The year I moved to the coast, in five short posts.",
    "The flat had a view of the harbour.",
    "Every morning the fishing boats went out.",
    "I learned the names of the gulls.",
    "That is all for now.",
]
SELF_HARM = re.compile(r"self.harm", re.IGNORECASE)


def _shown(chat: MemoryAdapter) -> str:
    return "\n".join(s.text for s in chat.sent)


async def test_a_moderator_warning_shows_once_not_on_every_post(
    app: App, chat: MemoryAdapter, bsky: FakeBluesky
) -> None:
    url = bsky.url(_thread(bsky, CALM)[0])
    await chat.command(f"cw add {url} self-harm", moderator=True, room=SERVER_A)
    await chat.command(f"unroll {url}", room=SERVER_A)

    header, *posts = chat.sent
    assert len(posts) == 5
    # Once, in the header (it used to be on the header and on each of the five posts).
    assert len(SELF_HARM.findall(_shown(chat))) == 1
    assert SELF_HARM.search(header.text)
    for i, (post, text) in enumerate(zip(posts, CALM, strict=True), start=1):
        # Still behind a spoiler (the memory chat records it revealed), with its number.
        assert post.message.spoiler and post.text.startswith(f"{i}/5\n{text}")
        hidden = plain.message_text(post.message, reveal=False)
        assert hidden == f"{i}/5\n[hidden]", hidden
    # The chat thread's title is not post 1's text, which is under the warning.
    (title,) = chat.threads.values()
    assert title == "Thread by @alice.example.com · 5 posts"


async def test_a_post_names_only_the_note_it_adds(
    app: App, chat: MemoryAdapter, bsky: FakeBluesky
) -> None:
    texts = list(CALM)
    texts[2] = "That winter I had suicidal thoughts most mornings."
    url = bsky.url(_thread(bsky, texts)[0])
    await chat.command(f"cw add {url} abuse", moderator=True, room=SERVER_A)
    await chat.command(f"unroll {url}", room=SERVER_A)

    header, *posts = chat.sent
    assert "abuse" in header.text and "suicide" in header.text
    assert _shown(chat).count("abuse") == 1
    # Post 3 adds suicide: its own line says so (and only that); the others add nothing.
    assert [("suicide" in p.text) for p in posts] == [False, False, True, False, False]
    notes = [[b for b in p.message.preface if b.kind == "note"] for p in posts]
    assert [bool(n) for n in notes] == [False, False, True, False, False]
    assert all(p.message.spoiler for p in posts)  # all behind the thread's warning


async def test_the_chat_thread_is_retitled_when_a_warning_is_added(
    app: App, chat: MemoryAdapter, bsky: FakeBluesky
) -> None:
    url = bsky.url(_thread(bsky, CALM)[0])
    await chat.command(f"unroll {url}", room=SERVER_A)
    (thread_id,) = chat.threads
    assert chat.threads[thread_id] == f"@alice.example.com: {CALM[0]}"

    await chat.command(f"cw add {url} trauma", moderator=True, room=SERVER_A)
    assert chat.threads[thread_id] == "Thread by @alice.example.com · 5 posts"
    await chat.command(f"cw remove {url}", moderator=True, room=SERVER_A)
    assert chat.threads[thread_id] == f"@alice.example.com: {CALM[0]}"


async def test_a_private_unroll_hides_what_the_room_hides(
    app: App, chat: MemoryAdapter, bsky: FakeBluesky
) -> None:
    url = bsky.url(_thread(bsky, CALM)[0])
    await chat.command(f"cw add {url} self-harm", moderator=True, room=SERVER_A)
    ctx = await chat.command(f"unroll {url} private:true", room=SERVER_A)
    answers = "\n".join(r.text for r in ctx.replies)
    assert all(r.private for r in ctx.replies)
    assert "Thread by" in answers
    assert not any(text in answers for text in CALM)
    assert len(SELF_HARM.findall(answers)) == 1


async def test_the_console_shows_the_note_once_and_hides_private_answers_too(
    bsky: FakeBluesky, tmp_path: Path
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        f"""
[storage]
path = "bot.sqlite3"
[network]
allow_private_addresses = true
retries = 1
[sources.bluesky]
appview_url = "{bsky.base_url}"
"""
    )
    url = bsky.url(_thread(bsky, CALM)[0])
    script = f"/cw add {url} self-harm\n/unroll {url}\n/unroll {url} private:true\n/reveal 7\n"
    code, out, err = await run_cli("console", config=config, stdin=script)
    assert code == 0, err
    added, room, private = out.split("🧵 Thread by")
    assert "Content warning added" in added
    # Today's console printed the reason 11 times for this thread: the header, and a note
    # line plus a "[hidden: reason]" marker on each of the five posts.
    assert len(SELF_HARM.findall(room)) == 1
    # Each post keeps its number (a link to it) in sight above its hidden text.
    numbered = re.findall(r"(\d)/5 https://\S+\n  │ \[hidden\] \(type /reveal", room)
    assert [int(n) for n in numbered] == [1, 2, 3, 4, 5]
    assert not any(text in room for text in CALM)
    # private:true answers are hidden the same way; /reveal 7 shows post 2 of them.
    revealed = private.split("[hidden] (type /reveal 10 to show it)")[1]
    assert not any(text in private.replace(revealed, "") for text in CALM)
    assert CALM[1] in revealed and CALM[0] not in revealed
    assert len(SELF_HARM.findall(private)) == 1


async def test_hidden_posts_keep_their_number_and_link_and_the_note_shows_once(
    app: App, chat: MemoryAdapter, bsky: FakeBluesky
) -> None:
    keys = _thread(bsky, CALM)
    url = bsky.url(keys[0])
    await chat.command("cw policy self-harm hide", moderator=True, room=SERVER_A)
    await chat.command(f"cw add {url} self-harm", moderator=True, room=SERVER_A)
    await chat.command(f"unroll {url}", room=SERVER_A)

    header, *posts = chat.sent
    assert len(SELF_HARM.findall(_shown(chat))) == 1 and SELF_HARM.search(header.text)
    for i, (post, key) in enumerate(zip(posts, keys, strict=True), start=1):
        assert post.text == f"{i}/5\nHidden by the content note above: {bsky.url(key)}"
