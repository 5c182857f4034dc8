"""Which links the Mastodon-API source claims, and what it makes of them."""

from __future__ import annotations

import pytest

from bot.errors import UsageError
from bot.http import HttpClient
from bot.sources.mastodon import MastodonSource


@pytest.fixture
def source(http: HttpClient) -> MastodonSource:
    return MastodonSource(http)


@pytest.mark.parametrize(
    ("url", "canonical", "key"),
    [
        (
            "https://social.example/@rin/116572352099323905",
            "https://social.example/@rin/116572352099323905",
            ("social.example", "116572352099323905"),
        ),
        (
            "https://Social.Example/@rin/116572352099323905?utm_source=x#reply",
            "https://social.example/@rin/116572352099323905",
            ("social.example", "116572352099323905"),
        ),
        (
            "https://social.example/users/rin/statuses/116572352099323905",
            "https://social.example/users/rin/statuses/116572352099323905",
            ("social.example", "116572352099323905"),
        ),
        (
            "https://social.example/users/rin/statuses/116572352099323905/activity",
            "https://social.example/users/rin/statuses/116572352099323905",
            ("social.example", "116572352099323905"),
        ),
        (
            "https://big.example/@kofi@fedi.example/113000000000000001",
            "https://big.example/@kofi@fedi.example/113000000000000001",
            ("big.example", "113000000000000001"),
        ),
        (
            "https://social.example/web/@rin/116572352099323905",
            "https://social.example/@rin/116572352099323905",
            ("social.example", "116572352099323905"),
        ),
        (
            "https://social.example/web/statuses/116572352099323905",
            "https://social.example/web/statuses/116572352099323905",
            ("social.example", "116572352099323905"),
        ),
        (
            # Pleroma/Akkoma FlakeID
            "https://pleroma.example/notice/AbCdEf0123456789xY",
            "https://pleroma.example/notice/AbCdEf0123456789xY",
            ("pleroma.example", "AbCdEf0123456789xY"),
        ),
        (
            # GoToSocial ULID page
            "https://gts.example/@ana/statuses/01HZX3Q4V5W6Y7Z8A9B0C1D2E3",
            "https://gts.example/@ana/statuses/01HZX3Q4V5W6Y7Z8A9B0C1D2E3",
            ("gts.example", "01HZX3Q4V5W6Y7Z8A9B0C1D2E3"),
        ),
        (
            "http://127.0.0.1:8080/@rin/42",
            "http://127.0.0.1:8080/@rin/42",
            ("127.0.0.1:8080", "42"),
        ),
    ],
)
def test_post_links(source: MastodonSource, url: str, canonical: str, key: tuple[str, str]) -> None:
    ref = source.parse(url)
    assert ref is not None
    assert ref.source == "mastodon"
    assert ref.url == canonical
    assert ref.key == key


@pytest.mark.parametrize(
    "url",
    [
        "https://bsky.app/profile/alice.example.com/post/3kq2a7b4c5d6e",
        "https://x.com/someone/status/1790000000000000000",
        "https://twitter.com/someone/status/1790000000000000000",
        "https://mobile.twitter.com/someone/status/1790000000000000000",
        "https://fxtwitter.com/someone/status/1790000000000000000",
        "https://d.fixupx.com/someone/status/1790000000000000000",
        "https://vxtwitter.com/someone/status/1790000000000000000",
        "https://x.com/@someone/1790000000000000000",
        "https://fxbsky.app/profile/alice.example.com/post/3kq2a7b4c5d6e",
        "https://youtube.com/@channel/12345",
        "https://social.example/@rin",  # a profile, not a post
        "https://social.example/@rin/media",  # a profile tab
        "https://social.example/@rin/with_replies",
        "https://social.example/about",
        "https://social.example/",
        "ftp://social.example/@rin/116572352099323905",
        "not a link at all",
        "https://medium.com/@writer/some-title-1a2b3c4d5e6f",
    ],
)
def test_not_claimed(source: MastodonSource, url: str) -> None:
    assert source.parse(url) is None


@pytest.mark.parametrize(
    "url",
    [
        "https://social.example/users/rin/statuses/",
        "https://social.example/users/rin/statuses/12%2034",
        "https://social.example/users/rin/statuses/123/extra/more",
        "https://social.example/notice/",
        "https://social.example/notice/abc!def",
        "https://social.example/web/statuses/12.5",
        "https://social.example/@ri!n/116572352099323905",
        "https://social.example/@rin/statuses/not-an-id!",
    ],
)
def test_malformed_fediverse_links_are_usage_errors(source: MastodonSource, url: str) -> None:
    with pytest.raises(UsageError):
        source.parse(url)
