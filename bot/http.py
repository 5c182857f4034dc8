"""One shared HTTP client for every source.

Timeouts, a descriptive User-Agent, a body size cap, a per-host concurrency limit, retries
with backoff that honour Retry-After on 429/503, and an address guard that refuses plain
http and private, loopback and link-local addresses (after DNS resolution, on every
redirect) unless the config allows them.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
import socket
from collections import defaultdict
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential_jitter,
)

from bot import __version__

log = logging.getLogger(__name__)

DEFAULT_USER_AGENT = (
    f"unrollbot/{__version__} (+https://github.com/unrollbot/unrollbot; thread unroller bot)"
)
MAX_REDIRECTS = 5
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
# Longest wait we accept from Retry-After before giving up on this request.
MAX_RETRY_AFTER_S = 60.0


class BlockedAddress(Exception):
    """The URL points at an address the guard refuses."""


class HttpError(Exception):
    def __init__(self, status: int, url: str, body: Any, retry_after: float | None = None):
        super().__init__(f"HTTP {status} from {url}")
        self.status = status
        self.url = url
        self.body = body
        self.retry_after = retry_after


class TransportError(Exception):
    """Connection failures, timeouts, oversized or malformed bodies."""


class Unreachable(TransportError):
    """The host could not be reached at all: its name does not resolve, it refuses the
    connection, or the connection times out. Kept apart from a server that answered
    badly, because the user's next step differs (check the address vs. try again)."""

    def __init__(self, host: str, reason: str) -> None:
        super().__init__(f"{host}: {reason}")
        self.host = host
        self.reason = reason


class MalformedJson(TransportError):
    """The server answered, but not with JSON (a web page, a truncated body...)."""


class TimedOut(TransportError):
    """The host accepted the connection but sent no complete answer in time."""


def connect_failure(exc: BaseException) -> str:
    """Why a connection could not be made, in words (for aiohttp and OS errors)."""
    if isinstance(exc, aiohttp.ClientConnectorDNSError):
        return "no such host (the name does not resolve)"
    if isinstance(exc, aiohttp.ClientConnectorError):
        exc = exc.os_error
    if isinstance(exc, ConnectionRefusedError):
        return "the connection was refused"
    if isinstance(exc, TimeoutError):
        return "the connection timed out"
    if isinstance(exc, socket.gaierror):
        return "no such host (the name does not resolve)"
    return " ".join(str(exc).split())[:160] or type(exc).__name__


def _unreachable(host: str, exc: aiohttp.ClientConnectorError) -> Unreachable:
    return Unreachable(host, connect_failure(exc))


def transport_message(exc: TransportError, service: str) -> str:
    """One line for a user: could not reach ``service``, or it answered unusably."""
    if isinstance(exc, Unreachable):
        return f"Could not reach {service} ({exc.reason}). Check the address or try again later."
    if isinstance(exc, TimedOut):
        return f"{service} did not answer in time. Try again in a moment."
    detail = " ".join(str(exc).split())[:200]
    return f"{service} did not answer properly ({detail}). Try again in a moment."


@dataclass(frozen=True)
class HttpSettings:
    user_agent: str = DEFAULT_USER_AGENT
    timeout_s: float = 10.0
    connect_timeout_s: float = 5.0
    max_body_bytes: int = 8 * 1024 * 1024
    per_host_concurrency: int = 4
    retries: int = 3
    backoff_base_s: float = 0.5
    allow_private_addresses: bool = False


def _address_allowed(ip: str) -> bool:
    addr = ipaddress.ip_address(ip)
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        addr = addr.ipv4_mapped
    return not (
        addr.is_private
        or addr.is_loopback
        or addr.is_link_local
        or addr.is_multicast
        or addr.is_reserved
        or addr.is_unspecified
    )


class GuardedResolver(AbstractResolver):
    """Resolves with the default resolver, then refuses non-public addresses."""

    def __init__(self) -> None:
        self._inner = aiohttp.DefaultResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        results = await self._inner.resolve(host, port, family)
        allowed = [r for r in results if _address_allowed(r["host"])]
        if not allowed:
            raise BlockedAddress(f"{host} resolves to a private or reserved address")
        return allowed

    async def close(self) -> None:
        await self._inner.close()


