"""What a Mastodon post becomes: text with full links and mentions, media with alt text,
link cards, quotes (shown, unavailable, Akkoma-style), the author's content warning, the
author; and following an author (resolve_author, recent_posts)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.errors import NotFound
from bot.http import HttpClient
from bot.models import ContentNote, LinkCard, Media, Post
from bot.sources.mastodon import MastodonSource
from tests.fakes.mastodon_server import FakeMastodon, FakeStatus


@pytest.fixture
async def fake() -> AsyncIterator[FakeMastodon]:
    async with FakeMastodon() as server:
        yield server


@pytest.fixture
def source(http: HttpClient) -> MastodonSource:
    return MastodonSource(http, handle_scheme="http")


async def fetch_post(source: MastodonSource, fake: FakeMastodon, st: FakeStatus) -> Post:
    ref = source.parse(fake.link(st))
    assert ref is not None
    got = await source.fetch(ref, 500)
    return got.posts[fake.status_uri(st)]


def quote_inline(url: str) -> str:
    shown = url.split("://", 1)[1]
    return (
        f'<p class="quote-inline">RE: <a href="{url}"><span class="invisible">http://</span>'
        f'<span class="ellipsis">{shown[:20]}</span><span class="invisible">{shown[20:]}'
        "</span></a></p>"
    )


async def test_rich_post(fake: FakeMastodon, source: MastodonSource) -> None:
    rin, kofi = fake.account("rin", "Rin Takahashi"), fake.account("kofi")
    quoted = fake.post(kofi, "Daily counts: Harbour Rd 3,412 (record).")
    html = (
        quote_inline(fake.status_url(quoted))
        + f'<p><span class="h-card"><a href="{fake.base_url}/@kofi" class="u-url mention">'
        "@<span>kofi</span></a></span> new record!<br>Write-up: "
        '<a href="https://rin.example/bike-counters-2026"><span class="invisible">https://'
        '</span><span class="">rin.example/bike-counters-2026</span></a> '
        f'<a href="{fake.base_url}/tags/cycling" class="mention hashtag" rel="tag">'
        "#<span>cycling</span></a></p>"
    )
    st = fake.post(
        rin,
        html=html,
        spoiler_text="injury statistics",
        mentions=[
            {"id": kofi.id, "username": "kofi", "acct": "kofi", "url": f"{fake.base_url}/@kofi"}
        ],
        media=[
            {
                "id": "1",
                "type": "image",
                "url": "https://files.example/chart.png",
                "preview_url": "https://files.example/chart-small.png",
                "description": "Bar chart of daily counts",
            },
            {
                "id": "2",
                "type": "gifv",
                "url": "https://files.example/loop.mp4",
                "description": None,
            },
        ],
        card={
            "url": "https://rin.example/bike-counters-2026",
            "title": "Three years of bike counters",
            "description": "Methods and CSVs",
            "type": "link",
        },
    )
    st.quote = {"state": "accepted", "quoted_status": fake.status_json(quoted)}
    post = await fetch_post(source, fake, st)
    host = fake.host
    assert post.text == (
        f"@kofi@{host} new record!\nWrite-up: https://rin.example/bike-counters-2026 #cycling"
    )
    assert post.links == ("https://rin.example/bike-counters-2026", fake.status_url(quoted))
    assert post.media == (
        Media(
            "image",
            "https://files.example/chart.png",
            "Bar chart of daily counts",
            "https://files.example/chart-small.png",
        ),
        Media("gif", "https://files.example/loop.mp4", "", None),
    )
    assert post.card == LinkCard(
        "https://rin.example/bike-counters-2026", "Three years of bike counters", "Methods and CSVs"
    )
    assert post.quote is not None
    assert (post.quote.url, post.quote.author, post.quote.text) == (
        fake.status_url(quoted),
        f"kofi@{host}",
        "Daily counts: Harbour Rd 3,412 (record).",
    )
    assert post.quote.hidden_reason is None
    assert post.content_notes == (ContentNote("other", "author", "injury statistics"),)
    assert post.author.handle == f"rin@{host}"
    assert post.author.name == "Rin Takahashi"
    assert post.author.id == f"{fake.base_url}/users/rin"
    assert post.author.url == f"{fake.base_url}/@rin"
    assert post.id == fake.status_uri(st)
    assert post.url == fake.status_url(st)
    assert post.created_at.endswith("Z") and post.created_at[:2] == "20"
    assert post.visibility == "public"


@pytest.mark.parametrize("state", ["revoked", "pending", "deleted", "something-new"])
async def test_quote_not_shown(fake: FakeMastodon, source: MastodonSource, state: str) -> None:
    rin, kofi = fake.account("rin"), fake.account("kofi")
    quoted = fake.post(kofi, "secret")
    st = fake.post(rin, html=quote_inline(fake.status_url(quoted)) + "<p>Look</p>")
    st.quote = {"state": state, "quoted_status": None}
    post = await fetch_post(source, fake, st)
    assert post.quote is not None
    assert post.quote.hidden_reason == "quoted post unavailable"
    assert post.quote.text == ""
    assert post.quote.url == fake.status_url(quoted)
    # With nothing shown in its place, the server's "RE:" line stays as the fallback.
    assert post.text == f"RE: {fake.status_url(quoted)}\n\nLook"


async def test_akkoma_style_quote(fake: FakeMastodon, source: MastodonSource) -> None:
    rin, kofi = fake.account("rin"), fake.account("kofi")
    quoted = fake.post(kofi, "original")
    st = fake.post(rin, "my take")
    st.quote = fake.status_json(quoted)  # Akkoma: the quoted Status itself
    post = await fetch_post(source, fake, st)
    assert post.quote is not None and post.quote.text == "original"


async def test_remote_author_handle(fake: FakeMastodon, source: MastodonSource) -> None:
    async with FakeMastodon() as origin:
        ana = origin.account("ana")
        st = origin.post(ana, "from afar")
        (copy,) = fake.mirror(origin, [st])
        origin.delete(st)  # the origin no longer answers: the cached copy is used
        post = await fetch_post(source, fake, copy)
        assert post.author.handle == f"ana@{origin.host}"
        assert post.author.id == f"{origin.base_url}/users/ana"
        assert post.id == origin.status_uri(st)


async def test_resolve_author_forms(fake: FakeMastodon, source: MastodonSource) -> None:
    fake.account("rin", "Rin")
    for spec in (f"@rin@{fake.host}", f"rin@{fake.host}", f"{fake.base_url}/@rin"):
        author = await source.resolve_author(spec)
        assert author is not None, spec
        assert (author.handle, author.id) == (f"rin@{fake.host}", f"{fake.base_url}/users/rin")
    assert await source.resolve_author("https://bsky.app/profile/alice.example.com") is None
    assert await source.resolve_author("just words") is None
    with pytest.raises(NotFound, match="nobody"):
        await source.resolve_author(f"@nobody@{fake.host}")


async def test_recent_posts(fake: FakeMastodon, source: MastodonSource) -> None:
    rin, kofi = fake.account("rin"), fake.account("kofi")
    first = fake.post(rin, "first")
    fake.post(rin, "secret", visibility="private")
    other = fake.post(kofi, "hi")
    fake.post(rin, "reply to kofi", reply_to=other)
    cont = fake.post(rin, "continued", reply_to=first)
    last = fake.post(rin, "newest")
    author = await source.resolve_author(f"@rin@{fake.host}")
    assert author is not None
    got = await source.recent_posts(author, 10)
    assert [p.text for p in got.posts.values()] == ["newest", "continued", "first"]
    assert got.anchor_id == fake.status_uri(last)
    assert got.posts[fake.status_uri(cont)].parent_id == fake.status_uri(first)
    # A fresh source (after a restart) finds the account again from the Author alone.
    again = await MastodonSource(source.api.http).recent_posts(author, 2)
    assert [p.text for p in again.posts.values()] == ["newest", "continued"]


async def test_poll_options_follow_the_text(fake: FakeMastodon, source: MastodonSource) -> None:
    rin = fake.account("rin")
    st = fake.post(rin, "Which lane?")
    st.poll = {"id": "9", "options": [{"title": "Painted"}, {"title": "Protected"}, {"x": 1}]}
    post = await fetch_post(source, fake, st)
    assert post.text == "Which lane?\n\n○ Painted\n○ Protected"


async def test_link_to_a_boost_unrolls_the_boosted_post(
    fake: FakeMastodon, source: MastodonSource
) -> None:
    rin, kofi = fake.account("rin"), fake.account("kofi")
    posts = fake.thread(rin, 3)
    boost = fake.boost(kofi, posts[0])
    ref = source.parse(fake.link(boost))
    assert ref is not None
    got = await source.fetch(ref, 500)
    assert got.anchor_id == fake.status_uri(posts[0])
    assert {fake.status_uri(p) for p in posts} == set(got.posts)
