"""Configuration: TOML read with tomllib into typed, frozen objects.

Unknown keys and bad values are reported with the key's path; secrets come from environment
variables named in the file, never from the file itself.
"""

from __future__ import annotations

import json
import logging
import os
import re
import tomllib
import types
import typing
from dataclasses import MISSING, dataclass, field, fields, is_dataclass
from pathlib import Path
from typing import Any, TypeVar, get_args, get_origin, get_type_hints
from urllib.parse import urlsplit

from bot.errors import ConfigError

T = TypeVar("T")

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StorageConfig:
    path: str = "unrollbot.sqlite3"
    # PostgreSQL instead of the SQLite file: postgresql://user@host:port/database.
    url: str = ""
    # The environment variable holding the PostgreSQL password (never in the URL).
    password_env: str = ""
    # How long a process's claim on shared work (an author's poll, a delivery's sending)
    # lasts without renewal: a killed process's work is taken over this long after.
    lease_s: float = 60.0


@dataclass(frozen=True)
class NetworkConfig:
    allow_private_addresses: bool = False
    user_agent: str = ""  # empty: the built-in descriptive User-Agent
    timeout_s: float = 10.0
    retries: int = 3
    per_host_concurrency: int = 4
    max_body_bytes: int = 8 * 1024 * 1024


@dataclass(frozen=True)
class BlueskyConfig:
    enabled: bool = True
    appview_url: str = "https://public.api.bsky.app"


@dataclass(frozen=True)
class MastodonConfig:
    enabled: bool = True
    # Server host -> name of the environment variable holding an access token for it.
    tokens: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class XConfig:
    enabled: bool = True
    api_url: str = "https://api.fxtwitter.com"


@dataclass(frozen=True)
class SourcesConfig:
    bluesky: BlueskyConfig = field(default_factory=BlueskyConfig)
    mastodon: MastodonConfig = field(default_factory=MastodonConfig)
    x: XConfig = field(default_factory=XConfig)


@dataclass(frozen=True)
class UnrollConfig:
    max_posts: int = 500
    cache_ttl_s: int = 600
    # Days an unrolled thread's posts stay in the database after its last fetch (0: always).
    keep_days: int = 30


