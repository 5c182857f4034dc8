"""The shared HTTP client against a real local server: retries, Retry-After, caps, guard."""

from __future__ import annotations

import ipaddress
import socket
import time

import pytest
from aiohttp import web

from bot.http import (
    BlockedAddress,
    GuardedResolver,
    HttpClient,
    HttpError,
    HttpSettings,
    TransportError,
)
from tests.fakes.base import FakeServer, Fault, json_response


class Echo(FakeServer):
    def routes(self, app: web.Application) -> None:
        async def ok(request: web.Request) -> web.Response:
            return json_response({"ok": True, "ua": request.headers.get("User-Agent", "")})

        async def big(request: web.Request) -> web.Response:
            return web.Response(
                body=b"[" + b"1," * 100_000 + b"1]", content_type="application/json"
            )

        async def redirect_away(request: web.Request) -> web.Response:
            raise web.HTTPFound("file:///etc/passwd")

        app.router.add_get("/ok", ok)
        app.router.add_get("/big", big)
        app.router.add_get("/redirect", redirect_away)


async def test_user_agent_is_descriptive(http: HttpClient) -> None:
    async with Echo() as server:
        body = await http.get_json(f"{server.base_url}/ok")
    assert body["ua"].startswith("unrollbot/")


async def test_429_with_retry_after_is_honoured_then_succeeds(http: HttpClient) -> None:
    async with Echo() as server:
        server.inject("/ok", Fault(429, {"error": "Too many requests"}, {"Retry-After": "0.3"}))
        start = time.monotonic()
        body = await http.get_json(f"{server.base_url}/ok")
        waited = time.monotonic() - start
    assert body["ok"] is True
    assert waited >= 0.3
    assert server.count("/ok") == 2


async def test_5xx_retried_then_reported(http: HttpClient) -> None:
    async with Echo() as server:
        server.inject("/ok", *[Fault(503, {"error": "down"})] * 3)
        with pytest.raises(HttpError) as err:
            await http.get_json(f"{server.base_url}/ok")
    assert err.value.status == 503
    assert server.count("/ok") == 3  # one try and two retries


async def test_404_is_not_retried_and_keeps_the_error_body(http: HttpClient) -> None:
    async with Echo() as server:
        server.inject("/ok", Fault(404, {"error": "Record not found"}))
        with pytest.raises(HttpError) as err:
            await http.get_json(f"{server.base_url}/ok")
    assert err.value.body == {"error": "Record not found"}
    assert server.count("/ok") == 1


async def test_timeout_becomes_transport_error() -> None:
    client = HttpClient(HttpSettings(allow_private_addresses=True, retries=0, timeout_s=0.2))
    try:
        async with Echo() as server:
            server.inject("/ok", Fault(200, {"ok": True}, hang_s=1.0))
            with pytest.raises(TransportError):
                await client.get_json(f"{server.base_url}/ok")
    finally:
        await client.close()


async def test_malformed_json_is_a_transport_error(http: HttpClient) -> None:
    async with Echo() as server:
        server.inject("/ok", *[Fault(200, "<html>not json</html>")] * 3)
        with pytest.raises(TransportError, match="malformed"):
            await http.get_json(f"{server.base_url}/ok")


async def test_body_size_cap() -> None:
    client = HttpClient(
        HttpSettings(allow_private_addresses=True, retries=0, max_body_bytes=10_000)
    )
    try:
        async with Echo() as server:
            with pytest.raises(TransportError, match=r"larger|large"):
                await client.get_json(f"{server.base_url}/big")
    finally:
        await client.close()


async def test_guard_refuses_loopback_private_and_plain_http() -> None:
    client = HttpClient(HttpSettings(retries=0))
    try:
        for url in (
            "http://example.com/x",
            "https://127.0.0.1/x",
            "https://10.1.2.3/x",
            "https://[::1]/x",
            "https://169.254.169.254/latest/meta-data",
            "https://localhost/x",
            "ftp://example.com/x",
        ):
            with pytest.raises(BlockedAddress):
                await client.get_json(url)
    finally:
        await client.close()


async def test_guard_checks_resolved_addresses() -> None:
    # The real system resolver answers "localhost" with loopback: refused after resolution,
    # which is what protects against public names pointing at private addresses.
    resolver = GuardedResolver()
    try:
        with pytest.raises(BlockedAddress):
            await resolver.resolve("localhost", 443)
    finally:
        await resolver.close()


async def test_a_name_resolving_to_a_private_address_is_refused_end_to_end() -> None:
    # This machine's own name resolves to one of its addresses (private on test hosts).
    name = socket.gethostname()
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(name, 443)}
    except OSError:
        pytest.skip("this machine's name does not resolve")
    if not all(ipaddress.ip_address(a).is_private for a in addresses):
        pytest.skip("this machine's name resolves to a public address")
    client = HttpClient(HttpSettings(retries=0))
    try:
        with pytest.raises(BlockedAddress, match="private or reserved"):
            await client.get_json(f"https://{name}/x")
    finally:
        await client.close()


async def test_every_redirect_is_checked_again(http: HttpClient) -> None:
    # The loopback fake is allowed here; the hop it redirects to (not a web address) is
    # refused, so each redirect goes through the guard, not just the first request.
    async with Echo() as server:
        with pytest.raises(BlockedAddress, match="not a web address"):
            await http.get_json(f"{server.base_url}/redirect")
        assert server.count("/redirect") == 1
