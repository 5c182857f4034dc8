"""A real PostgreSQL server for the storage tests, on 127.0.0.1 in a temporary folder.

``initdb`` makes a cluster (superuser ``postgres`` with a password, so the password path of
``[storage] password_env`` is exercised), ``pg_ctl`` starts it on a free port, and it is
stopped by the postmaster's PID at the end. PostgreSQL refuses to run as root: as root the
cluster belongs to ``nobody`` and every server command runs as that user. Each test gets
its own database. When no server can be started the tests that need one fail, saying why.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

SUPERUSER = "postgres"
PASSWORD = "unrollbot-test-password"


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL server could be started here."""


def bin_dir() -> Path:
    """The folder holding initdb and pg_ctl: Debian's newest, else whatever PATH finds."""

    def version(initdb: str) -> int:
        name = Path(initdb).parent.parent.name
        return int(name) if name.isdigit() else 0

    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=version)
    if versions:
        return Path(versions[-1]).parent
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    raise PostgresUnavailable(
        "PostgreSQL's initdb was not found (looked in /usr/lib/postgresql/*/bin and PATH); "
        "install the server, e.g. apt-get install -y postgresql (.ci/run does this)"
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class PostgresServer:
    def __init__(self) -> None:
        self.bin = bin_dir()
        # Under /tmp when root: the unprivileged server must reach its folder through
        # every parent, which a private TMPDIR may not allow.
        root = os.geteuid() == 0 and Path("/tmp").is_dir()
        self.base = Path(tempfile.mkdtemp(prefix="unrollbot-pg-", dir="/tmp" if root else None))
        self.data = self.base / "data"
        self.log = self.base / "server.log"
        self.port = free_port()
        self.pid: int | None = None
        # As root, the server runs as an unprivileged user that owns the folder.
        self._as: list[str] = []
        if os.geteuid() == 0:
            user = pwd.getpwnam("nobody")
            os.chown(self.base, user.pw_uid, user.pw_gid)
            if shutil.which("setpriv"):
                self._as = [
                    "setpriv",
                    f"--reuid={user.pw_uid}",
                    f"--regid={user.pw_gid}",
                    "--clear-groups",
                    "--",
                ]
            else:
                self._as = ["runuser", "-u", "nobody", "--"]

    def _run(self, *args: str, timeout: float = 120) -> None:
        cmd = [*self._as, *args]
        try:
            done = subprocess.run(
                cmd,
                cwd=self.base,
                capture_output=True,
                text=True,
                timeout=timeout,
                env={**os.environ, "LC_ALL": "C", "HOME": str(self.base)},
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise PostgresUnavailable(f"{' '.join(cmd)} failed: {exc}") from exc
        if done.returncode != 0:
            log = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
            raise PostgresUnavailable(
                f"{' '.join(cmd)} exited with {done.returncode}:\n{done.stdout}\n{done.stderr}\n"
                f"{log}"
            )

    def start(self) -> None:
        pwfile = self.base / "pwfile"
        pwfile.write_text(PASSWORD + "\n")
        if self._as:
            user = pwd.getpwnam("nobody")
            os.chown(pwfile, user.pw_uid, user.pw_gid)
        self._run(
            str(self.bin / "initdb"),
            "-D",
            str(self.data),
            "-U",
            SUPERUSER,
            f"--pwfile={pwfile}",
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
            "-E",
            "UTF8",
            "--no-sync",
        )
        # The free port may be taken by another process before the server binds it: retry
        # on a new one.
        for attempt in range(3):
            try:
                self._pg_ctl_start()
                break
            except PostgresUnavailable:
                self._stop_postmaster()  # one that started too slowly for pg_ctl
                if attempt == 2:
                    raise
                self.port = free_port()
        self.pid = self._postmaster_pid()
        if self.pid is None:
            raise PostgresUnavailable(f"pg_ctl started no server (see {self.log})")

    def _pg_ctl_start(self) -> None:
        options = (
            f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.base} -c fsync=off"
            " -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        self._run(
            str(self.bin / "pg_ctl"),
            "start",
            "-D",
            str(self.data),
            "-l",
            str(self.log),
            "-o",
            options,
            "-w",
            "-t",
            "60",
        )

    def url(self, database: str = "postgres") -> str:
        """The URL without the password (it goes apart, as from ``password_env``)."""
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    async def create_database(self) -> str:
        """A new empty database; its URL."""
        import asyncpg

        name = f"t_{uuid.uuid4().hex[:12]}"
        conn = await asyncpg.connect(self.url(), password=PASSWORD)
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()
        return self.url(name)

    def _postmaster_pid(self) -> int | None:
        try:
            return int((self.data / "postmaster.pid").read_text().split("\n", 1)[0])
        except (OSError, ValueError):
            return None

    def _stop_postmaster(self) -> None:
        pid = self._postmaster_pid()
        if pid is not None:
            _stop_pid(pid)

    def stop(self) -> None:
        pid, self.pid = self.pid, None
        if pid is not None:
            _stop_pid(pid)
        self._stop_postmaster()
        shutil.rmtree(self.base, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie is as good as gone
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "\nState:\tZ" not in status


def _stop_pid(pid: int) -> None:
    """Fast shutdown (SIGINT), then SIGKILL if it lingers."""
    for sig, wait_s in ((signal.SIGINT, 30.0), (signal.SIGKILL, 10.0)):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            if not _alive(pid):
                return
            time.sleep(0.05)
