"""Shared fixtures: an HTTP client allowed to reach the local fake servers, and a fresh
database per test, on each storage engine (SQLite, and a real PostgreSQL server the session
starts on 127.0.0.1)."""

from __future__ import annotations

import atexit
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.config import StorageConfig
from bot.extensions import open_database
from bot.http import HttpClient, HttpSettings
from storage.db import DIALECTS, Database, Dialect
from tests.postgres import PASSWORD, PostgresServer, PostgresUnavailable


@pytest.fixture
def http_settings() -> HttpSettings:
    # Loopback fakes need private addresses and plain http; tiny backoff keeps tests fast.
    return HttpSettings(allow_private_addresses=True, retries=2, backoff_base_s=0.01, timeout_s=2)


@pytest.fixture
async def http(http_settings: HttpSettings) -> AsyncIterator[HttpClient]:
    client = HttpClient(http_settings)
    yield client
    await client.close()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One PostgreSQL server for the session, started the first time a test needs it."""
    try:
        server = PostgresServer()
    except PostgresUnavailable as exc:
        pytest.fail(f"PostgreSQL is needed for the storage tests: {exc}")
    # Stopped even if the session is cut short before fixture teardown.
    atexit.register(server.stop)
    try:
        server.start()
    except PostgresUnavailable as exc:
        server.stop()
        pytest.fail(f"PostgreSQL could not start for the storage tests: {exc}")
    yield server
    server.stop()


@dataclass(frozen=True)
class Engine:
    """Where a test's fresh database is: a SQLite file, or a new PostgreSQL database."""

    dialect: Dialect
    target: str
    password: str | None = None

    async def open(self) -> Database:
        return await open_database(self.target, password=self.password)

    def storage(self) -> StorageConfig:
        """The bot's [storage] section for this database (the password from the variable
        the ``engine`` fixture sets, as in production)."""
        if self.dialect == "sqlite":
            return StorageConfig(self.target)
        return StorageConfig(url=self.target, password_env=PASSWORD_ENV)

    def toml(self) -> str:
        """The same, as a config file's [storage] section."""
        st = self.storage()
        if self.dialect == "sqlite":
            return f'[storage]\npath = "{st.path}"\n'
        return f'[storage]\nurl = "{st.url}"\npassword_env = "{st.password_env}"\n'


PASSWORD_ENV = "UNROLLBOT_TEST_DB_PASSWORD"


@pytest.fixture(params=DIALECTS)
async def engine(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Engine:
    if request.param == "sqlite":
        return Engine("sqlite", str(tmp_path / "test.sqlite3"))
    server: PostgresServer = request.getfixturevalue("postgres_server")
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    return Engine("postgresql", await server.create_database(), PASSWORD)


@pytest.fixture
async def db(engine: Engine) -> AsyncIterator[Database]:
    database = await engine.open()
    yield database
    await database.close()