@dataclass(frozen=True)
class ContentNotesConfig:
    # Extra detection terms per category, added to the shipped lexicon.
    extra_terms: dict[str, list[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class SubscriptionsConfig:
    enabled: bool = True
    min_poll_interval_s: int = 60
    max_poll_interval_s: int = 900
    settle_s: int = 600
    max_backfill: int = 20


@dataclass(frozen=True)
class ConsoleConfig:
    enabled: bool = False


@dataclass(frozen=True)
class DiscordConfig:
    enabled: bool = False
    token_env: str = "DISCORD_TOKEN"
    test_guild_ids: list[int] = field(default_factory=list)
    api_base_url: str = ""
    gateway_url: str = ""
    # Sharding across processes: the total number of shards (0: not sharded) and the ones
    # this process runs (empty: all of them).
    shard_count: int = 0
    shard_ids: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class MatrixConfig:
    enabled: bool = False
    homeserver: str = ""
    user_id: str = ""
    password_env: str = ""
    access_token_env: str = ""
    device_name: str = "unrollbot"
    command_prefix: str = "!"
    auto_join: bool = True
    allowed_inviters: list[str] = field(default_factory=list)
    moderator_power_level: int = 50
    store_path: str = "matrix-store"
    encryption: bool = False


@dataclass(frozen=True)
class Config:
    storage: StorageConfig = field(default_factory=StorageConfig)
    network: NetworkConfig = field(default_factory=NetworkConfig)
    sources: SourcesConfig = field(default_factory=SourcesConfig)
    unroll: UnrollConfig = field(default_factory=UnrollConfig)
    content_notes: ContentNotesConfig = field(default_factory=ContentNotesConfig)
    subscriptions: SubscriptionsConfig = field(default_factory=SubscriptionsConfig)
    console: ConsoleConfig = field(default_factory=ConsoleConfig)
    discord: DiscordConfig = field(default_factory=DiscordConfig)
    matrix: MatrixConfig = field(default_factory=MatrixConfig)
    # Where the file was read from (for relative paths); not a key.
    base_dir: str = field(default=".", metadata={"internal": True})
    # Why each withdrawn key the file still sets is ignored (logged when the file is read).
    withdrawn: tuple[str, ...] = field(default=(), metadata={"internal": True})

    def resolve_path(self, p: str) -> str:
        return p if os.path.isabs(p) or p == ":memory:" else os.path.join(self.base_dir, p)


# Values that must be positive / within a range, by key path.
_POSITIVE = {
    "network.timeout_s",
    "network.per_host_concurrency",
    "network.max_body_bytes",
    "unroll.max_posts",
    "subscriptions.min_poll_interval_s",
    "subscriptions.max_poll_interval_s",
}
_NON_NEGATIVE = {
    "network.retries",
    "unroll.cache_ttl_s",
    "unroll.keep_days",
    "subscriptions.settle_s",
    "subscriptions.max_backfill",
    "matrix.moderator_power_level",
}
_URLS = {"sources.bluesky.appview_url", "sources.x.api_url"}
# Keys of withdrawn features: a config that still sets one starts all the same (whatever the
# value), and the warning says the key is ignored.
WITHDRAWN: dict[tuple[str, str], str] = {
    ("content_notes", "model"): (
        "the content-notes suggestions model was withdrawn (it did not hold on real posts); "
        "this key is ignored and can be deleted"
    ),
}


def _type_name(tp: Any) -> str:
    origin = get_origin(tp)
    if origin is list:
        return f"a list of {_type_name(get_args(tp)[0])}"
    if origin is dict:
        return "a table"
    return {bool: "true or false", int: "a whole number", float: "a number", str: "a string"}.get(
        tp, str(tp)
    )


def _given(value: Any) -> str:
    """What the file holds, named so a quoted value is not mistaken for the right type."""
    if isinstance(value, str):
        return f"the string {json.dumps(value)}"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a table"
    return type(value).__name__


def _key(key: str) -> str:
    """A table key as TOML writes it: quoted unless bare (a host name has dots)."""
    return key if re.fullmatch(r"[A-Za-z0-9_\-]+", key) else json.dumps(key)


def _convert(value: Any, tp: Any, path: str) -> Any:
    origin = get_origin(tp)
    if is_dataclass(tp):
        if not isinstance(value, dict):
            raise ConfigError(f"{path}: expected a table, got {type(value).__name__}")
        return _build(typing.cast(type[Any], tp), value, path)
    if origin in (types.UnionType, typing.Union):
        raise ConfigError(f"{path}: unsupported type")  # pragma: no cover - not used
    if origin is list:
        if not isinstance(value, list):
            raise ConfigError(f"{path}: expected {_type_name(tp)}")
        (item_tp,) = get_args(tp)
        return [_convert(v, item_tp, f"{path}[{i}]") for i, v in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{path}: expected a table")
        _, val_tp = get_args(tp)
        return {str(k): _convert(v, val_tp, f"{path}.{_key(str(k))}") for k, v in value.items()}
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{path}: expected true or false, got {_given(value)}")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{path}: expected a whole number, got {_given(value)}")
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"{path}: expected a number, got {_given(value)}")
        return float(value)
    if tp is str:
        if not isinstance(value, str):
            raise ConfigError(f"{path}: expected a string, got {_given(value)}")
        return value
    raise ConfigError(f"{path}: unsupported type")  # pragma: no cover


def _build(cls: type[T], data: dict[str, Any], prefix: str = "") -> T:
    hints = get_type_hints(cls)
    known = {f.name: f for f in fields(cls) if not f.metadata.get("internal")}  # type: ignore[arg-type]
    kwargs: dict[str, Any] = {}
    for key, value in data.items():
        path = f"{prefix}.{key}" if prefix else key
        if key not in known:
            hint = ", ".join(sorted(known)) or "none"
            raise ConfigError(f"{path}: unknown key (known keys here: {hint})")
        converted = _convert(value, hints[key], path)
        if path in _POSITIVE and converted <= 0:
            raise ConfigError(f"{path}: must be greater than 0, got {value!r}")
        if path in _NON_NEGATIVE and converted < 0:
            raise ConfigError(f"{path}: must not be negative, got {value!r}")
        if path in _URLS and not converted.startswith(("https://", "http://")):
            raise ConfigError(f"{path}: must be an http(s) URL, got {value!r}")
        kwargs[key] = converted
    for name, f in known.items():
        if name not in kwargs and f.default is MISSING and f.default_factory is MISSING:
            raise ConfigError(f"{prefix}.{name}: missing")  # pragma: no cover
    return cls(**kwargs)


def parse_config(text: str, base_dir: str = ".") -> Config:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"not valid TOML: {exc}") from None
    withdrawn = _drop_withdrawn(data)
    cfg = _build(Config, data)
    _check_tokens(cfg.sources.mastodon.tokens)
    _check_storage(cfg.storage)
    _check_shards(cfg.discord)
    s = cfg.subscriptions
    if s.min_poll_interval_s > s.max_poll_interval_s:
        raise ConfigError(
            "subscriptions.min_poll_interval_s: must not exceed max_poll_interval_s "
            f"({s.min_poll_interval_s} > {s.max_poll_interval_s})"
        )
    return _replace_base(cfg, base_dir, withdrawn)


def _drop_withdrawn(data: dict[str, Any]) -> tuple[str, ...]:
    """Takes the withdrawn keys out of ``data``; says why each one found is ignored."""
    found: list[str] = []
    for (table, key), why in WITHDRAWN.items():
        section = data.get(table)
        if isinstance(section, dict) and key in section:
            del section[key]
            found.append(f"{table}.{key}: {why}")
    return tuple(found)


_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_TOKEN_HOST = re.compile(r"[a-z0-9]([a-z0-9\-]{0,62}\.)*[a-z0-9\-]{1,63}(:\d{1,5})?")


