"""What a user is told when a Mastodon server refuses, fails, stalls or talks nonsense:
a clear error for the linked post, a notice and what could be read for the rest."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.errors import NotFound, Refused, UpstreamUnavailable, UsageError
from bot.http import HttpClient, HttpError, HttpSettings
from bot.models import FetchedPosts
from bot.sources.mastodon import MastodonSource
from tests.fakes.base import Fault
from tests.fakes.mastodon_server import AUTH_REQUIRED, NOT_FOUND, FakeMastodon, FakeStatus

TOO_MANY = {"error": "Too many requests"}


@pytest.fixture
async def fake() -> AsyncIterator[FakeMastodon]:
    async with FakeMastodon(latency_s=0.005) as server:
        yield server


@pytest.fixture
def source(http: HttpClient) -> MastodonSource:
    return MastodonSource(http)


def status_path(st: FakeStatus) -> str:
    return f"/api/v1/statuses/{st.id}"


async def unroll(source: MastodonSource, url: str) -> FetchedPosts:
    ref = source.parse(url)
    assert ref is not None
    return await source.fetch(ref, 500)


async def test_missing_post(fake: FakeMastodon, source: MastodonSource) -> None:
    rin = fake.account("rin")
    st = fake.post(rin, "gone soon")
    fake.delete(st)
    with pytest.raises(NotFound, match="says that post cannot be found or seen publicly"):
        await unroll(source, fake.link(st))


async def test_private_post_is_not_found_or_not_public(
    fake: FakeMastodon, source: MastodonSource
) -> None:
    rin = fake.account("rin")
    st = fake.post(rin, "followers only", visibility="private")
    with pytest.raises(NotFound, match="cannot be found or seen publicly"):
        await unroll(source, fake.link(st))


async def test_non_public_anchor_is_refused(fake: FakeMastodon, source: MastodonSource) -> None:
    # A server that does hand out a followers-only post: the bot still will not show it.
    rin = fake.account("rin")
    st = fake.post(rin, "followers only")
    body = fake.status_json(st) | {"visibility": "private"}
    fake.inject(status_path(st), Fault(status=200, body=body))
    with pytest.raises(Refused, match="not public"):
        await unroll(source, fake.link(st))


async def test_server_that_requires_login(http: HttpClient) -> None:
    async with FakeMastodon(require_auth=True) as fake:
        rin = fake.account("rin")
        st = fake.post(rin, "members only server")
        with pytest.raises(Refused, match="signed-in users") as err:
            await unroll(MastodonSource(http), fake.link(st))
        assert AUTH_REQUIRED["error"] in str(err.value)
        assert len(fake.requests) == 2  # no retries for a refusal


async def test_rate_limit_honours_retry_after(fake: FakeMastodon, source: MastodonSource) -> None:
    rin = fake.account("rin")
    st = fake.post(rin, "hello")
    fake.inject(status_path(st), Fault(status=429, body=TOO_MANY, headers={"Retry-After": "0.2"}))
    got = await unroll(source, fake.link(st))
    assert fake.status_uri(st) in got.posts
    tries = [r for r in fake.requests if r.path == status_path(st)]
    assert len(tries) == 2
    assert tries[1].started - tries[0].started >= 0.2


async def test_rate_limit_that_does_not_lift(fake: FakeMastodon, source: MastodonSource) -> None:
    rin = fake.account("rin")
    st = fake.post(rin, "hello")
    limited = Fault(status=429, body=TOO_MANY, headers={"Retry-After": "0"})
    fake.inject(status_path(st), limited, limited, limited)
    with pytest.raises(UpstreamUnavailable, match="rate-limiting"):
        await unroll(source, fake.link(st))
    assert sum(1 for r in fake.requests if r.path == status_path(st)) == 3


async def test_server_errors_after_retries(fake: FakeMastodon, source: MastodonSource) -> None:
    rin = fake.account("rin")
    st = fake.post(rin, "hello")
    fake.inject(status_path(st), *[Fault(status=503, body="<html>down</html>")] * 3)
    with pytest.raises(UpstreamUnavailable, match="HTTP 503"):
        await unroll(source, fake.link(st))


async def test_timeouts(fake: FakeMastodon) -> None:
    rin = fake.account("rin")
    st = fake.post(rin, "slow")
    fake.inject(status_path(st), Fault(hang_s=1.0), Fault(hang_s=1.0))
    client = HttpClient(
        HttpSettings(allow_private_addresses=True, retries=1, backoff_base_s=0.01, timeout_s=0.1)
    )
    try:
        with pytest.raises(UpstreamUnavailable, match="did not answer in time"):
            await unroll(MastodonSource(client), fake.link(st))
    finally:
        await client.close()


@pytest.mark.parametrize(
    "body",
    ["{not json", {"id": 5}, [1, 2], {"id": "1", "account": "rin"}, {"error": "x"}],
)
async def test_malformed_post(fake: FakeMastodon, source: MastodonSource, body: object) -> None:
    rin = fake.account("rin")
    st = fake.post(rin, "hello")
    # Undecodable JSON is retried like a transport failure; a wrong shape is not.
    fake.inject(status_path(st), *[Fault(status=200, body=body)] * 3)
    with pytest.raises(UpstreamUnavailable, match="malformed"):
        await unroll(source, fake.link(st))


async def test_malformed_context_keeps_the_post(fake: FakeMastodon, source: MastodonSource) -> None:
    rin = fake.account("rin")
    posts = fake.thread(rin, 3)
    fake.inject(status_path(posts[0]) + "/context", Fault(status=200, body={"ancestors": 3}))
    got = await unroll(source, fake.link(posts[0]))
    assert fake.status_uri(posts[0]) in got.posts
    assert any("malformed" in n for n in got.notices)


async def test_malformed_entries_are_skipped(fake: FakeMastodon, source: MastodonSource) -> None:
    rin = fake.account("rin")
    posts = fake.thread(rin, 3)
    good = [fake.status_json(p) for p in posts[1:]]
    body = {"ancestors": [], "descendants": [*good, {"id": 7}, "junk", None]}
    fake.inject(status_path(posts[0]) + "/context", Fault(status=200, body=body))
    got = await unroll(source, fake.link(posts[0]))
    assert {fake.status_uri(p) for p in posts} <= set(got.posts)
    assert "3 malformed posts from the server were skipped." in got.notices


async def test_one_malformed_entry_is_told_in_the_singular(
    fake: FakeMastodon, source: MastodonSource
) -> None:
    rin = fake.account("rin")
    posts = fake.thread(rin, 2)
    body = {"ancestors": [], "descendants": [fake.status_json(posts[1]), {"id": 7}]}
    fake.inject(status_path(posts[0]) + "/context", Fault(status=200, body=body))
    got = await unroll(source, fake.link(posts[0]))
    assert "1 malformed post from the server was skipped." in got.notices


async def test_replies_not_found_reads_as_a_plural(
    fake: FakeMastodon, source: MastodonSource
) -> None:
    rin = fake.account("rin")
    posts = fake.thread(rin, 2)
    fake.inject(status_path(posts[0]) + "/context", Fault(status=404, body=NOT_FOUND))
    got = await unroll(source, fake.link(posts[0]))
    [notice] = [n for n in got.notices if "Replies could not be loaded" in n]
    assert "says the replies to that post cannot be found or seen publicly." in notice


async def test_failing_status_list_gives_what_was_found(
    fake: FakeMastodon, source: MastodonSource
) -> None:
    rin = fake.account("rin")
    posts = fake.thread(rin, 60)
    path = f"/api/v1/accounts/{rin.id}/statuses"
    fake.inject(path, *[Fault(status=500, body={"error": "oops"})] * 40)
    got = await unroll(source, fake.link(posts[0]))
    # The context's 20 levels came through; the rest is missing, and the user is told.
    assert {fake.status_uri(p) for p in posts[:21]} <= set(got.posts)
    assert any("incomplete" in n for n in got.notices)


async def test_blocked_address() -> None:
    client = HttpClient(HttpSettings(retries=0))
    try:
        with pytest.raises(UsageError, match="not an address"):
            await unroll(MastodonSource(client), "http://127.0.0.1:9/@rin/116572352099323905")
    finally:
        await client.close()


async def test_error_bodies_match_the_real_server(fake: FakeMastodon) -> None:
    rin = fake.account("rin")
    st = fake.post(rin, "x", visibility="direct")
    client = HttpClient(HttpSettings(allow_private_addresses=True, retries=0))
    try:
        with pytest.raises(HttpError) as err:
            await client.get_json(f"{fake.base_url}{status_path(st)}")
        assert (err.value.status, err.value.body) == (404, NOT_FOUND)
    finally:
        await client.close()


async def test_server_that_ignores_paging_does_not_loop(
    fake: FakeMastodon, source: MastodonSource
) -> None:
    rin = fake.account("rin")
    posts = fake.thread(rin, 80)
    # Whatever is asked, the list always answers with the newest 40 posts.
    same = [fake.status_json(p) for p in reversed(posts[40:])]
    path = f"/api/v1/accounts/{rin.id}/statuses"
    fake.inject(path, *[Fault(status=200, body=same)] * 200)
    got = await unroll(source, fake.link(posts[0]))
    assert {fake.status_uri(p) for p in posts[:21]} <= set(got.posts)
    assert len(fake.requests) < 40
    assert got.notices


async def test_odd_ids_in_answers_are_skipped(fake: FakeMastodon, source: MastodonSource) -> None:
    rin = fake.account("rin")
    posts = fake.thread(rin, 3)
    odd = fake.status_json(posts[2]) | {"id": "not-a-snowflake", "uri": "https://x.example/1"}
    body = {"ancestors": [], "descendants": [fake.status_json(posts[1]), odd]}
    fake.inject(status_path(posts[0]) + "/context", Fault(status=200, body=body))
    got = await unroll(source, fake.link(posts[0]))
    assert "https://x.example/1" not in got.posts
    assert {fake.status_uri(p) for p in posts} <= set(got.posts)
