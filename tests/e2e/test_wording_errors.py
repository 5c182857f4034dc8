"""What a user reads when something outside the bot is wrong: one line naming the cause
(a missing folder, a file that is not a database, a host that does not exist, a closed
port), never a traceback, and a different line for a server that answered badly."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from pathlib import Path

import pytest

from bot.errors import UpstreamUnavailable
from bot.http import HttpClient, HttpSettings
from bot.models import PostRef
from bot.sources.base import Source
from bot.sources.bluesky import BlueskySource
from bot.sources.mastodon import MastodonSource
from bot.sources.x import XSource
from tests.fakes.base import Fault
from tests.fakes.bluesky_server import FakeBluesky
from tests.fakes.thread_builder import ThreadBuilder

BSKY_LINK = "https://bsky.app/profile/alice.example/post/3kabcdefghij2"


async def run_cli(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        *args,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, **(env or {})},
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


def closed_port() -> int:
    """A port on 127.0.0.1 nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


def ref(source: Source, link: str) -> PostRef:
    found = source.parse(link)
    assert found is not None, link
    return found


def write_config(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(body)
    return path


def one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


# ---- the database ------------------------------------------------------------------------


async def test_a_database_in_a_missing_folder_names_the_folder(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-folder" / "bot.sqlite3"
    config = write_config(tmp_path, f'[storage]\npath = "{missing}"\n')
    code, _, err = await run_cli("unroll", "--config", str(config), BSKY_LINK)
    assert code == 1
    assert one_line(err) == (
        f"unrollbot: cannot open database {missing}: the folder {missing.parent} does not exist"
    )
    assert not missing.parent.exists()  # nothing was created behind the user's back


async def test_a_file_that_is_not_a_database_is_named_and_left_alone(tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("shopping list\n" * 200)
    config = write_config(tmp_path, f'[storage]\npath = "{notes}"\n')
    code, _, err = await run_cli("unroll", "--config", str(config), BSKY_LINK)
    assert code == 1
    assert one_line(err) == f"unrollbot: cannot use database {notes}: file is not a database"
    assert notes.read_text() == "shopping list\n" * 200


async def test_a_folder_given_as_the_database_says_so(tmp_path: Path) -> None:
    config = write_config(tmp_path, f'[storage]\npath = "{tmp_path}"\n')
    code, _, err = await run_cli("unroll", "--config", str(config), BSKY_LINK)
    assert code == 1
    assert "that is a folder; give a file name inside it" in one_line(err)


# ---- Discord -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "reason"),
    [
        ("127.0.0.1:{port}", "the connection was refused"),
        ("unrollbot-test.invalid", "no such host (the name does not resolve)"),
    ],
)
async def test_an_unreachable_discord_is_one_line(tmp_path: Path, host: str, reason: str) -> None:
    api = f"http://{host.format(port=closed_port())}/api/v10"
    config = write_config(
        tmp_path,
        f"""
[storage]
path = "{tmp_path / "bot.sqlite3"}"
[console]
enabled = false
[discord]
enabled = true
token_env = "TEST_DISCORD_TOKEN"
api_base_url = "{api}"
gateway_url = "ws://{host.format(port=closed_port())}/"
""",
    )
    code, _, err = await run_cli(
        "run", "--config", str(config), env={"TEST_DISCORD_TOKEN": "not-a-real-token"}
    )
    assert code == 2
    assert one_line(err) == (
        f"unrollbot: cannot reach Discord at {api} (check the network, or "
        f"discord.api_base_url): {reason}"
    )


# ---- sources --------------------------------------------------------------------------------


@pytest.fixture
async def strict_http() -> HttpClient:
    # Few, fast retries: each case below fails the same way every time.
    return HttpClient(HttpSettings(allow_private_addresses=True, retries=1, backoff_base_s=0.01))


async def test_an_unresolvable_bluesky_host_could_not_be_reached(strict_http: HttpClient) -> None:
    source = BlueskySource(strict_http, "http://unrollbot-test.invalid")
    try:
        with pytest.raises(UpstreamUnavailable) as err:
            await source.fetch(ref(source, BSKY_LINK), 50)
    finally:
        await strict_http.close()
    assert str(err.value) == (
        "Could not reach Bluesky (no such host (the name does not resolve)). "
        "Check the address or try again later."
    )


async def test_the_guarded_resolver_reports_a_missing_host_the_same_way() -> None:
    http = HttpClient(HttpSettings(retries=0))  # the default, public-addresses-only client
    source = BlueskySource(http, "https://unrollbot-test.invalid")
    try:
        with pytest.raises(UpstreamUnavailable, match=r"^Could not reach Bluesky \(no such host"):
            await source.fetch(ref(source, BSKY_LINK), 50)
    finally:
        await http.close()


async def test_a_closed_port_could_not_be_reached_on_every_source(
    strict_http: HttpClient,
) -> None:
    port = closed_port()
    base = f"http://127.0.0.1:{port}"
    bluesky = BlueskySource(strict_http, base)
    x = XSource(strict_http, base)
    mastodon = MastodonSource(strict_http, handle_scheme="http")
    cases = [
        (bluesky, BSKY_LINK, "Could not reach Bluesky"),
        (x, "https://x.com/alice/status/1234567890123456789", "Could not reach The FxTwitter API"),
        (mastodon, f"{base}/@alice/109876543210987654", f"Could not reach 127.0.0.1:{port}"),
    ]
    try:
        for source, link, start in cases:
            with pytest.raises(UpstreamUnavailable) as err:
                await source.fetch(ref(source, link), 50)
            assert str(err.value).startswith(start), str(err.value)
            assert "(the connection was refused)" in str(err.value)
    finally:
        await strict_http.close()


async def test_a_server_that_answers_garbage_did_not_answer_properly() -> None:
    # The other side of the distinction: the host was reached, its answer was unusable.
    b = ThreadBuilder()
    keys = b.chain(b.author("alice"), 2)
    async with FakeBluesky() as fake:
        fake.add_thread(b.build())
        fake.inject("/xrpc/app.bsky.feed.getPostThread", *[Fault(200, "not json")] * 2)
        http = HttpClient(HttpSettings(allow_private_addresses=True, retries=1))
        source = BlueskySource(http, fake.base_url)
        try:
            with pytest.raises(UpstreamUnavailable) as err:
                await source.fetch(ref(source, fake.url(keys[0])), 50)
        finally:
            await http.close()
    assert str(err.value).startswith("Bluesky did not answer properly (malformed JSON")
    assert "Could not reach" not in str(err.value)
