"""A real Synapse homeserver for the Matrix tests.

Synapse is installed once per machine into its own virtual environment under
``.cache/synapse-venv`` (prebuilt wheels, about 30 s), so it never mixes with the project's
dependencies. Each server gets a temporary data folder, a free 127.0.0.1 port and a config
tuned for tests (no federation, cheap password hashing, rate limits lifted), runs as a child
process in the foreground and is stopped by its PID.
"""

from __future__ import annotations

import atexit
import fcntl
import hashlib
import hmac
import json
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
CACHE = REPO / ".cache"
VENV = CACHE / "synapse-venv"
PYTHON = VENV / "bin" / "python"
# The version the platform notes were measured against; bump deliberately.
SYNAPSE_REQUIREMENT = "matrix-synapse==1.163.2"
SERVER_NAME = "localhost"
SHARED_SECRET = "test-registration-secret"

# Every limit Synapse applies to clients, lifted: with the defaults a client sleeps through
# several seconds of 429s per burst and the suite takes minutes instead of seconds.
_UNLIMITED = {"per_second": 10000, "burst_count": 100000}
_RATE_LIMITS: dict[str, Any] = {
    "rc_message": _UNLIMITED,
    "rc_registration": _UNLIMITED,
    "rc_registration_token_validity": _UNLIMITED,
    "rc_login": {"address": _UNLIMITED, "account": _UNLIMITED, "failed_attempts": _UNLIMITED},
    "rc_admin_redaction": _UNLIMITED,
    "rc_joins": {"local": _UNLIMITED, "remote": _UNLIMITED},
    "rc_joins_per_room": _UNLIMITED,
    "rc_key_requests": _UNLIMITED,
    "rc_3pid_validation": _UNLIMITED,
    "rc_invites": {"per_room": _UNLIMITED, "per_user": _UNLIMITED, "per_issuer": _UNLIMITED},
    "rc_third_party_invite": _UNLIMITED,
    "rc_media_create": _UNLIMITED,
    "rc_presence": {"per_user": _UNLIMITED},
    "rc_delayed_event_mgmt": _UNLIMITED,
    "rc_room_creation": _UNLIMITED,
    "rc_reports": _UNLIMITED,
    "rc_user_directory": _UNLIMITED,
    "rc_profile": _UNLIMITED,
}


class SynapseError(RuntimeError):
    pass


