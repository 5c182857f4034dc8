"""What the Matrix adapter keeps across restarts: the sync token (so a restart never replays
history), the device id (so restarts reuse one device instead of piling up new ones), the
rooms already told that the bot cannot read encrypted messages (so it says so once) and the
direct chats it opened for private answers.

Run by the bot (``unrollbot run``) the state lives in the database (``DatabaseStore``, one
row per account in ``adapter_state``), so a standby process takes over with the same device
and token; a ``matrix-state.json`` an earlier version left under ``[matrix] store_path`` is
imported once. The adapter on its own (no bot around it) keeps the file (``FileStore``).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from storage.adapter_state_repo import AdapterStateError, AdapterStateRepo

log = logging.getLogger(__name__)

FILE_NAME = "matrix-state.json"


@dataclass
class MatrixState:
    next_batch: str | None = None
    device_id: str | None = None
    user_id: str | None = None
    told_encrypted: list[str] = field(default_factory=list)
    direct_rooms: dict[str, str] = field(default_factory=dict)  # user id -> room id

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> MatrixState:
        """From stored JSON, dropping what has the wrong type rather than failing."""
        told = raw.get("told_encrypted")
        told = told if isinstance(told, list) else []
        direct = raw.get("direct_rooms") or {}
        return cls(
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

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class MatrixStore:
    """The state and where it is kept; ``dir`` (``[matrix] store_path``) also holds nio's
    encryption store."""

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.dir = Path(directory)
        self.state = MatrixState()
        self._lock = asyncio.Lock()

    async def load(self) -> MatrixState:
        """Read the state (a first start has none); ValueError says what cannot be read."""
        raise NotImplementedError

    async def save(self) -> None:
        raise NotImplementedError


class FileStore(MatrixStore):
    """The state in one small JSON file, ``matrix-state.json`` under the store folder."""

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        super().__init__(directory)
        self.path = self.dir / FILE_NAME

    def read(self) -> MatrixState | None:
        """The file's state; None without a file; ValueError when it is damaged."""
        try:
            raw: Any = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            raise ValueError(f"cannot read the Matrix state file {self.path}: {exc}") from None
        if not isinstance(raw, dict):
            raise ValueError(f"the Matrix state file {self.path} is not a JSON object")
        return MatrixState.from_dict(raw)

    async def load(self) -> MatrixState:
        found = await asyncio.to_thread(self.read)
        if found is not None:
            self.state = found
        return self.state

    async def save(self) -> None:
        async with self._lock:
            data = json.dumps(self.state.to_dict(), indent=1)
            await asyncio.to_thread(self._write, data)

    def _write(self, data: str) -> None:
        # Write then rename, so a crash mid-write leaves the previous token intact.
        self.dir.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(data, encoding="utf-8")
        os.replace(tmp, self.path)


class DatabaseStore(MatrixStore):
    """The state in the database, one row per account, written only by the process that
    holds the account's session (``owner``). ``on_taken`` is called when a save finds
    that another process has claimed the row: this one must stop at once."""

    def __init__(
        self,
        directory: str | os.PathLike[str],
        repo: AdapterStateRepo,
        adapter: str,
        account: str,
        owner: str,
        on_taken: Callable[[], None] | None = None,
    ) -> None:
        super().__init__(directory)
        self.repo = repo
        self.adapter = adapter
        self.account = account
        self.owner = owner
        self.on_taken = on_taken

    @property
    def where(self) -> str:
        return f"the database {self.repo.db.path}"

    async def load(self) -> MatrixState:
        """Claim the account's row for this process and read it (call while holding the
        session); on the first start import the file an earlier version kept."""
        row = await self.repo.claim(self.adapter, self.account, self.owner)
        if row is not None:
            try:
                self.state = MatrixState.from_dict(row.value())
            except AdapterStateError as exc:
                raise ValueError(
                    f"cannot read the Matrix state for {self.account} in {self.where}: {exc}"
                ) from None
            return self.state
        self.state = await self._imported() or MatrixState()
        await self.repo.create(self.adapter, self.account, self.state.to_dict(), self.owner)
        return self.state

    async def _imported(self) -> MatrixState | None:
        legacy = FileStore(self.dir)
        state = await asyncio.to_thread(legacy.read)
        if state is None:
            return None
        if state.user_id not in (None, self.account):
            log.warning(
                "matrix: %s belongs to %s, not %s: not imported (starting afresh)",
                legacy.path,
                state.user_id,
                self.account,
            )
            return None
        log.info(
            "matrix: imported the Matrix state (sync token, device %s) from %s into %s, "
            "once; the file is no longer read or written",
            state.device_id,
            legacy.path,
            self.where,
        )
        return state

    async def save(self) -> None:
        async with self._lock:
            kept = await self.repo.put(self.adapter, self.account, self.state.to_dict(), self.owner)
        if not kept and self.on_taken is not None:
            self.on_taken()


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
