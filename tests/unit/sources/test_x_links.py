"""Every link form people paste for an X post resolves to the same post; others are left alone."""

from __future__ import annotations

import pytest

from bot.errors import UsageError
from bot.http import HttpClient
from bot.models import PostRef
from bot.sources.x import XSource

ID = "1338297936116330496"
CANONICAL = f"https://x.com/crys_tom/status/{ID}"
USERLESS = f"https://x.com/i/status/{ID}"


@pytest.fixture
def source() -> XSource:
    # parse() is pure: the client is never used.
    return XSource(HttpClient())


@pytest.mark.parametrize(
    "url",
    [
        f"https://twitter.com/crys_tom/status/{ID}",
        f"https://x.com/crys_tom/status/{ID}",
        f"http://x.com/crys_tom/status/{ID}",
        f"https://www.twitter.com/crys_tom/status/{ID}",
        f"https://www.x.com/crys_tom/status/{ID}",
        f"https://mobile.twitter.com/crys_tom/status/{ID}",
        f"https://mobile.x.com/crys_tom/status/{ID}",
        f"https://m.twitter.com/crys_tom/status/{ID}",
        f"https://fxtwitter.com/crys_tom/status/{ID}",
        f"https://fixupx.com/crys_tom/status/{ID}",
        f"https://twittpr.com/crys_tom/status/{ID}",
        f"https://vxtwitter.com/crys_tom/status/{ID}",
        f"https://fixvx.com/crys_tom/status/{ID}",
        f"https://d.fxtwitter.com/crys_tom/status/{ID}",
        f"https://dl.fixupx.com/crys_tom/status/{ID}",
        f"https://g.fxtwitter.com/crys_tom/status/{ID}",
        f"https://t.fxtwitter.com/crys_tom/status/{ID}",
        f"https://o.fixvx.com/crys_tom/status/{ID}",
        f"https://fxtwitter.com/dl/crys_tom/status/{ID}",
        f"https://fxtwitter.com/dir/crys_tom/status/{ID}",
        f"https://twitter.com/crys_tom/statuses/{ID}",
        f"https://x.com/crys_tom/status/{ID}/",
        f"https://x.com/crys_tom/status/{ID}/photo/1",
        f"https://x.com/crys_tom/status/{ID}/photo/4",
        f"https://x.com/crys_tom/status/{ID}/video/1",
        f"https://fxtwitter.com/crys_tom/status/{ID}/photos/2",
        f"https://fxtwitter.com/crys_tom/status/{ID}/en",
        f"https://fxtwitter.com/crys_tom/status/{ID}/pt-br",
        f"https://fxtwitter.com/crys_tom/status/{ID}/photo/1/ja",
        f"https://x.com/crys_tom/status/{ID}?s=20",
        f"https://twitter.com/crys_tom/status/{ID}?s=20&t=AbCdEf_123-xyz",
        f"https://x.com/crys_tom/status/{ID}?ref_src=twsrc%5Etfw&lang=en",
        f"https://x.com/crys_tom/status/{ID}#m",
        f"https://x.com/crys_tom/status/{ID}?s=46#fragment",
        f"HTTPS://X.COM/crys_tom/Status/{ID}",
        f"x.com/crys_tom/status/{ID}",
        f"<https://x.com/crys_tom/status/{ID}>",
    ],
)
def test_user_links_resolve_to_the_canonical_post(source: XSource, url: str) -> None:
    assert source.parse(url) == PostRef(source="x", url=CANONICAL, key=(ID,))


@pytest.mark.parametrize(
    "url",
    [
        f"https://twitter.com/i/web/status/{ID}",
        f"https://x.com/i/web/status/{ID}",
        f"https://x.com/i/status/{ID}",
        f"https://twitter.com/statuses/{ID}",
        f"https://x.com/status/{ID}",
        f"https://fxtwitter.com/status/{ID}",
        f"https://x.com/i/web/status/{ID}?s=20",
    ],
)
def test_user_less_links_resolve_with_i(source: XSource, url: str) -> None:
    assert source.parse(url) == PostRef(source="x", url=USERLESS, key=(ID,))


def test_handle_case_is_kept_and_id_is_the_key(source: XSource) -> None:
    ref = source.parse("https://x.com/Some_User/status/20")
    assert ref == PostRef(source="x", url="https://x.com/Some_User/status/20", key=("20",))


@pytest.mark.parametrize(
    "url",
    [
        f"https://bsky.app/profile/alice.bsky.social/post/{ID}",
        f"https://mastodon.social/@crys_tom/{ID}",
        f"https://nottwitter.com/crys_tom/status/{ID}",
        f"https://x.com.evil.example/crys_tom/status/{ID}",
        f"https://evil.example/x.com/crys_tom/status/{ID}",
        f"https://twitter.com.example/crys_tom/status/{ID}",
        f"https://abc.fxtwitter.com/crys_tom/status/{ID}",
        f"ftp://x.com/crys_tom/status/{ID}",
        "https://x.com/crys_tom",
        "https://x.com/home",
        "https://twitter.com/search?q=status",
        "https://x.com/",
        "not a link at all",
        "",
    ],
)
def test_links_that_are_not_x_posts_are_left_to_other_sources(source: XSource, url: str) -> None:
    assert source.parse(url) is None


@pytest.mark.parametrize(
    "url",
    [
        "https://x.com/crys_tom/status/",
        "https://x.com/crys_tom/status/12ab34",
        "https://x.com/crys_tom/status/123456789012345678901234",
        "https://twitter.com/i/web/status/notanid",
    ],
)
def test_x_status_links_without_a_valid_id_say_so(source: XSource, url: str) -> None:
    with pytest.raises(UsageError, match="no valid post id"):
        source.parse(url)
