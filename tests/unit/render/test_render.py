"""Rendering: numbering, asides, placeholders, content-note decisions, Discord markdown
chunks (limits, spoilers per chunk, escaping, links intact), plain text reveal."""

from __future__ import annotations

import re

from bot.models import Aside, Author, ContentNote, Media, Post, Quote, Thread
from bot.render import markdown, plain
from bot.render.document import Message, para
from bot.render.thread_view import NoteDecision, default_decide, thread_messages

ALICE = Author("did:alice", "alice.test", "Alice", "https://bsky.app/profile/alice.test")


def _post(pid: str, text: str = "", **kw: object) -> Post:
    return Post(
        pid, f"https://x.test/{pid}", ALICE, "2026-01-01T00:00:00Z", text or f"text {pid}", **kw
    )  # type: ignore[arg-type]


def _thread(*posts: Post, **kw: object) -> Thread:
    return Thread("bluesky", posts[0].url, posts[0].id, ALICE, posts, **kw)  # type: ignore[arg-type]


def _texts(thread: Thread, decide=default_decide) -> list[str]:  # type: ignore[no-untyped-def]
    return [plain.message_text(m) for m in thread_messages(thread, decide)]


def test_header_then_numbered_posts_with_asides_and_placeholders() -> None:
    gone = Post("p2", "", ALICE, "", "", status="unavailable")
    thread = _thread(_post("p1"), gone, _post("p3"), asides=(Aside("p1", (_post("b1"),)),))
    texts = _texts(thread)
    # One count everywhere: 3 numbered posts (labels "n/3") and the aside beside them.
    assert texts[0].startswith("🧵 Thread by Alice (@alice.test) · 3 posts + 1 aside")
    assert "Original: https://x.test/p1" in texts[0]
    assert texts[1].startswith("1/3")
    assert texts[2].startswith("↳ aside to 1/3") and "text b1" in texts[2]
    assert "[this post is unavailable]" in texts[3]
    assert texts[4].startswith("3/3")


def test_media_alt_text_and_quotes_are_shown() -> None:
    p = _post(
        "p1",
        media=(
            Media("image", "https://cdn.test/i.jpg", "A chart of uptime"),
            Media("image", "https://cdn.test/j.jpg"),
        ),
        quote=Quote("https://x.test/q", "bob.test", "quoted words"),
    )
    text = _texts(_thread(p))[1]
    assert "[image: A chart of uptime] https://cdn.test/i.jpg" in text
    assert "[image: no alt text]" in text
    assert "> Quoting @bob.test: quoted words https://x.test/q" in text


def test_hidden_quote_says_why() -> None:
    p = _post(
        "p1",
        quote=Quote(
            "https://x.test/q", "bob.test", "secret", hidden_reason="hidden at its author's request"
        ),
    )
    text = _texts(_thread(p))[1]
    assert "hidden at its author's request" in text and "secret" not in text


def test_warn_puts_content_behind_a_spoiler_with_the_reason_visible() -> None:
    note = ContentNote("suicide", "auto", "suicidal")
    thread = _thread(
        _post("p1", "a calm post"), _post("p2", "the hard words"), post_notes=(("p2", (note,)),)
    )

    def decide(notes):  # type: ignore[no-untyped-def]
        return NoteDecision("warn", "Content warning: suicide") if notes else NoteDecision()

    messages = thread_messages(thread, decide)
    assert messages[1].spoiler is None
    assert messages[2].spoiler == "Content warning: suicide"
    hidden = plain.message_text(messages[2], reveal=False, hidden_hint="(type /reveal 1)")
    assert "the hard words" not in hidden and "Content warning: suicide" in hidden
    chunks = markdown.chunks(messages[2])
    # The post's number stays readable, then the reason, then the spoiler.
    assert chunks[0].startswith("**2/2**\n-# ⚠️ Content warning: suicide")
    assert "||" in chunks[0] and "the hard words" in chunks[0].split("||")[1]


def test_hide_shows_only_a_link_and_the_note() -> None:
    note = ContentNote("self-harm", "moderator", "self-harm")
    thread = _thread(_post("p1", "do not show me"), content_notes=(note,))
    texts = _texts(
        thread,
        lambda notes: NoteDecision("hide", "Content note: self harm") if notes else NoteDecision(),
    )
    assert "do not show me" not in texts[1]
    assert "https://x.test/p1" in texts[1]


