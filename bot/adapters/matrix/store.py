"""What the Matrix adapter keeps across restarts, in one small JSON file under
``[matrix] store_path``: the sync token (so a restart never replays history), the device id
(so restarts reuse one device instead of piling up new ones) and the rooms already told
that the bot cannot read encrypted messages (so it says so once) and the direct chats it
opened for private answers."""

from __future__ import annotations

import asyncio
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class MatrixState:
    next_batch: str | None = None
    device_id: str | None = None
    user_id: str | None = None
    told_encrypted: list[str] = field(default_factory=list)
    direct_rooms: dict[str, str] = field(default_factory=dict)  # user id -> room id


class MatrixStore:
    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.dir = Path(directory)
        self.path = self.dir / "matrix-state.json"
        self.state = MatrixState()
        self._lock = asyncio.Lock()

    def load(self) -> MatrixState:
        """Read the state; a missing file is a first start, a damaged one is reported."""
        try:
            raw: Any = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return self.state
        except (OSError, ValueError) as exc:
            raise ValueError(f"cannot read the Matrix state file {self.path}: {exc}") from None
        if not isinstance(raw, dict):
            raise ValueError(f"the Matrix state file {self.path} is not a JSON object")
        told = raw.get("told_encrypted") or []
        direct = raw.get("direct_rooms") or {}
        self.state = MatrixState(
            next_batch=_str_or_none(raw.get("next_batch")),
            device_id=_str_or_none(raw.get("device_id")),
            user_id=_str_or_none(raw.get("user_id")),
            told_encrypted=[t for t in told if isinstance(t, str)],
            direct_rooms={
                str(k): v
                for k, v in (direct.items() if isinstance(direct, dict) else ())
                if isinstance(v, str)
            },
        )
        return self.state

    async def save(self) -> None:
        async with self._lock:
            data = json.dumps(self.state.__dict__, indent=1)
            await asyncio.to_thread(self._write, data)

    def _write(self, data: str) -> None:
        # Write then rename, so a crash mid-write leaves the previous token intact.
        self.dir.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(data, encoding="utf-8")
        os.replace(tmp, self.path)


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
