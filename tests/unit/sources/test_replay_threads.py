"""Threads as real servers answered them (recordings replayed on 127.0.0.1): replies to
posts nobody can read, a later self-thread below a hidden post, a guessed branch beside
the real reply, and FxTwitter's answer for a post without self-replies. The cases are
picked from the recordings by their shape, not by hand."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from bot.assemble import assemble
from bot.cli import main
from bot.http import HttpClient
from bot.models import Thread
from bot.sources.mastodon import MastodonSource
from bot.sources.x import NOTICE_SINGLE_POST, XSource
from tests.fakes.replay_server import DATA_DIR, ReplaySet

pytestmark = pytest.mark.skipif(
    not DATA_DIR.is_dir(), reason=f"recorded server answers not found at {DATA_DIR}"
)


def link(rs: ReplaySet, status_id: str) -> str:
    """The status' page on the local server that plays the recorded host."""
    st = rs.main.statuses[status_id]
    return f"{rs.main.base_url}/@{st['account']['acct']}/{status_id}"


def uri(rs: ReplaySet, status_id: str) -> str:
    """The post's id as unrollbot names it: its ActivityPub uri, on the local servers."""
    return rs.local(rs.main.statuses[status_id]["uri"])


async def unroll(http: HttpClient, rs: ReplaySet, status_id: str) -> Thread:
    source = MastodonSource(http, handle_scheme="http")
    ref = source.parse(link(rs, status_id))
    assert ref is not None
    return assemble(await source.fetch(ref, 500), 500)


def replies_to_unreadable_posts(statuses: dict[str, dict[str, Any]]) -> list[str]:
    """Posts answering another account's post that the server does not show (followers-only,
    deleted, or erased so that only the account answered is left)."""
    return sorted(
        sid
        for sid, st in statuses.items()
        if st.get("in_reply_to_account_id") not in (None, st["account"]["id"])
        and st.get("in_reply_to_id") not in statuses
        and not st.get("reblog")
    )


def by_month(statuses: dict[str, dict[str, Any]], acct: str, month: str) -> list[str]:
    return sorted(
        sid
        for sid, st in statuses.items()
        if st["account"]["acct"] == acct and st["created_at"].startswith(month)
    )


# -- Mastodon ----------------------------------------------------------------------------


async def test_replies_to_posts_nobody_can_read_stand_alone(http: HttpClient) -> None:
    async with ReplaySet("fosstodon_2025") as rs:
        replies = replies_to_unreadable_posts(rs.main.statuses)
        erased = [s for s in replies if rs.main.statuses[s]["in_reply_to_id"] is None]
        assert len(replies) > 30 and erased  # both kinds are recorded
        for sid in replies:
            thread = await unroll(http, rs, sid)
            # The reply starts its thread (its own self-replies may follow); nothing
            # unreadable is credited to the author.
            assert thread.posts[0].id == uri(rs, sid), sid
            assert all(p.status == "ok" for p in thread.all_posts), sid
            assert {p.author.id for p in thread.all_posts} == {thread.author.id}


async def test_self_reply_below_a_reply_to_someone_starts_at_the_authors_reply(
    http: HttpClient,
) -> None:
    # Mastodon names the other account on the self-reply too (carried down the chain).
    async with ReplaySet("fosstodon_2025") as rs:
        statuses = rs.main.statuses
        carried = [
            sid
            for sid, st in statuses.items()
            if st.get("in_reply_to_id") in statuses
            and statuses[st["in_reply_to_id"]]["account"]["id"] == st["account"]["id"]
            and st["in_reply_to_account_id"] != st["account"]["id"]
        ]
        assert carried
        for sid in carried:
            parent = statuses[sid]["in_reply_to_id"]
            thread = await unroll(http, rs, sid)
            assert [p.id for p in thread.posts] == [uri(rs, parent), uri(rs, sid)]


async def test_later_self_thread_below_a_hidden_post_is_not_glued_on(http: HttpClient) -> None:
    async with ReplaySet("mastodon_social_2025_tag") as rs:
        acct = "LenaOetzel@historians.social"
        january = by_month(rs.main.statuses, acct, "2025-01")
        march = by_month(rs.main.statuses, acct, "2025-03")
        assert len(january) == 5 and len(march) == 2
        for sid in january:
            thread = await unroll(http, rs, sid)
            assert [p.id for p in thread.all_posts] == [uri(rs, s) for s in january]
        thread = await unroll(http, rs, march[0])
        assert [p.status for p in thread.posts] == ["unavailable", "ok", "ok"]
        assert [p.id for p in thread.posts[1:]] == [uri(rs, s) for s in march]
        # The hidden first post is the author's own (the reply names her account).
        assert thread.posts[0].author.id == thread.author.id


