"""The packed layout as each platform renders it: posts share chat messages up to the limit,
each keeps its number and link, a warned post is its own spoiler segment with its reason
visible, a post longer than a message is split, and hostile text cannot break out."""

from __future__ import annotations

import re

from bot.models import Author, ContentNote, Media, Post, Quote, Thread
from bot.render import html, markdown, plain
from bot.render.document import Capabilities
from bot.render.packing import group, linked, measure_for, packed, with_links
from bot.render.thread_view import NoteDecision, thread_messages

AUTHOR = Author("did:plc:alice", "alice.example.com", "Alice", "https://bsky.app/profile/a")
DISCORD = Capabilities(max_length=2000, markup="markdown", spoilers=True)
MATRIX = Capabilities(max_length=html.DEFAULT_MAX_LENGTH, markup="html", spoilers=True)


def post(i: int, text: str, **extra: object) -> Post:
    return Post(
        f"at://alice/{i}",
        f"https://bsky.app/profile/alice.example.com/post/p{i}",
        AUTHOR,
        "2026-05-14T09:00:00Z",
        text,
        **extra,  # type: ignore[arg-type]
    )


def thread(posts: list[Post], **extra: object) -> Thread:
    return Thread(
        "bluesky",
        posts[0].url,
        posts[0].id,
        AUTHOR,
        tuple(posts),
        **extra,  # type: ignore[arg-type]
    )


def warn_on_trauma(notes: object) -> NoteDecision:
    cats = [n.category for n in notes]  # type: ignore[attr-defined]
    if "trauma" in cats:
        return NoteDecision("warn", "Content warning: trauma")
    return NoteDecision()


def packs(t: Thread, caps: Capabilities, decide=warn_on_trauma):  # type: ignore[no-untyped-def]
    messages = with_links(thread_messages(t, decide), t)
    body = [linked(m) for m in messages[1:]]
    return [packed([body[i] for i in g]) for g in group(body, measure_for(caps))]


def sentence(i: int) -> str:
    return f"Post number {i} says something about herons and the tide, at some length here."


def test_consecutive_posts_share_discord_messages_under_the_limit() -> None:
    t = thread([post(i, sentence(i)) for i in range(1, 151)])
    out = [markdown.chunks(p, 2000) for p in packs(t, DISCORD)]
    assert all(len(chunks) == 1 for chunks in out)
    texts = [c[0] for c in out]
    assert all(len(x) <= 2000 for x in texts)
    assert len(texts) <= 12 and len(texts) < 150 / 5
    # Every post once, in order, its number a link to the post.
    numbers = [int(n) for x in texts for n in re.findall(r"\[(\d+)/150\]\(<", x)]
    assert numbers == list(range(1, 151))
    assert "[7/150](<https://bsky.app/profile/alice.example.com/post/p7>)" in "".join(texts)
    # A full message leaves no room for the next post: packing is greedy, not sparse.
    assert all(len(x) > 2000 - 200 for x in texts[:-1])


def test_matrix_events_hold_many_posts_within_16_kb_of_html() -> None:
    t = thread([post(i, sentence(i)) for i in range(1, 151)])
    events = [html.render(p) for p in packs(t, MATRIX)]
    assert all(len(e) == 1 for e in events)
    assert len(events) <= 4
    for [chunk] in events:
        assert len(chunk.formatted_body.encode()) <= html.PACK_LIMIT
        assert len(chunk.body.encode()) <= html.PACK_LIMIT
    joined = "".join(e[0].formatted_body for e in events)
    assert joined.count("<h4>") == 150
    assert '<a href="https://bsky.app/profile/alice.example.com/post/p42">' in joined


