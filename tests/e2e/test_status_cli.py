"""``unrollbot status`` tells an operator which bot process holds each chat session, on
which device, and how fresh its saved state is; on PostgreSQL it checks the session lock
itself, so a killed holder shows as gone rather than as holding."""

from __future__ import annotations

import asyncio
import os
import re
import sys
from pathlib import Path

from storage.adapter_state_repo import AdapterStateRepo
from tests.conftest import Engine

BOT = "@bot:example.test"


async def status(config: Path) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        "status",
        "--config",
        str(config),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=dict(os.environ),
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_status_names_the_holder_of_the_matrix_session(
    engine: Engine, tmp_path: Path
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(engine.toml(), encoding="utf-8")
    code, out, err = await status(config)
    assert (code, err) == (0, "")
    assert out.startswith("No chat session has been held yet")

    db = await engine.open()
    try:
        repo = AdapterStateRepo(db, clock=lambda: 0.0)  # saved long ago
        await repo.create("matrix", BOT, {"device_id": "DEVICE1", "next_batch": "s1"}, "host:42")
        if engine.dialect == "sqlite":
            code, out, err = await status(config)
            assert (code, err) == (0, "")
            assert re.fullmatch(
                rf"matrix {BOT}: last held by host:42 \(device DEVICE1\); state saved \d+ h ago",
                out.strip(),
            )
            return
        async with repo.session("matrix", BOT, wait=True) as held:
            assert held.acquired
            code, out, err = await status(config)
        assert (code, err) == (0, "")
        assert out.startswith(f"matrix {BOT}: held by host:42 (device DEVICE1); state saved ")
        code, out, err = await status(config)
        assert out.startswith(
            f"matrix {BOT}: no process holds the session now (last host:42, device DEVICE1)"
        )
    finally:
        await db.close()