async def test_guessed_branch_does_not_push_the_linked_reply_into_an_aside(
    http: HttpClient,
) -> None:
    async with ReplaySet("mastodon_social_2025_tag") as rs:
        statuses = rs.main.statuses
        acct = "ElenLeFoll@fediscience.org"
        mine = [s for s in statuses if statuses[s]["account"]["acct"] == acct]
        real = next(s for s in mine if statuses[s]["in_reply_to_id"] in mine)
        root = statuses[real]["in_reply_to_id"]
        erased = next(
            s
            for s in mine
            if statuses[s]["in_reply_to_id"] is None and statuses[s]["in_reply_to_account_id"]
        )
        for anchor in (root, real):
            thread = await unroll(http, rs, anchor)
            assert [p.id for p in thread.posts] == [uri(rs, root), uri(rs, real)]
            assert len(thread.asides) == 1 and thread.asides[0].after == uri(rs, root)
            gap, orphan = thread.asides[0].posts
            assert gap.status == "unavailable" and orphan.id == uri(rs, erased)


async def test_self_reply_below_the_authors_hidden_post_keeps_the_gap(http: HttpClient) -> None:
    async with ReplaySet("mastodon_social_2025_tag") as rs:
        statuses = rs.main.statuses
        hidden_own = [
            sid
            for sid, st in statuses.items()
            if st["in_reply_to_id"]
            and st["in_reply_to_id"] not in statuses
            and st["in_reply_to_account_id"] == st["account"]["id"]
        ]
        assert hidden_own
        for sid in hidden_own:
            thread = await unroll(http, rs, sid)
            assert thread.posts[0].status == "unavailable"
            assert thread.posts[0].author.id == thread.author.id
            assert uri(rs, sid) in [p.id for p in thread.posts]
            if "@" not in statuses[sid]["account"]["acct"]:
                # A local post: its hidden parent keeps its place, nothing else is missing.
                assert thread.notices == ()


# -- FxTwitter ---------------------------------------------------------------------------


async def test_fxtwitter_post_without_self_replies_has_no_missing_posts_notice(
    http: HttpClient,
) -> None:
    async with ReplaySet("fxtwitter") as rs:
        source = XSource(http, rs.main.base_url)
        answers = {
            path.rsplit("/", 1)[-1]: body
            for path, (code, body) in rs.recording["responses"].items()
            if path.startswith("/2/thread/") and code == 200
        }
        alone = [sid for sid, body in answers.items() if _only_itself(body)]
        unread = [
            sid
            for sid, body in answers.items()
            if body["thread"] is None and body["status"]["replies"]
        ]
        assert alone and unread
        for sid in alone:
            ref = source.parse(f"https://x.com/i/status/{sid}")
            assert ref is not None
            got = await source.fetch(ref, 100)
            assert got.notices == [], sid
            assert [p.id for p in assemble(got, 100).posts] == [f"x:{sid}"]
        for sid in unread:
            ref = source.parse(f"https://x.com/i/status/{sid}")
            assert ref is not None
            assert (await source.fetch(ref, 100)).notices == [NOTICE_SINGLE_POST]


def _only_itself(body: dict[str, Any]) -> bool:
    thread = body.get("thread")
    return isinstance(thread, list) and [t.get("id") for t in thread] == [body["status"]["id"]]


# -- end to end: `unrollbot unroll` ------------------------------------------------------


def write_config(tmp_path: Path, x_api: str = "http://127.0.0.1:9") -> str:
    path = tmp_path / "unrollbot.toml"
    path.write_text(
        f"""
[storage]
path = "{tmp_path / "bot.sqlite3"}"

[network]
allow_private_addresses = true
retries = 0

[sources.bluesky]
enabled = false

[sources.x]
api_url = "{x_api}"
""",
        encoding="utf-8",
    )
    return str(path)


async def cli_json(capsys: pytest.CaptureFixture[str], cfg: str, url: str) -> dict[str, Any]:
    # The command line runs its own event loop; the replay servers keep serving on this one.
    code = await asyncio.to_thread(main, ["unroll", url, "--format", "json", "--config", cfg])
    out, err = capsys.readouterr()
    assert code == 0, err
    return json.loads(out)  # type: ignore[no-any-return]


async def test_unroll_command_on_recorded_mastodon_answers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = write_config(tmp_path)
    async with ReplaySet("fosstodon_2025") as rs:
        reply = replies_to_unreadable_posts(rs.main.statuses)[0]
        data = await cli_json(capsys, cfg, link(rs, reply))
        assert [p["id"] for p in data["posts"]] == [uri(rs, reply)]
        assert data["asides"] == [] and data["posts"][0]["status"] == "ok"
    async with ReplaySet("mastodon_social_2025_tag") as rs:
        january = by_month(rs.main.statuses, "LenaOetzel@historians.social", "2025-01")
        data = await cli_json(capsys, cfg, link(rs, january[-1]))
        assert [p["id"] for p in data["posts"]] == [uri(rs, s) for s in january]
        assert data["asides"] == []


async def test_unroll_command_on_a_recorded_standalone_x_post(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    async with ReplaySet("fxtwitter") as rs:
        cfg = write_config(tmp_path, rs.main.base_url)
        sid = next(
            path.rsplit("/", 1)[-1]
            for path, (code, body) in rs.recording["responses"].items()
            if path.startswith("/2/thread/") and code == 200 and _only_itself(body)
        )
        data = await cli_json(capsys, cfg, f"https://x.com/i/status/{sid}")
        assert [p["id"] for p in data["posts"]] == [f"x:{sid}"]
        assert "notices" not in data
