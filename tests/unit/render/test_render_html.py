"""Matrix HTML rendering: what a reader's client shows, and what it must never show."""

from __future__ import annotations

import re

from bot.render.document import Attachment, Block, Inline, Message, link, para
from bot.render.html import cw_marker, render, sanitize


def visible_text(formatted: str) -> str:
    return re.sub(r"<[^>]+>", " ", formatted)


def test_plain_message_has_links_quotes_and_line_breaks() -> None:
    msg = Message(
        (
            para("first line\nsecond ", link("a link", "https://example.org/x?a=1&b=2")),
            Block("quote", (Inline("quoted\ntext"),)),
        )
    )
    [chunk] = render(msg)
    assert chunk.body == (
        "first line\nsecond a link (https://example.org/x?a=1&b=2)\n\n> quoted\n> text"
    )
    assert chunk.formatted_body == (
        '<p>first line<br>second <a href="https://example.org/x?a=1&amp;b=2">a link</a></p>'
        "<blockquote>quoted<br>text</blockquote>"
    )
    assert chunk.content()["format"] == "org.matrix.custom.html"
    assert chunk.content()["msgtype"] == "m.notice"


def test_markup_in_post_text_is_shown_as_text_not_run() -> None:
    evil = '<script>alert(1)</script><img src=x onerror="steal()"><a href="javascript:x">y</a>'
    [chunk] = render(Message((para(evil),)))
    assert "<script" not in chunk.formatted_body
    assert "<img" not in chunk.formatted_body
    assert "&lt;script&gt;" in chunk.formatted_body
    assert chunk.body == evil  # plain text stays exactly what the author wrote


def test_unsafe_link_targets_are_dropped_but_label_kept() -> None:
    [chunk] = render(Message((para(link("click", "javascript:alert(1)")),)))
    assert "href" not in chunk.formatted_body
    assert "click" in chunk.formatted_body
    assert "javascript" not in chunk.body


def test_sanitize_removes_everything_outside_the_matrix_allow_list() -> None:
    dirty = (
        '<div onclick="x()"><a href="https://ok.example/" target="_blank">ok</a>'
        '<a href="data:text/html,evil">bad</a><iframe src="https://x"></iframe>'
        '<span data-mx-spoiler="why" style="color:red">s</span><style>p{}</style></div>'
    )
    assert sanitize(dirty) == (
        '<a href="https://ok.example/">ok</a><a>bad</a><span data-mx-spoiler="why">s</span>'
    )


def test_spoiler_hides_text_in_html_and_never_puts_it_in_body() -> None:
    secret = "the hidden sentence"
    msg = Message(
        (para(secret), Block("quote", (Inline("hidden quote"),))),
        spoiler="self-harm",
        preface=(para("Content note: self-harm"),),
        attachments=(Attachment("https://cdn.example/a.jpg", alt="hidden alt"),),
    )
    [chunk] = render(msg)
    assert chunk.body == "Content note: self-harm\n\n[Content warning: self-harm]"
    for hidden in (secret, "hidden quote", "hidden alt", "cdn.example"):
        assert hidden not in chunk.body
    # Every hidden piece sits inside a spoiler span; the preface does not.
    spans = re.findall(r'<span data-mx-spoiler="self-harm">(.*?)</span>', chunk.formatted_body)
    assert spans[0] == secret
    assert spans[1] == "hidden quote"
    assert "hidden alt" in spans[2]
    assert chunk.formatted_body.startswith("<p>Content note: self-harm</p>")


def test_spoiler_reason_is_escaped_in_the_attribute() -> None:
    [chunk] = render(Message((para("x"),), spoiler='a"><script>b'))
    assert "<script" not in chunk.formatted_body
    assert 'data-mx-spoiler="a&quot;&gt;&lt;script&gt;b"' in chunk.formatted_body