def test_each_warned_post_is_its_own_spoiler_with_the_reason_visible() -> None:
    trauma = (ContentNote("trauma", "auto", "flashback"),)
    posts = [post(i, sentence(i)) for i in range(1, 7)]
    t = thread(posts, post_notes=((posts[1].id, trauma), (posts[4].id, trauma)))
    [discord] = packs(t, DISCORD)
    [text] = markdown.chunks(discord, 2000)
    assert text.count("Content warning: trauma") == 2
    spoilers = re.findall(r"\|\|(.*?)\|\|", text, re.S)
    assert len(spoilers) == 2
    assert "Post number 2" in spoilers[0] and "Post number 5" in spoilers[1]
    assert "Post number 3" not in "".join(spoilers)  # the others stay readable
    # The reason sits outside the spoiler, right before it.
    assert re.search(r"Content warning: trauma\n\|\|", text)

    [matrix] = packs(t, MATRIX)
    [event] = html.render(matrix)
    # Each warned post is its own spoiler span; its reason is the note line right above.
    assert event.formatted_body.count("<span data-mx-spoiler") == 2
    assert event.formatted_body.count("Content warning: trauma</em></p><p><span data-mx") == 2
    assert "Post number 2" not in event.body and "Post number 5" not in event.body
    assert "Post number 3" in event.body
    assert event.body.count("Content warning: trauma\n\n[Hidden behind a content warning]") == 2

    console = Capabilities(max_length=100_000, markup="plain", spoilers=True)
    [together] = packs(t, console)
    hints = iter(["(reveal 1)", "(reveal 2)"])
    given: dict[int, str] = {}

    def hint(part: object) -> str:
        if getattr(part, "spoiler", None):
            return given.setdefault(id(part), next(hints))
        return ""

    shown = plain.message_text(together, reveal=False, hint_for=hint)
    assert "(reveal 1)" in shown and "(reveal 2)" in shown
    assert "Post number 2" not in shown and "Post number 4" in shown


def test_media_and_quotes_stay_with_their_post() -> None:
    posts = [post(i, sentence(i)) for i in range(1, 30)]
    posts[10] = post(
        11,
        "The photo.",
        media=(Media("image", "https://cdn.example/heron.jpg", "a heron"),),
        quote=Quote("https://bsky.app/profile/bob/post/q", "bob", "the quoted words"),
    )
    t = thread(posts)
    texts = [c for p in packs(t, DISCORD) for c in markdown.chunks(p, 2000)]
    holder = next(x for x in texts if "[11/29]" in x)
    own = holder.split("[11/29]")[1].split("[12/29]")[0]
    assert "a heron" in own and "the quoted words" in own


def test_a_post_longer_than_a_message_is_split_and_the_rest_still_packs() -> None:
    long = " ".join(f"word{i}" for i in range(900))  # about 6,000 characters
    posts = [post(1, sentence(1)), post(2, long), post(3, sentence(3)), post(4, sentence(4))]
    t = thread(posts)
    groups = packs(t, DISCORD)
    rendered = [markdown.chunks(p, 2000) for p in groups]
    assert [len(r) for r in rendered] == [1, 4, 1]  # post 2 alone, in four messages
    assert all(len(c) <= 2000 for r in rendered for c in r)
    words = " ".join(rendered[1]).split()
    assert [w for w in words if w.startswith("word")] == [f"word{i}" for i in range(900)]
    assert "[3/4]" in rendered[2][0] and "[4/4]" in rendered[2][0]


def test_hostile_text_cannot_open_spoilers_mentions_or_links_across_posts() -> None:
    trauma = (ContentNote("trauma", "auto", "x"),)
    hostile = "||unspoil|| @everyone [click](https://evil.example) **bold** `tick` <@123>"
    posts = [post(1, hostile), post(2, "secret words"), post(3, hostile * 40)]
    t = thread(posts, post_notes=((posts[1].id, trauma),))
    texts = [c for p in packs(t, DISCORD) for c in markdown.chunks(p, 2000)]
    joined = "\n".join(texts)
    assert "@everyone" not in joined.replace("@\u200beveryone", "")
    assert "\\|\\|unspoil\\|\\|" in joined and "\\[click\\]" in joined
    # The only real spoiler markers are the warned post's.
    real = re.findall(r"(?<!\\)\|\|", joined.replace("\\|\\|", ""))
    assert len(real) == 2
    assert all(len(x) <= 2000 for x in texts)
