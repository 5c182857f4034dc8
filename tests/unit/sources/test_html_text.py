"""Fediverse post HTML to plain text: what a reader sees, with full links."""

from __future__ import annotations

from bot.sources.html_text import html_to_text

SHORTENED_LINK = (
    '<p>Write-up: <a href="https://rin.example/bike-counters-2026/methods?page=2" '
    'target="_blank" rel="nofollow noopener" translate="no"><span class="invisible">'
    'https://</span><span class="ellipsis">rin.example/bike-counters-2026/met</span>'
    '<span class="invisible">hods?page=2</span></a> thanks!</p>'
)


def test_shortened_link_comes_out_whole() -> None:
    out = html_to_text(SHORTENED_LINK)
    assert out.text == "Write-up: https://rin.example/bike-counters-2026/methods?page=2 thanks!"
    assert out.links == ("https://rin.example/bike-counters-2026/methods?page=2",)


def test_mentions_become_full_handles() -> None:
    html = (
        '<p><span class="h-card" translate="no"><a href="https://fedi.example/@kofi" '
        'class="u-url mention">@<span>kofi</span></a></span> and <span class="h-card">'
        '<a href="https://social.example/@rin" class="u-url mention">@<span>rin</span></a>'
        "</span> agree</p>"
    )
    known = {"https://fedi.example/@kofi": "@kofi@fedi.example"}
    out = html_to_text(html, known)
    assert out.text == "@kofi@fedi.example and @rin@social.example agree"
    assert out.links == ()  # mentions are not links to report


def test_hashtags_stay_as_written_and_are_not_links() -> None:
    html = (
        '<p>Data <a href="https://social.example/tags/OpenData" class="mention hashtag" '
        'rel="tag">#<span>OpenData</span></a></p>'
    )
    out = html_to_text(html)
    assert out.text == "Data #OpenData"
    assert out.links == ()


def test_line_breaks_and_paragraphs() -> None:
    out = html_to_text("<p>one<br>two<br/>three</p><p>four</p>\n<p>five</p>")
    assert out.text == "one\ntwo\nthree\n\nfour\n\nfive"


def test_entities_and_whitespace() -> None:
    out = html_to_text("<p>a &amp; b &lt;c&gt; don&#39;t   \n  stop&nbsp;here</p>")
    assert out.text == "a & b <c> don't stop\xa0here"


def test_quote_inline_stripped_or_kept() -> None:
    html = (
        '<p class="quote-inline">RE: <a href="https://data.example/@cc/1165708773011">'
        '<span class="invisible">https://</span><span class="ellipsis">data.example/@cc/11'
        '</span><span class="invisible">65708773011</span></a></p><p>My take.</p>'
    )
    stripped = html_to_text(html, strip_quote_inline=True)
    assert stripped.text == "My take."
    assert stripped.quote_links == ("https://data.example/@cc/1165708773011",)
    kept = html_to_text(html)
    assert kept.text == "RE: https://data.example/@cc/1165708773011\n\nMy take."
    # A quote fallback is not an ordinary link of the post.
    assert kept.links == ()


def test_pleroma_span_quote_inline() -> None:
    html = 'Nice<span class="quote-inline"><br/><br/>RE: <a href="https://p.example/notice/Ab1">https://p.example/notice/Ab1</a></span>'
    assert html_to_text(html, strip_quote_inline=True).text == "Nice"


def test_link_with_words_keeps_both() -> None:
    out = html_to_text('<p>See <a href="https://example.org/post">the notes</a>.</p>')
    assert out.text == "See the notes (https://example.org/post)."
    assert out.links == ("https://example.org/post",)


def test_lists_and_quotes_from_other_servers() -> None:
    out = html_to_text("<p>Steps:</p><ul><li>one</li><li>two</li></ul><blockquote>q</blockquote>")
    assert out.text == "Steps:\n\n• one\n• two\n\nq"


def test_hostile_html() -> None:
    html = (
        "<script>alert(1)</script><style>p{}</style><p onclick='x()'>safe"
        '<a href="javascript:alert(1)">click</a><img src=x onerror=alert(1)>'
        "<iframe src='https://evil.example'>framed</iframe></p><!-- note --><p>unclosed <b>bold"
    )
    out = html_to_text(html)
    assert out.text == "safeclick\n\nunclosed bold"
    assert out.links == ()


def test_deep_nesting_does_not_overflow() -> None:
    html = "<span>" * 20_000 + "deep" + "</span>" * 20_000
    assert html_to_text(html).text == "deep"


def test_oversized_input_is_cut_not_choked_on() -> None:
    out = html_to_text("<p>" + "word " * 100_000 + "</p>")
    assert out.text.startswith("word word")
    assert len(out.text) <= 200_000


def test_empty_and_plain() -> None:
    assert html_to_text("").text == ""
    assert html_to_text("just text").text == "just text"


def test_inline_emoji_images_keep_their_shortcode() -> None:
    html = 'Nice <img class="emoji" alt=":blobcat:" src="https://p.example/e.png"> one'
    assert html_to_text(html).text == "Nice :blobcat: one"