def test_long_spoilered_message_splits_without_leaking_in_any_body() -> None:
    words = [f"secretword{i}" for i in range(3000)]
    msg = Message((para(" ".join(words)),), spoiler="graphic")
    chunks = render(msg, max_length=4000)
    assert len(chunks) > 3
    for i, chunk in enumerate(chunks):
        assert chunk.size <= 4000
        assert "secretword" not in chunk.body
        assert chunk.body == cw_marker("graphic") + (" (continued)" if i else "")
        assert chunk.formatted_body.count("data-mx-spoiler") >= 1
    shown = " ".join(visible_text(c.formatted_body) for c in chunks).split()
    assert shown == words


def test_long_message_splits_between_blocks_in_order() -> None:
    blocks = tuple(para(f"paragraph {i} " + "x" * 300) for i in range(40))
    chunks = render(Message(blocks), max_length=2000)
    assert len(chunks) > 5
    assert all(c.size <= 2000 for c in chunks)
    seen = [int(m) for c in chunks for m in re.findall(r"paragraph (\d+)", c.body)]
    assert seen == list(range(40))
    # No paragraph is cut in two when it fits whole.
    assert all(c.formatted_body.count("<p>") == c.formatted_body.count("</p>") for c in chunks)


def test_attachments_become_links_with_alt_text() -> None:
    msg = Message(
        (para("post"),),
        attachments=(
            Attachment("https://cdn.example/1.jpg", alt="a cat on a chair"),
            Attachment("https://cdn.example/2.mp4", type="video"),
        ),
    )
    [chunk] = render(msg)
    assert "Image: a cat on a chair (https://cdn.example/1.jpg)" in chunk.body
    assert "Video (no description) (https://cdn.example/2.mp4)" in chunk.body
    assert '<a href="https://cdn.example/1.jpg">Image: a cat on a chair</a>' in (
        chunk.formatted_body
    )


def test_styles_and_headings() -> None:
    msg = Message(
        (
            Block("heading", (Inline("Title", style="bold"),)),
            para(Inline("it", style="italic"), " and ", Inline("x = 1", style="code")),
            Block("separator"),
        )
    )
    [chunk] = render(msg)
    assert chunk.formatted_body == (
        "<h4><strong>Title</strong></h4><p><em>it</em> and <code>x = 1</code></p><hr>"
    )
    assert chunk.body == "Title\n\nit and x = 1\n\n---"


def test_text_that_grows_when_escaped_still_fits_the_limit() -> None:
    msg = Message((para("<&> " * 2000, link("tail", "https://example.org/" + "p" * 100)),))
    chunks = render(msg, max_length=3000)
    assert all(c.size <= 3000 for c in chunks)
    assert "".join(c.body.replace("\n\n", "") for c in chunks).count("<&>") == 2000


def test_warning_fallback_names_the_reason_once_whatever_its_wording() -> None:
    # A decision's label ("Content note: ...") or an author's "CW: ..." already says what
    # it is; a bare reason gets the words that say it.
    for reason, shown in (
        ("Content note: suicide", "[Content note: suicide]"),
        ("Content warning: trauma", "[Content warning: trauma]"),
        ("CW: food", "[CW: food]"),
        ("graphic", "[Content warning: graphic]"),
        ("cwtch photos", "[Content warning: cwtch photos]"),
    ):
        [chunk] = render(Message((para("hidden words"),), spoiler=reason))
        assert chunk.body == shown


def test_long_warned_post_under_its_note_line_reads_naturally_in_later_events() -> None:
    # Events after the first drop the note line, so their fallback names the label.
    words = [f"secretword{i}" for i in range(3000)]
    msg = Message(
        (para(" ".join(words)),),
        spoiler="Content note: self-harm",
        preface=(Block("note", (Inline("Content note: self-harm"),)),),
        reason_shown=True,
    )
    chunks = render(msg, max_length=4000)
    assert len(chunks) > 2
    assert chunks[0].body.endswith("[Hidden behind a content warning]")
    for chunk in chunks[1:]:
        assert chunk.body == "[Content note: self-harm] (continued)"
        assert "Content warning: Content note" not in chunk.body
