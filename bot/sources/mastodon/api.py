"""The few Mastodon REST calls the source makes, with upstream failures turned into
errors a user can act on."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.errors import NotFound, Refused, UpstreamUnavailable, UsageError, UserError
from bot.http import BlockedAddress, HttpClient, HttpError, TransportError, transport_message
from bot.sources.mastodon.mapping import is_status

# Mastodon's cap for account statuses per page.
PAGE_LIMIT = 40
AUTH_REQUIRED = "This API requires an authenticated user"


@dataclass
class Page:
    statuses: list[dict[str, Any]]
    # Statuses in the answer that were not valid status objects (skipped).
    malformed: int = 0


def _host(base: str) -> str:
    return base.split("://", 1)[-1]


def translate(exc: Exception, base: str, what: str) -> UserError:
    """A user-facing error for a failed call ``what`` (e.g. "that post") on ``base``."""
    host = _host(base)
    if isinstance(exc, UserError):
        return exc
    if isinstance(exc, BlockedAddress):
        return UsageError(f"{host} is not an address the bot may contact.")
    if isinstance(exc, HttpError):
        body = exc.body if isinstance(exc.body, dict) else {}
        raw = body.get("error")
        message = " ".join(raw.split())[:120] if isinstance(raw, str) else ""  # one short line
        if exc.status in (404, 410):
            return NotFound(f"{host} says {what} was not found or is not public.")
        if exc.status == 401:
            if message and "authenticated" in message.lower():
                return Refused(
                    f"{host} only shows posts to signed-in users (it answered "
                    f"{message!r}), so the bot cannot read {what}."
                )
            return Refused(f"{host} requires signing in to read {what}.")
        if exc.status == 403:
            return Refused(f"{host} refused to show {what}.")
        if exc.status == 429:
            return UpstreamUnavailable(
                f"{host} is rate-limiting requests right now; try again in a few minutes."
            )
        if exc.status >= 500:
            return UpstreamUnavailable(f"{host} is having trouble (HTTP {exc.status}); try later.")
        return UpstreamUnavailable(f"{host} answered HTTP {exc.status} for {what}.")
    if isinstance(exc, TransportError):
        return UpstreamUnavailable(transport_message(exc, host))
    return UpstreamUnavailable(f"{host} failed: {exc}")


class MastodonApi:
    def __init__(self, http: HttpClient) -> None:
        self.http = http

    async def _get(self, base: str, path: str, what: str, params: Any = None) -> Any:
        try:
            return await self.http.get_json(f"{base}{path}", params=params)
        except (HttpError, TransportError, BlockedAddress) as exc:
            raise translate(exc, base, what) from exc

    async def status(self, base: str, status_id: str) -> dict[str, Any]:
        body = await self._get(base, f"/api/v1/statuses/{status_id}", "that post")
        if not is_status(body):
            raise UpstreamUnavailable(f"{_host(base)} returned a malformed post.")
        return dict(body)

    async def context(self, base: str, status_id: str) -> tuple[Page, Page]:
        """(ancestors, descendants)."""
        body = await self._get(
            base, f"/api/v1/statuses/{status_id}/context", "the replies to that post"
        )
        if not isinstance(body, dict) or not all(
            isinstance(body.get(k), list) for k in ("ancestors", "descendants")
        ):
            raise UpstreamUnavailable(f"{_host(base)} returned a malformed thread context.")
        return _page(body["ancestors"]), _page(body["descendants"])

    async def account_statuses(self, base: str, account_id: str, **bounds: str) -> Page:
        params = {
            "limit": str(PAGE_LIMIT),
            "exclude_replies": "true",
            "exclude_reblogs": "true",
            **bounds,
        }
        body = await self._get(
            base, f"/api/v1/accounts/{account_id}/statuses", "the author's posts", params
        )
        if not isinstance(body, list):
            raise UpstreamUnavailable(f"{_host(base)} returned a malformed list of posts.")
        return _page(body)

    async def lookup(self, base: str, acct: str) -> dict[str, Any]:
        body = await self._get(
            base, "/api/v1/accounts/lookup", f"the account {acct}", {"acct": acct}
        )
        if not isinstance(body, dict) or not isinstance(body.get("id"), str):
            raise UpstreamUnavailable(f"{_host(base)} returned a malformed account.")
        return body


def _page(items: list[Any]) -> Page:
    good = [dict(s) for s in items if is_status(s)]
    return Page(good, len(items) - len(good))