def ensure_installed() -> Path:
    """Install Synapse into its own venv unless it is already there; returns its python.

    A file lock keeps parallel test processes from installing twice."""
    CACHE.mkdir(exist_ok=True)
    with open(CACHE / "synapse-venv.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _importable():
            return PYTHON
        if VENV.exists():
            shutil.rmtree(VENV)  # a half-finished earlier install
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        log = CACHE / "synapse-install.log"
        with open(log, "w") as out:
            done = subprocess.run(
                [str(PYTHON), "-m", "pip", "install", "--quiet", SYNAPSE_REQUIREMENT],
                stdout=out,
                stderr=subprocess.STDOUT,
                check=False,
            )
        if done.returncode != 0 or not _importable():
            raise SynapseError(f"installing {SYNAPSE_REQUIREMENT} failed; see {log}")
        return PYTHON


def _importable() -> bool:
    if not PYTHON.exists():
        return False
    done = subprocess.run(
        [str(PYTHON), "-c", "import synapse.app.homeserver"], capture_output=True, check=False
    )
    return done.returncode == 0


# Runs in the child before Synapse: ask the kernel for SIGTERM when the test process dies,
# even by SIGKILL, so no homeserver outlives a crashed run (Linux; elsewhere atexit has
# to do). Done in the child itself, because preexec_fn is unsafe with threads around.
_LAUNCHER = """
import ctypes, os, signal, sys
try:
    ctypes.CDLL("libc.so.6").prctl(1, int(signal.SIGTERM), 0, 0, 0)
except (OSError, AttributeError):
    pass
os.execv(sys.argv[1], sys.argv[1:])
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _config(data: Path, port: int, message_rate_limit: bool = False) -> dict[str, Any]:
    limits = dict(_RATE_LIMITS)
    if message_rate_limit:
        # Synapse's own default (0.2 messages per second, bursts of 10), as a homeserver
        # that has not exempted the bot applies it.
        del limits["rc_message"]
    return {
        "server_name": SERVER_NAME,
        "public_baseurl": f"http://127.0.0.1:{port}/",
        "pid_file": str(data / "homeserver.pid"),
        "listeners": [
            {
                "port": port,
                "bind_addresses": ["127.0.0.1"],
                "type": "http",
                "tls": False,
                "x_forwarded": False,
                "resources": [{"names": ["client"], "compress": False}],
            }
        ],
        "database": {"name": "sqlite3", "args": {"database": str(data / "homeserver.db")}},
        "media_store_path": str(data / "media"),
        "signing_key_path": str(data / "signing.key"),
        "log_config": str(data / "log.config"),
        "federation_domain_whitelist": [],
        "trusted_key_servers": [],
        "suppress_key_server_warning": True,
        "report_stats": False,
        "registration_shared_secret": SHARED_SECRET,
        "enable_registration": False,
        "bcrypt_rounds": 4,
        "presence": {"enabled": False},
        "user_directory": {"enabled": False},
        "url_preview_enabled": False,
        "enable_metrics": False,
        "macaroon_secret_key": "test-macaroon-secret",
        "form_secret": "test-form-secret",
        **limits,
    }


# Warnings only, to a file: Synapse's INFO logging costs time on every request.
_LOG_CONFIG = """\
version: 1
formatters:
  precise:
    format: '%(asctime)s - %(name)s - %(lineno)d - %(levelname)s - %(message)s'
handlers:
  file:
    class: logging.FileHandler
    formatter: precise
    filename: {path}
root:
  level: WARNING
  handlers: [file]
disable_existing_loggers: false
"""


@dataclass(frozen=True)
class Account:
    user_id: str
    localpart: str
    password: str
    access_token: str
    device_id: str


class Synapse:
    """One homeserver in a temporary folder. ``stop()`` and ``start()`` again keep the data
    and the port, so tests can take the server away mid-session and bring it back.
    ``message_rate_limit`` keeps Synapse's default limit on messages (benchmarks)."""

    def __init__(
        self, data: Path | None = None, port: int | None = None, message_rate_limit: bool = False
    ) -> None:
        self.message_rate_limit = message_rate_limit
        self._own_data = data is None
        self.data = data or Path(tempfile.mkdtemp(prefix="synapse-"))
        self.port = port or free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self.config_path = self.data / "homeserver.yaml"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def setup(self) -> None:
        python = ensure_installed()
        (self.data / "media").mkdir(parents=True, exist_ok=True)
        (self.data / "log.config").write_text(_LOG_CONFIG.format(path=self.data / "homeserver.log"))
        # JSON is valid YAML; no YAML writer needed on this side.
        self.config_path.write_text(
            json.dumps(_config(self.data, self.port, self.message_rate_limit), indent=2)
        )
        cmd = [str(python), "-m", "synapse.app.homeserver", "-c", str(self.config_path)]
        subprocess.run([*cmd, "--generate-keys"], cwd=self.data, check=True, capture_output=True)

    def start(self, timeout_s: float = 60.0) -> None:
        if self.proc is not None and self.proc.poll() is None:
            return
        if not self.config_path.exists():
            self.setup()
        out = open(self.data / "stdout.log", "ab")  # noqa: SIM115 - owned by the child
        cmd = [str(PYTHON), "-m", "synapse.app.homeserver", "-c", str(self.config_path)]
        self.proc = subprocess.Popen(
            [str(PYTHON), "-c", _LAUNCHER, *cmd],
            cwd=self.data,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        out.close()
        self._wait_ready(timeout_s)

    def _wait_ready(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise SynapseError(
                    f"Synapse exited with {self.proc.returncode}; see {self.data}/stdout.log"
                )
            try:
                with urllib.request.urlopen(f"{self.url}/_matrix/client/versions", timeout=1):
                    return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.05)  # sync helper outside any event loop
        self.stop()
        raise SynapseError(f"Synapse did not answer within {timeout_s} s")

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def close(self) -> None:
        self.stop()
        if self._own_data:
            shutil.rmtree(self.data, ignore_errors=True)

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    # -- admin API -------------------------------------------------------------------

    def _request(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(
            f"{self.url}{path}",
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                return json.loads(resp.read())
        except urllib.error.HTTPError as exc:
            raise SynapseError(f"{method} {path}: {exc.code} {exc.read()!r}") from None

    def register(self, localpart: str, password: str | None = None, admin: bool = False) -> Account:
        """Create a user through the shared-secret admin API (HMAC over the nonce)."""
        password = password or f"pw-{localpart}"
        nonce = self._request("GET", "/_synapse/admin/v1/register")["nonce"]
        role = "admin" if admin else "notadmin"
        mac = hmac.new(
            SHARED_SECRET.encode(),
            b"\x00".join(p.encode() for p in (nonce, localpart, password, role)),
            hashlib.sha1,
        )
        res = self._request(
            "POST",
            "/_synapse/admin/v1/register",
            {
                "nonce": nonce,
                "username": localpart,
                "password": password,
                "admin": admin,
                "mac": mac.hexdigest(),
            },
        )
        return Account(res["user_id"], localpart, password, res["access_token"], res["device_id"])


_shared: Synapse | None = None


def shared_synapse() -> Synapse:
    """One server per test process, started on first use and stopped at exit."""
    global _shared
    if _shared is None or not _shared.running:
        if _shared is None:
            _shared = Synapse()
            atexit.register(_shared.close)
        _shared.start()
    return _shared
