"""The command line and the console, run as real processes against a local fake Bluesky."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.fakes.base import Fault
from tests.fakes.bluesky_server import FakeBluesky
from tests.fakes.thread_builder import ThreadBuilder


async def run_cli(*args: str, config: Path, stdin: str | None = None) -> tuple[int, str, str]:
    env = {**os.environ, "UNROLLBOT_CONFIG": str(config)}
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        *args,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )
    out, err = await asyncio.wait_for(proc.communicate(stdin.encode() if stdin else b""), 60)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


@pytest.fixture
async def bsky() -> AsyncIterator[FakeBluesky]:
    async with FakeBluesky() as server:
        yield server


@pytest.fixture
def config(tmp_path: Path, bsky: FakeBluesky) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        f"""
[storage]
path = "bot.sqlite3"
[network]
allow_private_addresses = true
retries = 1
timeout_s = 2.0
[sources.bluesky]
appview_url = "{bsky.base_url}"
"""
    )
    return path


def _thread(bsky: FakeBluesky, n: int = 12) -> list[str]:
    b = ThreadBuilder()
    alice = b.author("alice")
    bob = b.author("bob")
    keys = b.chain(alice, n)
    b.reply(bob, keys[min(2, n - 1)], "a reply from someone else @everyone")
    bsky.add_thread(b.build())
    return keys


async def test_unroll_json_then_cached_without_requests(bsky: FakeBluesky, config: Path) -> None:
    keys = _thread(bsky)
    code, out, err = await run_cli("unroll", bsky.url(keys[5]), "--format", "json", config=config)
    assert code == 0, err
    data = json.loads(out)
    assert data["source"] == "bluesky"
    assert len(data["posts"]) == 12
    assert data["url"] == data["posts"][0]["url"]  # the first post, though we linked the 6th
    assert all(p["status"] == "ok" for p in data["posts"])
    assert "someone else" not in out
    assert data["truncated"] is False
    assert set(data) >= {
        "source",
        "url",
        "author",
        "posts",
        "asides",
        "links",
        "content_notes",
        "truncated",
    }
    before = bsky.count()
    code, out2, _ = await run_cli("unroll", bsky.url(keys[5]), "--format", "json", config=config)
    assert code == 0 and json.loads(out2)["posts"] == data["posts"]
    assert bsky.count() == before  # served from the database
    code, _, _ = await run_cli("unroll", bsky.url(keys[0]), "--refresh", config=config)
    assert code == 0 and bsky.count() > before


async def test_unroll_text_output(bsky: FakeBluesky, config: Path) -> None:
    keys = _thread(bsky, 3)
    code, out, _ = await run_cli("unroll", bsky.url(keys[0]), config=config)
    assert code == 0
    assert "🧵 Thread by" in out and "3 posts" in out
    assert "1/3" in out and "3/3" in out


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("https://example.com/not/a/post", 2),
        ("not a link", 2),
        ("https://bsky.app/profile/alice.test/post/!!bad!!", 2),
    ],
)
async def test_bad_links_exit_2_with_one_line(config: Path, url: str, code: int) -> None:
    got, out, err = await run_cli("unroll", url, config=config)
    assert got == code
    assert out == ""
    assert err.count("\n") == 1 and "Traceback" not in err


async def test_missing_post_exits_4(bsky: FakeBluesky, config: Path) -> None:
    _thread(bsky, 2)
    url = "https://bsky.app/profile/alice.example.com/post/3kzzzzzzzzzz2"
    code, _, err = await run_cli("unroll", url, config=config)
    assert code == 4, err
    assert err.count("\n") == 1


async def test_upstream_down_exits_4(bsky: FakeBluesky, config: Path) -> None:
    keys = _thread(bsky, 2)
    for path in ("/xrpc/app.bsky.feed.getPostThread", "/xrpc/app.bsky.feed.getAuthorFeed"):
        bsky.inject(path, *[Fault(503, {"error": "Unavailable"})] * 10)
    code, _, err = await run_cli("unroll", bsky.url(keys[0]), config=config)
    assert code == 4, err
    assert "503" in err and "try again" in err.lower()


async def test_opted_out_author_exits_3(bsky: FakeBluesky, config: Path) -> None:
    b = ThreadBuilder()
    carol = b.author("carol", labels=("!no-unauthenticated",))
    keys = b.chain(carol, 3)
    bsky.add_thread(b.build())
    code, out, err = await run_cli("unroll", bsky.url(keys[0]), config=config)
    assert code == 3
    assert out == ""
    assert "logged-out" in err or "opt" in err


async def test_console_runs_piped_lines_and_hides_nothing_it_should_show(
    bsky: FakeBluesky, config: Path
) -> None:
    keys = _thread(bsky, 4)
    script = (
        f"/help\n/unroll {bsky.url(keys[1])}\n{bsky.url(keys[0])}\n/unroll https://nope.example/x\n"
    )
    code, out, err = await run_cli("console", config=config, stdin=script)
    assert code == 0, err
    assert "/unroll <url>" in out  # help lists the commands
    assert (
        out.count("🧵 Thread by") == 1
    )  # the bare link repeats the same thread: linked, not reposted
    assert "already unrolled" in out
    assert "4/4" in out
    assert "Unsupported link" in out
    assert "Fetching the thread" in err  # progress goes to stderr when piped


@pytest.fixture
def old_config(config: Path) -> Path:
    """The config as written while the content-notes model could be turned on."""
    config.write_text(config.read_text() + "[content_notes]\nmodel = true\n")
    return config


async def test_a_config_still_turning_the_withdrawn_model_on_starts_with_one_warning(
    bsky: FakeBluesky, old_config: Path
) -> None:
    b = ThreadBuilder()
    alice = b.author("alice")
    root = b.post(alice, "My psychiatrist changed my meds again.")
    b.post(alice, "I keep a bag packed by the door just in case he comes back.", parent=root)
    bsky.add_thread(b.build())
    script = f"/unroll {bsky.url(root)}\n"
    code, out, err = await run_cli("console", config=old_config, stdin=script)
    assert code == 0, err
    assert "2/2" in out and "Content note: mental health" in out
    assert "unchecked" not in out.lower()
    warnings = [line for line in err.splitlines() if "content_notes.model" in line]
    assert len(warnings) == 1 and "withdrawn" in warnings[0] and "ignored" in warnings[0]


async def test_run_stops_cleanly_on_sigterm_while_the_console_waits(config: Path) -> None:
    import signal

    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        "run",
        "--config",
        str(config),
        stdin=asyncio.subprocess.PIPE,  # kept open: the console is waiting for a line
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(b"/help\n")
    await proc.stdin.drain()
    first = await asyncio.wait_for(proc.stdout.readline(), 30)
    assert first.startswith(b"Commands:")
    proc.send_signal(signal.SIGTERM)
    code = await asyncio.wait_for(proc.wait(), 10)
    assert code == 0