def parse_retry_after(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    import time

    return max(0.0, when.timestamp() - time.time())


class HttpClient:
    """The shared session. Create once per process, close on shutdown."""

    def __init__(self, settings: HttpSettings | None = None) -> None:
        self.settings = settings or HttpSettings()
        self._session: aiohttp.ClientSession | None = None
        self._host_limits: dict[str, asyncio.Semaphore] = defaultdict(
            lambda: asyncio.Semaphore(self.settings.per_host_concurrency)
        )
        # Counters for tests and benchmarks.
        self.requests = 0

    def _get_session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            s = self.settings
            connector = aiohttp.TCPConnector(
                resolver=None if s.allow_private_addresses else GuardedResolver(),
                limit=100,
                ttl_dns_cache=300,
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                timeout=aiohttp.ClientTimeout(
                    total=None, connect=s.connect_timeout_s, sock_read=s.timeout_s
                ),
                headers={"User-Agent": s.user_agent},
                auto_decompress=True,
            )
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def check_url(self, url: str) -> None:
        """Refuse schemes and literal addresses the guard does not allow."""
        parts = urlsplit(url)
        if parts.scheme not in ("https", "http") or not parts.hostname:
            raise BlockedAddress(f"not a web address: {url}")
        if self.settings.allow_private_addresses:
            return
        if parts.scheme != "https":
            raise BlockedAddress(f"plain http is not allowed: {url}")
        host = parts.hostname.strip("[]")
        try:
            ipaddress.ip_address(host)
        except ValueError:
            if host == "localhost" or host.endswith((".localhost", ".local", ".internal")):
                raise BlockedAddress(f"{host} is not a public host") from None
            return
        if not _address_allowed(host):
            raise BlockedAddress(f"{host} is a private or reserved address")

    async def get_json(
        self,
        url: str,
        params: dict[str, Any] | list[tuple[str, str]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Any:
        """GET a JSON document, with retries. Raises HttpError for a final non-2xx answer
        (with the decoded error body when there is one), TransportError otherwise."""
        body, _ = await self.get_json_with_headers(url, params, headers)
        return body

    async def post_json(self, url: str, payload: Any, headers: dict[str, str] | None = None) -> Any:
        """POST a JSON payload and read the JSON answer, for APIs that read only by POST
        (Misskey's); the same address guard, retries and errors as get_json."""
        body, _ = await self.get_json_with_headers(url, None, headers, payload=payload)
        return body

    async def get_json_with_headers(
        self,
        url: str,
        params: dict[str, Any] | list[tuple[str, str]] | None = None,
        headers: dict[str, str] | None = None,
        *,
        payload: Any = None,
    ) -> tuple[Any, dict[str, str]]:
        s = self.settings

        def retryable(exc: BaseException) -> bool:
            if isinstance(exc, HttpError):
                return exc.status in RETRY_STATUSES and (
                    exc.retry_after is None or exc.retry_after <= MAX_RETRY_AFTER_S
                )
            return isinstance(exc, TransportError)

        backoff = wait_exponential_jitter(
            multiplier=s.backoff_base_s, max=20.0, jitter=s.backoff_base_s
        )

        def wait(state: RetryCallState) -> float:
            exc = state.outcome.exception() if state.outcome else None
            if isinstance(exc, HttpError) and exc.retry_after is not None:
                return exc.retry_after
            return float(backoff(state))

        retrying = AsyncRetrying(
            retry=retry_if_exception(retryable),
            stop=stop_after_attempt(s.retries + 1),
            wait=wait,
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                return await self._get_once(url, params, headers, payload)
        raise AssertionError("unreachable")

    async def _get_once(
        self,
        url: str,
        params: dict[str, Any] | list[tuple[str, str]] | None,
        headers: dict[str, str] | None,
        payload: Any = None,
    ) -> tuple[Any, dict[str, str]]:
        session = self._get_session()
        current = url
        send_params = params
        for _ in range(MAX_REDIRECTS + 1):
            self.check_url(current)
            host = urlsplit(current).netloc
            async with self._host_limits[host]:
                self.requests += 1
                try:
                    async with session.request(
                        "GET" if payload is None else "POST",
                        current,
                        params=send_params,
                        json=payload,
                        headers={"Accept": "application/json", **(headers or {})},
                        allow_redirects=False,
                    ) as resp:
                        if resp.status in (301, 302, 303, 307, 308) and "Location" in resp.headers:
                            current = urljoin(str(resp.url), resp.headers["Location"])
                            send_params = None
                            if urlsplit(current).netloc != host and headers:
                                # A server's access token never follows a redirect elsewhere.
                                headers = {
                                    k: v for k, v in headers.items() if k.lower() != "authorization"
                                }
                            continue
                        raw = await self._read_capped(resp)
                        resp_headers = {k: v for k, v in resp.headers.items()}
                        status = resp.status
                except BlockedAddress:
                    raise
                except aiohttp.ClientConnectorError as exc:
                    raise _unreachable(host, exc) from exc
                except aiohttp.ConnectionTimeoutError as exc:
                    raise Unreachable(host, "the connection timed out") from exc
                except TimeoutError as exc:
                    raise TimedOut(f"no answer from {host} in time") from exc
                except aiohttp.ClientError as exc:
                    raise TransportError(f"request to {host} failed: {exc!r}") from exc
            body = _decode_json(raw)
            if status >= 400:
                raise HttpError(
                    status,
                    current,
                    None if body is _INVALID else body,
                    parse_retry_after(resp_headers.get("Retry-After")),
                )
            if body is _INVALID:
                raise MalformedJson(f"malformed JSON from {host}")
            return body, resp_headers
        raise TransportError(f"too many redirects from {url}")

    async def _read_capped(self, resp: aiohttp.ClientResponse) -> bytes:
        cap = self.settings.max_body_bytes
        declared = resp.content_length
        if declared is not None and declared > cap:
            raise TransportError(f"response too large ({declared} bytes)")
        chunks: list[bytes] = []
        size = 0
        async for chunk in resp.content.iter_chunked(65536):
            size += len(chunk)
            if size > cap:
                raise TransportError(f"response larger than {cap} bytes")
            chunks.append(chunk)
        return b"".join(chunks)


_INVALID = object()


def _decode_json(raw: bytes) -> Any:
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return _INVALID
