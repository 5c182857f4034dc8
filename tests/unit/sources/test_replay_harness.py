"""The replay server answers like the recorded real servers: recorded statuses, the
recorded 401 of a server that needs a token, and a 404 (logged) for anything not recorded."""

from __future__ import annotations

import pytest

from bot.assemble import assemble
from bot.http import HttpClient, HttpError
from bot.sources.mastodon import MastodonSource
from tests.fakes.replay_server import DATA_DIR, ReplaySet

pytestmark = pytest.mark.skipif(
    not DATA_DIR.is_dir(), reason=f"recorded server answers not found at {DATA_DIR}"
)


async def test_recorded_status_unrolls_from_the_local_copy(http: HttpClient) -> None:
    async with ReplaySet("tchncs_2022") as rs:
        status = rs.main.statuses["109303309876585639"]
        source = MastodonSource(http, handle_scheme="http")
        ref = source.parse(rs.local(status["url"]))
        assert ref is not None
        thread = assemble(await source.fetch(ref, 100), 100)
        assert thread.posts[0].id.endswith("/109303309876585639")
        assert thread.author.handle.startswith(status["account"]["acct"] + "@127.0.0.1:")


async def test_unrecorded_and_token_only_answers(http: HttpClient) -> None:
    async with ReplaySet("mastodon_social_2022") as rs:
        with pytest.raises(HttpError) as missing:
            await http.get_json(f"{rs.main.base_url}/api/v1/statuses/1")
        assert missing.value.status == 404
        assert rs.unrecorded == ["/api/v1/statuses/1"]
    async with ReplaySet("gotosocial_401") as rs:
        with pytest.raises(HttpError) as denied:
            await http.get_json(f"{rs.main.base_url}/api/v1/statuses/01F8MH75CBF9JFX4ZAD54N0W0R")
        assert denied.value.status == 401
