"""`unrollbot links | link | unlink | links-undo` from the command line, on the same
database the bot uses (the fake FxTwitter API serves the seed on loopback)."""

from __future__ import annotations

import asyncio
import json
from io import StringIO
from pathlib import Path

import pytest

from bot.adapters.console import ConsoleAdapter
from bot.cli import main
from tests.e2e.test_links_fixtures import (
    BELONGS_TARGET,
    CONTEXT_URL,
    MOVED_POST,
    SEED_URL,
    TARGET_URL,
    open_app,
    seeded_fake,
    x_url,
)
from tests.fakes.fxtwitter_server import FxTwitterFake


def write_config(tmp_path: Path, fake: FxTwitterFake) -> str:
    path = tmp_path / "unrollbot.toml"
    path.write_text(
        f"""
[storage]
path = "links.sqlite3"

[network]
allow_private_addresses = true
retries = 0

[sources.bluesky]
enabled = false

[sources.mastodon]
enabled = false

[sources.x]
api_url = "{fake.base_url}"
""",
        encoding="utf-8",
    )
    return str(path)


async def cli(capsys: pytest.CaptureFixture[str], cfg: str, *argv: str) -> tuple[int, str, str]:
    # The command line runs its own event loop; the fake keeps serving on this one.
    try:
        code = await asyncio.to_thread(main, [argv[0], "--config", cfg, *argv[1:]])
    except SystemExit as exc:  # argparse rejects bad usage by exiting
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


async def test_links_link_unlink_and_undo_from_the_command_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    async with seeded_fake() as fake:
        cfg = write_config(tmp_path, fake)
        code, out, _ = await cli(capsys, cfg, "links", SEED_URL)
        assert code == 0
        assert "context · auto · active" in out and "belongs_to · auto · active" in out

        code, out, _ = await cli(capsys, cfg, "unlink", x_url(MOVED_POST), "belongs")
        assert code == 0 and out.startswith("Removed 1 link (change #3)")
        code, out, _ = await cli(capsys, cfg, "link", TARGET_URL, "context", CONTEXT_URL)
        assert code == 0 and out.startswith("Linked (change #4)")
        code, out, _ = await cli(capsys, cfg, "links", SEED_URL)
        assert "belongs_to · auto · removed" in out
        assert "change #3: unlink by cli:" in out

        # The bot, opening the same database, applies what the command line decided.
        async with open_app(tmp_path / "links.sqlite3", fake) as app:
            target = await app.unroller.unroll(x_url(BELONGS_TARGET))
        assert [p.status for p in target.posts] == ["ok", "ok", "ok"]
        assert [(lk.kind, lk.origin) for lk in target.links] == [("context", "moderator")]

        code, out, _ = await cli(capsys, cfg, "links-undo", "3")
        assert code == 0 and out.startswith("Undid change #3")
        code, out, _ = await cli(capsys, cfg, "unroll", TARGET_URL, "--format", "json")
        data = json.loads(out)
        assert [p["status"] for p in data["posts"]] == ["ok", "ok", "moved_in", "ok"]
        assert {(lk["kind"], lk["origin"]) for lk in data["links"]} == {
            ("context", "moderator"),
            ("belongs_to", "auto"),
        }


async def test_command_line_errors_are_one_line_with_an_exit_code(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    async with seeded_fake() as fake:
        cfg = write_config(tmp_path, fake)
        code, out, err = await cli(
            capsys, cfg, "link", "https://news.example.com/a", "belongs", SEED_URL
        )
        assert code == 2 and out == ""
        assert err.strip().count("\n") == 0 and "must be a link to a post" in err
        code, _, err = await cli(capsys, cfg, "link", SEED_URL, "moves", CONTEXT_URL)
        assert code == 2 and "invalid choice" in err
        code, _, err = await cli(capsys, cfg, "links-undo", "7")
        assert code == 4 and "There is no change #7" in err


async def test_the_console_user_is_a_moderator(tmp_path: Path) -> None:
    async with seeded_fake() as fake, open_app(tmp_path / "console.sqlite3", fake) as app:
        out = StringIO()
        lines = f"/unlink {x_url(MOVED_POST)}\n/links {SEED_URL}\n"
        console = ConsoleAdapter(app.dispatcher, stdin=StringIO(lines), stdout=out)
        await console.run()
        text = out.getvalue()
        assert "Removed 1 link (change #3)" in text
        assert "change #3: unlink by console:you" in text
