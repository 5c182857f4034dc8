"""Shared fixtures: an HTTP client allowed to reach the local fake servers, and a fresh
database per test."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.extensions import open_database
from bot.http import HttpClient, HttpSettings
from storage.db import Database


@pytest.fixture
def http_settings() -> HttpSettings:
    # Loopback fakes need private addresses and plain http; tiny backoff keeps tests fast.
    return HttpSettings(allow_private_addresses=True, retries=2, backoff_base_s=0.01, timeout_s=2)


@pytest.fixture
async def http(http_settings: HttpSettings) -> AsyncIterator[HttpClient]:
    client = HttpClient(http_settings)
    yield client
    await client.close()


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await open_database(str(tmp_path / "test.sqlite3"))
    yield database
    await database.close()
