"""How the X source reports a failing, slow, rate-limiting or confused FxTwitter API: always a
clear UserError, never a crash."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from bot.errors import NotFound, UpstreamUnavailable
from bot.http import HttpClient, HttpSettings
from bot.models import PostRef
from bot.sources.x import XSource
from tests.fakes.base import Fault
from tests.fakes.fxtwitter_server import (
    NO_USER_AGENT_BODY,
    FxTwitterFake,
    make_status,
    make_user,
    snowflake_at,
)

USER = make_user("kestrelnotes", "1402258866139553794")
P1 = make_status(snowflake_at("2026-05-14T15:30:02Z"), USER, "first (1/2)")
P2 = make_status(snowflake_at("2026-05-14T15:31:02Z"), USER, "second (2/2)", parent=P1)
THREAD_PATH = f"/2/thread/{P2['id']}"
REF = PostRef(source="x", url=P2["url"], key=(P2["id"],))


def settings(**kw: Any) -> HttpSettings:
    base: dict[str, Any] = {"allow_private_addresses": True, "retries": 2, "backoff_base_s": 0.01}
    return HttpSettings(**(base | kw))


@pytest.fixture
async def fake() -> AsyncIterator[FxTwitterFake]:
    async with FxTwitterFake() as server:
        server.add(P1, P2)
        yield server


@pytest.fixture
async def source(fake: FxTwitterFake) -> AsyncIterator[XSource]:
    http = HttpClient(settings())
    yield XSource(http, fake.base_url + "/")
    await http.close()


async def test_the_fake_refuses_requests_without_a_user_agent(fake: FxTwitterFake) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.get(fake.base_url + THREAD_PATH, skip_auto_headers=["User-Agent"]) as resp,
    ):
        assert resp.status == 401
        assert await resp.json() == NO_USER_AGENT_BODY


async def test_a_missing_user_agent_is_reported_as_a_config_problem(fake: FxTwitterFake) -> None:
    http = HttpClient(settings(user_agent=""))
    try:
        with pytest.raises(UpstreamUnavailable, match="User-Agent"):
            await XSource(http, fake.base_url).fetch(REF, 50)
    finally:
        await http.close()
    assert fake.count() == 1  # a 401 is not retried


async def test_429_waits_for_retry_after_then_succeeds(
    fake: FxTwitterFake, source: XSource
) -> None:
    fake.inject(THREAD_PATH, Fault(429, {"code": 429}, {"Retry-After": "0.3"}))
    got = await source.fetch(REF, 50)
    assert list(got.posts) == [f"x:{P1['id']}", f"x:{P2['id']}"]
    first, second = fake.requests
    assert second.started - first.ended >= 0.25


async def test_429_that_persists_becomes_upstream_unavailable(
    fake: FxTwitterFake, source: XSource
) -> None:
    fake.inject(THREAD_PATH, *[Fault(429, {"code": 429}, {"Retry-After": "0.01"})] * 3)
    with pytest.raises(UpstreamUnavailable, match="rate-limiting"):
        await source.fetch(REF, 50)
    assert fake.count() == 3  # the first try and two retries


async def test_429_with_a_long_retry_after_fails_fast_and_says_how_long(
    fake: FxTwitterFake, source: XSource
) -> None:
    fake.inject(THREAD_PATH, Fault(429, {"code": 429}, {"Retry-After": "120"}))
    with pytest.raises(UpstreamUnavailable, match="wait 2 minutes") as err:
        await source.fetch(REF, 50)
    assert "is rate-limiting the bot. It asked the bot to wait 2 minutes." in str(err.value)
    assert fake.count() == 1


async def test_server_errors_are_retried_then_reported(
    fake: FxTwitterFake, source: XSource
) -> None:
    fake.inject(THREAD_PATH, Fault(503, {"code": 503, "message": "UPSTREAM_UNAVAILABLE"}))
    assert len((await source.fetch(REF, 50)).posts) == 2

    fake.inject(THREAD_PATH, *[Fault(500, {"code": 500})] * 3)
    with pytest.raises(UpstreamUnavailable, match=r"failing \(HTTP 500\)"):
        await source.fetch(REF, 50)


async def test_timeouts_become_upstream_unavailable(fake: FxTwitterFake) -> None:
    fake.inject(THREAD_PATH, *[Fault(200, {}, hang_s=0.3)] * 2)
    http = HttpClient(settings(timeout_s=0.1, retries=1))
    try:
        with pytest.raises(UpstreamUnavailable, match="did not answer in time"):
            await XSource(http, fake.base_url).fetch(REF, 50)
    finally:
        await http.close()
    assert fake.count() == 2


async def test_unreachable_service_becomes_upstream_unavailable() -> None:
    http = HttpClient(settings(retries=0))
    try:
        # Nothing listens on port 9 of the loopback address.
        with pytest.raises(UpstreamUnavailable, match=r"FxTwitter API at 127\.0\.0\.1:9"):
            await XSource(http, "http://127.0.0.1:9").fetch(REF, 50)
    finally:
        await http.close()


async def test_a_private_api_address_is_refused_unless_allowed(fake: FxTwitterFake) -> None:
    http = HttpClient(HttpSettings(retries=0))
    try:
        with pytest.raises(UpstreamUnavailable, match="not allowed"):
            await XSource(http, fake.base_url).fetch(REF, 50)
    finally:
        await http.close()
    assert fake.count() == 0


def _envelope(status: Any, thread: Any = None) -> dict[str, Any]:
    return {"code": 200, "status": status, "thread": thread, "author": USER}


def _without(obj: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in obj.items() if k != key}


MALFORMED: list[Any] = [
    "<html><body>Cloudflare error</body></html>",
    [],
    "null",
    _envelope("not a post"),
    _envelope(_without(P2, "id")),
    _envelope(P2 | {"id": "12x"}),
    _envelope(_without(P2, "author")),
    _envelope(P2 | {"author": {"id": "1", "screen_name": 7}}),
    _envelope(P2 | {"type": "mystery"}),
    _envelope(P2, {"not": "a list"}),
    _envelope(P2, [P1, "junk", P2]),
    _envelope(P2, [_without(P1, "id"), P2]),
    _envelope(P2, [_without(P1, "author"), P2]),
]


@pytest.mark.parametrize("body", MALFORMED, ids=range(len(MALFORMED)))
async def test_malformed_answers_are_reported_clearly(
    fake: FxTwitterFake, source: XSource, body: Any
) -> None:
    raw = body if isinstance(body, str) else json.dumps(body)
    fake.inject(THREAD_PATH, *[Fault(200, raw, {"Content-Type": "application/json"})] * 3)
    with pytest.raises(UpstreamUnavailable, match=r"FxTwitter API at 127\.0\.0\.1") as info:
        await source.fetch(REF, 50)
    assert "Try again" in str(info.value)


async def test_a_malformed_parent_during_the_walk_is_reported(fake: FxTwitterFake) -> None:
    fake.mode = "single"
    fake.inject(f"/2/status/{P1['id']}", Fault(200, {"code": 200, "status": ["odd"]}))
    http = HttpClient(settings())
    try:
        with pytest.raises(UpstreamUnavailable, match="could not read"):
            await XSource(http, fake.base_url).fetch(REF, 50)
    finally:
        await http.close()


async def test_a_tombstone_that_cannot_be_placed_is_dropped(
    fake: FxTwitterFake, source: XSource
) -> None:
    tomb = {"type": "tombstone", "provider": "twitter", "reason": "deleted"}
    fake.inject(THREAD_PATH, Fault(200, _envelope(P2, [P1, P2, tomb])))
    got = await source.fetch(REF, 50)
    assert list(got.posts) == [f"x:{P1['id']}", f"x:{P2['id']}"]


async def test_odd_optional_fields_are_ignored(fake: FxTwitterFake, source: XSource) -> None:
    odd = P2 | {
        "media": "none",
        "card": ["x"],
        "quote": 5,
        "raw_text": {"text": 3, "facets": "x", "display_text_range": "y"},
        "created_timestamp": "soon",
        "created_at": "not a date",
        "possibly_sensitive": "maybe",
        "lang": None,
    }
    fake.inject(THREAD_PATH, Fault(200, _envelope(odd, [P1, odd])))
    got = await source.fetch(REF, 50)
    post = got.posts[f"x:{P2['id']}"]
    assert post.text == "second (2/2)"
    assert post.media == () and post.card is None and post.quote is None
    assert post.content_notes == ()
    # The time falls back to the one inside the snowflake id.
    assert post.created_at == "2026-05-14T15:31:02.000Z"


async def test_error_codes_inside_a_200_answer_are_honoured(
    fake: FxTwitterFake, source: XSource
) -> None:
    fake.inject(THREAD_PATH, Fault(200, {"code": 404, "status": None, "thread": None}))
    with pytest.raises(NotFound):
        await source.fetch(REF, 50)


async def test_bad_request_is_reported_with_the_services_message(
    fake: FxTwitterFake, source: XSource
) -> None:
    with pytest.raises(UpstreamUnavailable, match="HTTP 400: Invalid status ID"):
        await source.fetch(PostRef(source="x", url="https://x.com/i/status/7", key=("7",)), 50)


async def test_forbidden_is_a_service_problem_not_a_private_post(
    fake: FxTwitterFake, source: XSource
) -> None:
    fake.inject(THREAD_PATH, Fault(403, "<html>Access denied</html>"))
    with pytest.raises(UpstreamUnavailable, match=r"refused the request \(HTTP 403\)"):
        await source.fetch(REF, 50)
