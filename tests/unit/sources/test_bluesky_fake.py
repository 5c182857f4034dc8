"""The fake AppView keeps the real service's caps and error bodies, so the source tests
and the benchmarks measure against what Bluesky actually does."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.http import HttpClient, HttpError
from tests.fakes.bluesky_server import FakeBluesky
from tests.fakes.thread_builder import ThreadBuilder


@pytest.fixture
async def fake() -> AsyncIterator[FakeBluesky]:
    async with FakeBluesky() as server:
        b = ThreadBuilder()
        b.author("mira", handle="mira.example.com")
        keys = b.chain("mira", 40)
        b.reply("bob", keys[0], "hello")
        b.delete(keys[30])
        server.add_thread(b.build())
        yield server


async def xrpc(
    http: HttpClient, fake: FakeBluesky, nsid: str, params: list[tuple[str, str]]
) -> Any:
    return await http.get_json(f"{fake.base_url}/xrpc/{nsid}", params=params)


def depth_of(node: dict[str, Any]) -> int:
    replies = node.get("replies") or []
    return 1 + max((depth_of(r) for r in replies), default=0) if replies else 0


async def test_thread_depth_is_capped_at_ten(fake: FakeBluesky, http: HttpClient) -> None:
    root = fake.uri("p1")
    body = await xrpc(http, fake, "app.bsky.feed.getPostThread", [("uri", root), ("depth", "1000")])
    assert depth_of(body["thread"]) == 10
    # Replies come newest first, like the reference data plane.
    first = body["thread"]["replies"]
    assert first[0]["post"]["author"]["handle"] == "bob.example.com"


async def test_thread_uri_may_use_the_handle(fake: FakeBluesky, http: HttpClient) -> None:
    rkey = fake.uri("p5").rsplit("/", 1)[1]
    uri = f"at://mira.example.com/app.bsky.feed.post/{rkey}"
    body = await xrpc(http, fake, "app.bsky.feed.getPostThread", [("uri", uri), ("depth", "0")])
    assert body["thread"]["post"]["uri"] == fake.uri("p5")
    assert "replies" not in body["thread"]
    assert body["thread"]["parent"]["post"]["uri"] == fake.uri("p4")


async def test_deleted_parent_ends_the_chain(fake: FakeBluesky, http: HttpClient) -> None:
    body = await xrpc(
        http, fake, "app.bsky.feed.getPostThread", [("uri", fake.uri("p35")), ("depth", "0")]
    )
    node = body["thread"]
    chain = []
    while "parent" in node:
        node = node["parent"]
        chain.append(node.get("$type"))
    assert chain[-1] == "app.bsky.feed.defs#notFoundPost"
    assert len(chain) == 4


@pytest.mark.parametrize(
    ("nsid", "params", "error", "message"),
    [
        (
            "app.bsky.feed.getPostThread",
            [("uri", "at://did:plc:nobody/app.bsky.feed.post/3mlsi2zzzzz2a")],
            "NotFound",
            "Post not found",
        ),
        (
            "app.bsky.feed.getPostThread",
            [("uri", "x"), ("parentHeight", "1001")],
            "InvalidRequest",
            "parentHeight",
        ),
        ("app.bsky.feed.getPostThread", [("uri", "x"), ("depth", "-1")], "InvalidRequest", "depth"),
        (
            "app.bsky.feed.getPosts",
            [("uris", f"at://did:plc:a/app.bsky.feed.post/{i}") for i in range(26)],
            "InvalidRequest",
            "25",
        ),
        (
            "app.bsky.feed.getAuthorFeed",
            [("actor", "mira.example.com"), ("limit", "101")],
            "InvalidRequest",
            "limit",
        ),
        (
            "app.bsky.feed.getAuthorFeed",
            [("actor", "nobody.example.com")],
            "InvalidRequest",
            "Profile not found",
        ),
        (
            "app.bsky.actor.getProfile",
            [("actor", "nobody.example.com")],
            "InvalidRequest",
            "Profile not found",
        ),
        (
            "com.atproto.identity.resolveHandle",
            [("handle", "nobody.example.com")],
            "InvalidRequest",
            "Unable to resolve handle",
        ),
    ],
)
async def test_errors_have_the_real_bodies(
    fake: FakeBluesky,
    http: HttpClient,
    nsid: str,
    params: list[tuple[str, str]],
    error: str,
    message: str,
) -> None:
    with pytest.raises(HttpError) as err:
        await xrpc(http, fake, nsid, params)
    assert err.value.status == 400
    assert err.value.body["error"] == error
    assert message in err.value.body["message"]


async def test_get_posts_omits_missing_and_handle_uris(fake: FakeBluesky, http: HttpClient) -> None:
    rkey = fake.uri("p2").rsplit("/", 1)[1]
    uris = [fake.uri("p1"), fake.uri("p31"), f"at://mira.example.com/app.bsky.feed.post/{rkey}"]
    body = await xrpc(http, fake, "app.bsky.feed.getPosts", [("uris", u) for u in uris])
    assert [p["uri"] for p in body["posts"]] == [fake.uri("p1")]


async def test_author_feed_pages_newest_first(fake: FakeBluesky, http: HttpClient) -> None:
    seen: list[str] = []
    cursor = None
    for _ in range(5):
        params = [("actor", "mira.example.com"), ("limit", "15")]
        if cursor:
            params.append(("cursor", cursor))
        body = await xrpc(http, fake, "app.bsky.feed.getAuthorFeed", params)
        seen += [item["post"]["uri"] for item in body["feed"]]
        cursor = body.get("cursor")
        if not cursor:
            break
    assert len(seen) == 39  # 40 posts, one deleted
    assert seen[0] == fake.uri("p40") and seen[-1] == fake.uri("p1")


async def test_author_threads_filter_needs_the_whole_thread_on_one_page(
    fake: FakeBluesky, http: HttpClient
) -> None:
    params = [("actor", "mira.example.com"), ("filter", "posts_and_author_threads")]
    small = await xrpc(http, fake, "app.bsky.feed.getAuthorFeed", [*params, ("limit", "20")])
    assert small["feed"] == [] and small["cursor"]  # the root is on a later page
    whole = await xrpc(http, fake, "app.bsky.feed.getAuthorFeed", [*params, ("limit", "100")])
    # The deleted post cuts the chain: only the part joined to the root survives.
    assert {i["post"]["uri"] for i in whole["feed"]} == {fake.uri(f"p{n}") for n in range(1, 31)}
    item = next(i for i in whole["feed"] if i["post"]["uri"] == fake.uri("p3"))
    assert item["reply"]["root"]["uri"] == fake.uri("p1")
    assert item["reply"]["parent"]["uri"] == fake.uri("p2")
