"""Shared machinery for the local fake upstream servers (Bluesky, Mastodon, FxTwitter).

Each fake is an aiohttp app on 127.0.0.1 with: added latency per request, a request log,
and injectable faults (status + headers + body, a hang, or a malformed body) for a path.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Self

from aiohttp import web


@dataclass
class Fault:
    status: int = 500
    body: Any = None  # dict -> JSON, str -> raw text
    headers: dict[str, str] = field(default_factory=dict)
    hang_s: float = 0.0  # sleep before answering (timeouts)


@dataclass
class RequestRecord:
    method: str
    path: str
    query: list[tuple[str, str]]
    headers: dict[str, str]
    started: float
    ended: float = 0.0


class FakeServer:
    """Base class: subclasses add routes in ``routes()``."""

    def __init__(self, latency_s: float = 0.0) -> None:
        self.latency_s = latency_s
        self.requests: list[RequestRecord] = []
        self.faults: dict[str, deque[Fault]] = {}
        self._runner: web.AppRunner | None = None
        self.port = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def inject(self, path: str, *faults: Fault) -> None:
        """Answer the next requests to ``path`` with these faults, in order."""
        self.faults.setdefault(path, deque()).extend(faults)

    def routes(self, app: web.Application) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        rec = RequestRecord(
            request.method,
            request.path,
            list(request.query.items()),
            dict(request.headers),
            time.monotonic(),
        )
        self.requests.append(rec)
        try:
            if self.latency_s:
                await asyncio.sleep(self.latency_s)
            queue = self.faults.get(request.path)
            if queue:
                fault = queue.popleft()
                if fault.hang_s:
                    await asyncio.sleep(fault.hang_s)
                if isinstance(fault.body, str):
                    return web.Response(status=fault.status, text=fault.body, headers=fault.headers)
                return web.Response(
                    status=fault.status,
                    body=json.dumps(fault.body if fault.body is not None else {}).encode(),
                    content_type="application/json",
                    headers=fault.headers,
                )
            return await handler(request)
        finally:
            rec.ended = time.monotonic()

    async def start(self) -> None:
        app = web.Application(middlewares=[self._middleware])
        self.routes(app)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None and server.sockets  # type: ignore[attr-defined]
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # Measures for tests and benchmarks.
    def count(self, path_prefix: str = "") -> int:
        return sum(1 for r in self.requests if r.path.startswith(path_prefix))

    def sequential_round_trips(self) -> int:
        """Requests that did not overlap in time with an earlier one: the length of the
        critical path when requests run concurrently."""
        rounds = 0
        busy_until = -1.0
        for rec in sorted(self.requests, key=lambda r: r.started):
            if rec.started >= busy_until:
                rounds += 1
                busy_until = rec.ended
            else:
                busy_until = max(busy_until, rec.ended)
        return rounds


def json_response(
    data: Any, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    return web.Response(
        status=status,
        body=json.dumps(data).encode(),
        content_type="application/json",
        headers=headers,
    )
