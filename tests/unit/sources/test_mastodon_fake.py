"""The fake Mastodon server applies the real server's anonymous limits and orderings; the
fetch tests only prove something if it does."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.http import HttpClient, HttpError
from tests.fakes.mastodon_server import AUTH_REQUIRED, FakeMastodon
from tests.fakes.thread_builder import ThreadBuilder


@pytest.fixture
async def fake() -> AsyncIterator[FakeMastodon]:
    async with FakeMastodon() as server:
        yield server


async def get(http: HttpClient, fake: FakeMastodon, path: str, **params: str) -> Any:
    return await http.get_json_with_headers(f"{fake.base_url}{path}", params or None)


async def test_context_caps(fake: FakeMastodon, http: HttpClient) -> None:
    rin = fake.account("rin")
    posts = fake.thread(rin, 100)
    body, _ = await get(http, fake, f"/api/v1/statuses/{posts[50].id}/context")
    # The 40 nearest ancestors, root side first; 20 levels of descendants.
    assert [s["id"] for s in body["ancestors"]] == [p.id for p in posts[10:50]]
    assert [s["id"] for s in body["descendants"]] == [p.id for p in posts[51:71]]


async def test_context_descendant_limit_and_self_replies_first(
    fake: FakeMastodon, http: HttpClient
) -> None:
    rin, kofi = fake.account("rin"), fake.account("kofi")
    root = fake.post(rin, "root")
    early = [fake.post(kofi, f"reply {i}", reply_to=root) for i in range(70)]
    mine = fake.post(rin, "my follow-up", reply_to=root)
    body, _ = await get(http, fake, f"/api/v1/statuses/{root.id}/context")
    ids = [s["id"] for s in body["descendants"]]
    # The limit of 60 cuts in id order before self-replies are promoted: the author's
    # late reply is not there at all.
    assert ids == [s.id for s in early[:60]]
    assert mine.id not in ids


async def test_self_replies_promoted(fake: FakeMastodon, http: HttpClient) -> None:
    rin, kofi = fake.account("rin"), fake.account("kofi")
    root = fake.post(rin, "root")
    other = fake.post(kofi, "first!", reply_to=root)
    mine = fake.post(rin, "2/2", reply_to=root)
    body, _ = await get(http, fake, f"/api/v1/statuses/{root.id}/context")
    assert [s["id"] for s in body["descendants"]] == [mine.id, other.id]


async def test_hidden_posts_count_against_limits_but_are_not_shown(
    fake: FakeMastodon, http: HttpClient
) -> None:
    rin = fake.account("rin")
    posts = fake.thread(rin, 30)
    posts[3].visibility = "private"
    body, _ = await get(http, fake, f"/api/v1/statuses/{posts[0].id}/context")
    ids = [s["id"] for s in body["descendants"]]
    assert posts[3].id not in ids
    assert ids == [p.id for p in posts[1:3] + posts[4:21]]
    status = next(s for s in body["descendants"] if s["id"] == posts[2].id)
    assert status["replies_count"] == 0  # only public and unlisted replies count


async def test_account_statuses_paging(fake: FakeMastodon, http: HttpClient) -> None:
    rin, kofi = fake.account("rin"), fake.account("kofi")
    other = fake.post(kofi, "hi")
    to_other = fake.post(rin, "reply to kofi", reply_to=other)
    posts = fake.thread(rin, 100)
    path = f"/api/v1/accounts/{rin.id}/statuses"
    body, headers = await get(http, fake, path, limit="80", exclude_replies="true")
    assert [s["id"] for s in body] == [p.id for p in reversed(posts[60:])]  # max 40
    assert 'rel="next"' in headers["Link"] and f"max_id={posts[60].id}" in headers["Link"]
    assert f"min_id={posts[99].id}" in headers["Link"]
    assert headers["X-RateLimit-Limit"] == "300"
    # min_id: the oldest page above it, still newest first.
    body, _ = await get(http, fake, path, limit="40", min_id=posts[9].id, exclude_replies="true")
    assert [s["id"] for s in body] == [p.id for p in reversed(posts[10:50])]
    body, _ = await get(
        http, fake, path, min_id=posts[9].id, max_id=posts[15].id, exclude_replies="true"
    )
    assert [s["id"] for s in body] == [p.id for p in reversed(posts[10:15])]
    body, _ = await get(http, fake, path, since_id=posts[94].id, exclude_replies="true")
    assert [s["id"] for s in body] == [p.id for p in reversed(posts[95:])]
    # exclude_replies drops replies to others only; without it they are listed.
    body, _ = await get(http, fake, path, max_id=posts[0].id)
    assert [s["id"] for s in body] == [to_other.id]
    body, _ = await get(http, fake, path, max_id=posts[0].id, exclude_replies="true")
    assert body == []


async def test_ids_are_snowflakes_in_time_order(fake: FakeMastodon) -> None:
    rin = fake.account("rin")
    a = fake.post(rin, "a", after_s=1)
    b = fake.post(rin, "b", after_s=3600)
    assert int(b.id) > int(a.id)
    assert (int(b.id) >> 16) - (int(a.id) >> 16) == 3_600_000


async def test_login_required(http: HttpClient) -> None:
    async with FakeMastodon(require_auth=True) as fake:
        rin = fake.account("rin")
        st = fake.post(rin, "x")
        for path in (
            f"/api/v1/statuses/{st.id}",
            f"/api/v1/statuses/{st.id}/context",
            f"/api/v1/accounts/{rin.id}/statuses",
            "/api/v1/accounts/lookup",
        ):
            with pytest.raises(HttpError) as err:
                await http.get_json(f"{fake.base_url}{path}")
            assert (err.value.status, err.value.body) == (401, AUTH_REQUIRED)


async def test_thread_builder_threads(fake: FakeMastodon, http: HttpClient) -> None:
    b = ThreadBuilder()
    alice, bob = b.author("alice"), b.author("bob")
    keys = b.chain(alice, 5)
    b.reply(bob, keys[1], "nice")
    b.update(keys[2], spoiler="spoilers", text="see #data")
    fake.add_thread(b.build())
    body, _ = await get(http, fake, f"/api/v1/statuses/{fake.status_id(keys[2])}")
    assert body["spoiler_text"] == "spoilers"
    assert body["in_reply_to_id"] == fake.status_id(keys[1])
    assert body["account"]["id"] == fake.account_id("alice")
    assert body["replies_count"] == 1
    assert fake.url(keys[0]).startswith(f"{fake.base_url}/@alice/")
