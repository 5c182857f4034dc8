"""The fake Discord limits messages as Discord does: 5 per 5 s in each channel, then a 429
with Discord's body and headers; other channels keep their own bucket."""

from __future__ import annotations

from pathlib import Path

import aiohttp

from bot.app import App
from bot.config import Config, StorageConfig
from tests.fakes.discord_bot import connected
from tests.fakes.discord_server import FakeDiscord


async def test_the_sixth_message_in_five_seconds_is_rate_limited_per_channel(
    tmp_path: Path,
) -> None:
    async with FakeDiscord() as fake, aiohttp.ClientSession() as http:
        # The fake delivers events only to a bot on its gateway: connect the real one.
        app = await App.create(
            Config(storage=StorageConfig(str(tmp_path / "bot.sqlite3"))), sources=[], extensions=[]
        )
        try:
            async with connected(app, fake):
                await _check_bucket(fake, http)
        finally:
            await app.close()


async def _check_bucket(fake: FakeDiscord, http: aiohttp.ClientSession) -> None:
    other = fake.snowflake()
    fake.channels[other] = fake.channel_payload(other, "other")
    headers = {"Authorization": f"Bot {fake.token}"}

    async def post(channel: str, text: str) -> aiohttp.ClientResponse:
        url = f"{fake.rest_base}/channels/{channel}/messages"
        async with http.post(url, json={"content": text}, headers=headers) as resp:
            await resp.read()
            return resp

    answers = [await post(fake.channel_id, f"m{i}") for i in range(5)]
    assert [r.status for r in answers] == [200] * 5
    assert [r.headers["X-RateLimit-Remaining"] for r in answers] == ["4", "3", "2", "1", "0"]
    assert all(r.headers["X-RateLimit-Limit"] == "5" for r in answers)
    assert float(answers[-1].headers["X-RateLimit-Reset-After"]) <= 5.0

    url = f"{fake.rest_base}/channels/{fake.channel_id}/messages"
    async with http.post(url, json={"content": "m5"}, headers=headers) as limited:
        body = await limited.json()
    assert limited.status == 429 and limited.content_type == "application/json"
    assert body["message"] == "You are being rate limited." and body["global"] is False
    assert 0 < body["retry_after"] <= 5.0
    assert limited.headers["X-RateLimit-Scope"] == "user"
    assert limited.headers["X-RateLimit-Remaining"] == "0"
    assert int(limited.headers["Retry-After"]) >= body["retry_after"]
    assert "Via" in limited.headers  # Discord's own 429, not a Cloudflare ban
    assert [m["content"] for m in fake.channel_messages(fake.channel_id)] == [
        f"m{i}" for i in range(5)
    ]
    # Another channel has its own bucket.
    assert (await post(other, "elsewhere")).status == 200
    assert len(fake.rate_limited) == 1
