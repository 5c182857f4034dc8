"""Which links the Bluesky source takes, how it names the post, and what it refuses."""

from __future__ import annotations

import pytest

from bot.errors import UsageError
from bot.http import HttpClient
from bot.sources.bluesky import BlueskySource
from bot.sources.bluesky.parse import parse_author_spec, tid_time

DID = "did:plc:tbkgl2ix7mbnyexac7y3ru4p"
RKEY = "3mlshypfnq2u7"


@pytest.fixture
def source() -> BlueskySource:
    return BlueskySource(HttpClient())


@pytest.mark.parametrize(
    ("url", "actor"),
    [
        (
            f"https://bsky.app/profile/mira-okafor.bsky.social/post/{RKEY}",
            "mira-okafor.bsky.social",
        ),
        (
            f"https://bsky.app/profile/Mira-Okafor.BSKY.social/post/{RKEY}",
            "mira-okafor.bsky.social",
        ),
        (f"https://bsky.app/profile/{DID}/post/{RKEY}", DID),
        (f"https://bsky.app/profile/did%3Aplc%3Atbkgl2ix7mbnyexac7y3ru4p/post/{RKEY}", DID),
        (f"https://bsky.app/profile/did%3aplc%3atbkgl2ix7mbnyexac7y3ru4p/post/{RKEY}", DID),
        (f"https://staging.bsky.app/profile/tomas.dev/post/{RKEY}", "tomas.dev"),
        (f"https://fxbsky.app/profile/tomas.dev/post/{RKEY}", "tomas.dev"),
        (f"https://canary.fxbsky.app/profile/tomas.dev/post/{RKEY}", "tomas.dev"),
        (f"https://bskyx.app/profile/tomas.dev/post/{RKEY}", "tomas.dev"),
        (f"https://bsky.app/profile/tomas.dev/post/{RKEY}?ref_src=embed#top", "tomas.dev"),
        (f"https://bsky.app/profile/tomas.dev/post/{RKEY}/", "tomas.dev"),
        (f"https://bsky.app/profile/tomas.dev/post/{RKEY}/liked-by", "tomas.dev"),
        (f"<https://bsky.app/profile/tomas.dev/post/{RKEY}>", "tomas.dev"),
        (f"  https://BSKY.APP/profile/tomas.dev/post/{RKEY}  ", "tomas.dev"),
        (f"at://{DID}/app.bsky.feed.post/{RKEY}", DID),
        (f"at://Tomas.Dev/app.bsky.feed.post/{RKEY}", "tomas.dev"),
    ],
)
def test_post_links_name_actor_and_record_key(source: BlueskySource, url: str, actor: str) -> None:
    ref = source.parse(url)
    assert ref is not None
    assert ref.source == "bluesky"
    assert ref.key == (actor, RKEY)
    assert ref.url == f"https://bsky.app/profile/{actor}/post/{RKEY}"


@pytest.mark.parametrize(
    "url",
    [
        "https://mastodon.social/@rin/112233445566",
        f"https://example.com/profile/tomas.dev/post/{RKEY}",
        "https://x.com/kestrelnotes/status/1790000000000000000",
        "https://bsky.app/",
        "https://bsky.app/search?q=tide",
        "not a link at all",
        "ftp://bsky.app/profile/tomas.dev/post/3mlshypfnq2u7",
        "",
    ],
)
def test_other_links_are_not_taken(source: BlueskySource, url: str) -> None:
    assert source.parse(url) is None


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("https://bsky.app/profile/tomas.dev/post/short", "post id"),
        ("https://bsky.app/profile/tomas.dev/post/3MLSHYPFNQ2U7", "post id"),
        ("https://bsky.app/profile/tomas.dev/post/zmlshypfnq2u7", "post id"),
        (f"https://bsky.app/profile/not_a_handle!/post/{RKEY}", "account"),
        (f"https://bsky.app/profile/nodots/post/{RKEY}", "account"),
        ("https://bsky.app/profile/tomas.dev/post", "missing the post id"),
        ("https://bsky.app/profile/tomas.dev", "profile"),
        (f"at://{DID}/app.bsky.feed.like/{RKEY}", "does not name a Bluesky post"),
        (f"at://{DID}/app.bsky.feed.post/{RKEY}/extra", "extra parts"),
        ("at://did:plc:/app.bsky.feed.post/3mlshypfnq2u7", "account"),
    ],
)
def test_broken_bluesky_links_say_what_is_wrong(source: BlueskySource, url: str, why: str) -> None:
    with pytest.raises(UsageError) as err:
        source.parse(url)
    assert why in str(err.value)


@pytest.mark.parametrize(
    ("spec", "actor"),
    [
        ("@Tomas.Dev", "tomas.dev"),
        ("tomas.dev", "tomas.dev"),
        (DID, DID),
        ("https://bsky.app/profile/tomas.dev", "tomas.dev"),
        (f"https://bsky.app/profile/did%3Aplc%3Atbkgl2ix7mbnyexac7y3ru4p/post/{RKEY}", DID),
        ("https://mastodon.social/@rin", None),
        ("not a handle", None),
    ],
)
def test_author_specs(spec: str, actor: str | None) -> None:
    assert parse_author_spec(spec) == actor


def test_record_keys_carry_their_creation_time() -> None:
    assert tid_time(RKEY).startswith("2026-")
    assert tid_time("nope") == ""