def _check_tokens(tokens: dict[str, str]) -> None:
    """Keys are server hosts, values name environment variables (never the secret)."""
    for host, env in tokens.items():
        path = f"sources.mastodon.tokens.{_key(host)}"
        if not _TOKEN_HOST.fullmatch(host):
            raise ConfigError(
                f"{path}: the key must be a server's host name in lower case, such as "
                '"gts.example.org" (no https://, no path)'
            )
        if not _ENV_NAME.fullmatch(env):
            raise ConfigError(
                f"{path}: must name the environment variable that holds the token "
                f'(letters, digits and _, e.g. "GTS_TOKEN"), not the token itself'
            )


# Shorter leases would expire during one slow request; longer ones leave a killed
# process's work waiting too long.
MIN_LEASE_S = 2.0
MAX_LEASE_S = 3600.0


def _check_storage(st: StorageConfig) -> None:
    if st.url:
        parts = urlsplit(st.url)
        if parts.scheme not in ("postgresql", "postgres") or not parts.hostname:
            raise ConfigError(
                "storage.url: must be a PostgreSQL URL such as "
                '"postgresql://unrollbot@db.example:5432/unrollbot" (leave it out for SQLite)'
            )
        if parts.password is not None:
            raise ConfigError(
                "storage.url: must not hold the password; put it in an environment variable "
                "and name that variable in storage.password_env"
            )
    if st.password_env and not _ENV_NAME.fullmatch(st.password_env):
        raise ConfigError(
            "storage.password_env: must name the environment variable that holds the password "
            '(letters, digits and _, e.g. "UNROLLBOT_DB_PASSWORD"), not the password itself'
        )
    if st.password_env and not st.url:
        raise ConfigError("storage.password_env: only used with storage.url (PostgreSQL)")
    if not MIN_LEASE_S <= st.lease_s <= MAX_LEASE_S:
        raise ConfigError(
            f"storage.lease_s: must be between {MIN_LEASE_S:g} and {MAX_LEASE_S:g} seconds"
            f" (got {st.lease_s:g})"
        )


def _check_shards(dc: DiscordConfig) -> None:
    if dc.shard_count < 0:
        raise ConfigError(
            f"discord.shard_count: must be 0 (not sharded) or the total number of shards over"
            f" all processes, got {dc.shard_count}"
        )
    if dc.shard_ids and not dc.shard_count:
        raise ConfigError(
            "discord.shard_ids: needs discord.shard_count, the total number of shards over all "
            "processes (every process sets the same shard_count)"
        )
    seen: set[int] = set()
    for i, shard in enumerate(dc.shard_ids):
        if not 0 <= shard < dc.shard_count:
            raise ConfigError(
                f"discord.shard_ids[{i}]: must be between 0 and {dc.shard_count - 1} (shards are"
                f" numbered from 0, below discord.shard_count = {dc.shard_count}), got {shard}"
            )
        if shard in seen:
            raise ConfigError(
                f"discord.shard_ids[{i}]: shard {shard} is listed twice (each shard runs once)"
            )
        seen.add(shard)


def storage_target(cfg: Config) -> tuple[str, str | None]:
    """Where the database is (a SQLite file, or the PostgreSQL URL) and its password."""
    st = cfg.storage
    if not st.url:
        return cfg.resolve_path(st.path), None
    password = secret(st.password_env, "storage.password_env") if st.password_env else None
    return st.url, password


def mastodon_tokens(cfg: MastodonConfig) -> dict[str, str]:
    """Host -> access token, read from the environment variables the config names."""
    found: dict[str, str] = {}
    for host, env in cfg.tokens.items():
        value = os.environ.get(env, "").strip()
        if not value:
            # The name is not repeated: if a token was pasted here, it stays out of logs.
            raise ConfigError(
                f"sources.mastodon.tokens.{_key(host)}: the environment variable "
                "named there is not set (the value names a variable; the token goes in it)"
            )
        found[host] = value
    return found


def _replace_base(cfg: Config, base_dir: str, withdrawn: tuple[str, ...]) -> Config:
    from dataclasses import replace

    return replace(cfg, base_dir=base_dir, withdrawn=withdrawn)


def load_config(path: str | None = None) -> Config:
    """Read ``path``, else ``$UNROLLBOT_CONFIG``, else defaults."""
    path = path or os.environ.get("UNROLLBOT_CONFIG") or None
    if path is None:
        return Config()
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read config file {path}: {exc}") from None
    try:
        cfg = parse_config(text, base_dir=str(p.resolve().parent))
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    for why in cfg.withdrawn:
        log.warning("%s: %s", path, why)
    return cfg


def secret(env_name: str, what: str) -> str:
    """Read a secret from the environment variable the config names."""
    if not env_name:
        raise ConfigError(f"{what}: no environment variable named for the secret")
    value = os.environ.get(env_name, "").strip()
    if not value:
        raise ConfigError(f"{what}: the environment variable {env_name} is not set")
    return value