def test_a_hostile_servers_endless_post_fills_a_bounded_number_of_messages() -> None:
    endless = " ".join(f"word{i}" for i in range(40_000))  # about 290,000 characters
    media = tuple(Media("image", f"https://cdn.test/{i}.jpg", f"pic {i}") for i in range(500))
    message = thread_messages(_thread(_post("p1", endless, media=media)))[1]
    assert len(markdown.chunks(message, 2000)) <= 16  # not the 150 the whole post would take
    text = plain.message_text(message)
    # What is left out is said, with the way to the rest.
    assert "[the post goes on] https://x.test/p1" in text
    assert "[480 more attachments] https://x.test/p1" in text
    assert "pic 19" in text and "pic 20" not in text


def test_the_longest_real_posts_are_shown_whole() -> None:
    # X's long posts run to 25,000 characters; Misskey allows 16 attachments.
    long_post = ("word " * 5_000).strip()
    media = tuple(Media("image", f"https://cdn.test/{i}.jpg", f"pic {i}") for i in range(20))
    text = _texts(_thread(_post("p1", long_post, media=media)))[1]
    assert text.count("word") == 5_000 and "pic 19" in text
    assert "goes on" not in text and "more attachments" not in text


def test_markdown_chunks_stay_under_the_limit_without_breaking_words_or_links() -> None:
    url = "https://example.com/some_path_with_underscores/and*stars"
    words = " ".join(f"word{i}" for i in range(700))
    text = f"{words} {url} {words}"
    thread = _thread(_post("p1", text))
    chunks = markdown.chunks(thread_messages(thread)[1], 2000)
    assert len(chunks) >= 3
    assert all(len(c) <= 2000 for c in chunks)
    joined = " ".join(chunks)
    assert url in joined  # never escaped or split
    tokens = re.findall(r"word\d+", joined)
    assert len(tokens) == 1400  # no word was cut in half


def test_spoiler_wraps_every_chunk() -> None:
    long = " ".join(f"hard{i}" for i in range(800))
    note = ContentNote("abuse", "auto", "abuse")
    thread = _thread(_post("p1", "calm"), _post("p2", long), post_notes=(("p2", (note,)),))
    msg = thread_messages(
        thread, lambda n: NoteDecision("warn", "Content warning: abuse") if n else NoteDecision()
    )[2]
    chunks = markdown.chunks(msg, 2000)
    assert len(chunks) >= 2
    # The number and the reason come first.
    assert chunks[0].startswith("**2/2**\n-# ⚠️ Content warning: abuse")
    for c in chunks:
        assert len(c) <= 2000
        body = c.rsplit("\n", 1)[-1]
        if body.startswith("-#"):
            continue  # the note line on its own when the first chunk is full
        assert body.startswith("||") and body.endswith("||")
        assert "hard" in body


def test_source_markdown_is_escaped_and_mass_mentions_are_inert() -> None:
    thread = _thread(_post("p1", "**not bold** and @everyone _x_ # heading"))
    out = markdown.chunks(thread_messages(thread)[1])[0]
    assert "\\*\\*not bold\\*\\*" in out
    assert "@everyone" not in out and "@\u200beveryone" in out
    assert "\\_x\\_" in out


def test_truncated_and_notices_in_header() -> None:
    thread = _thread(_post("p1"), truncated=True, notices=("Later posts may be missing.",))
    header = _texts(thread)[0]
    assert "Cut after 1 post " in header and "Later posts may be missing." in header


def test_escaping_touches_only_what_discord_would_read_as_markup() -> None:
    text = "Self-harm (and #hashtags) stay readable; *this* and [that](x) do not format\n- a list"
    out = markdown.escape(text)
    assert "Self-harm (and #hashtags) stay readable" in out
    assert "\\*this\\*" in out and "\\[that\\](x)" in out
    assert out.endswith("\n\\- a list")


def test_plain_text_names_a_hidden_posts_reason_once() -> None:
    # A reason no note line shows yet is named in the marker, as the Matrix body does,
    # without a second "Content note" in front of one that says so already.
    for reason, marker in (
        ("Content note: suicide", "[Content note: suicide]"),
        ("graphic", "[Content warning: graphic]"),
    ):
        message = Message((para("the hard words"),), spoiler=reason)
        hidden = plain.message_text(message, reveal=False, hidden_hint="(type /reveal 1)")
        assert hidden == f"{marker} (type /reveal 1)"
        assert hidden.lower().count("content") == 1
