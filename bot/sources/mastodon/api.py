"""The few Mastodon REST calls the source makes, with upstream failures turned into
errors a user can act on. Servers configured with an access token get it on every call
(GoToSocial answers nothing without one)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.errors import NotFound, Refused, UpstreamUnavailable, UsageError, UserError, quoted
from bot.http import BlockedAddress, HttpClient, HttpError, TransportError, transport_message
from bot.sources.mastodon.coverage import is_snowflake
from bot.sources.mastodon.mapping import is_status
from bot.sources.mastodon.software import ServerSoftware, SoftwareDirectory

# Mastodon's cap for account statuses per page.
PAGE_LIMIT = 40
AUTH_REQUIRED = "This API requires an authenticated user"
MASTODON_BY_IDS = ServerSoftware("mastodon", "")


@dataclass
class Page:
    statuses: list[dict[str, Any]]
    # Statuses in the answer that were not valid status objects (skipped).
    malformed: int = 0


def _host(base: str) -> str:
    return base.split("://", 1)[-1]


def token_hint(host: str) -> str:
    return (
        f"To read it, give the bot an access token for {host}: in the config's "
        f'[sources.mastodon] section add tokens = {{ "{host}" = "NAME_OF_ENV_VARIABLE" }} '
        "and put the token in that environment variable."
    )


def _unauthorised(
    host: str, what: str, message: str, has_token: bool, software: ServerSoftware | None
) -> Refused:
    said = f" (it answered {quoted(message)})" if message else ""
    if has_token:
        return Refused(
            f"{host} refused the bot's access token{said}; check the token configured "
            f"for {host} under [sources.mastodon] tokens."
        )
    if software is None and "token not supplied" in message.lower():
        software = ServerSoftware("gotosocial")  # GoToSocial's own words for it
    if software is not None and software.needs_token:
        return Refused(
            f"{host} runs {software.display}, which answers only signed-in apps{said}, "
            f"so the bot cannot read {what} without a token. {token_hint(host)}"
        )
    if message and "authenticated" in message.lower():
        return Refused(
            f"{host} only shows posts to signed-in users{said}, so the bot cannot read "
            f"{what}. {token_hint(host)}"
        )
    return Refused(f"{host} requires signing in to read {what}{said}. {token_hint(host)}")


def translate(
    exc: Exception,
    base: str,
    what: str,
    *,
    has_token: bool = False,
    software: ServerSoftware | None = None,
) -> UserError:
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
            # Worded so that a plural ``what`` ("the replies to that post") reads as well.
            return NotFound(f"{host} says {what} cannot be found or seen publicly.")
        if exc.status == 401:
            return _unauthorised(host, what, message, has_token, software)
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
    def __init__(self, http: HttpClient, tokens: Mapping[str, str] | None = None) -> None:
        self.http = http
        # Host (with port when not the default) -> access token.
        self.tokens = {host.lower(): token for host, token in (tokens or {}).items()}
        self.software = SoftwareDirectory(http)

    def auth_headers(self, base: str) -> dict[str, str]:
        token = self.tokens.get(_host(base).lower())
        return {"Authorization": f"Bearer {token}"} if token else {}

    async def _get(self, base: str, path: str, what: str, params: Any = None) -> Any:
        headers = self.auth_headers(base)
        try:
            return await self.http.get_json(f"{base}{path}", params=params, headers=headers)
        except (HttpError, TransportError, BlockedAddress) as exc:
            raise translate(
                exc,
                base,
                what,
                has_token=bool(headers),
                software=self.software.cached(base),
            ) from exc

    async def status(self, base: str, status_id: str) -> dict[str, Any]:
        body = await self._get(base, f"/api/v1/statuses/{status_id}", "that post")
        if not is_status(body):
            raise UpstreamUnavailable(f"{_host(base)} returned a malformed post.")
        if is_snowflake(body["id"]):
            # Only Mastodon (and its forks) hand out snowflake ids: nothing to ask.
            self.software.infer(base, MASTODON_BY_IDS)
        else:
            self.software.prefetch(base)  # ready by the time the walk lists posts
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
        """One page of the author's statuses (no boosts) holding every self-reply in its
        range, whatever the server's software: ``exclude_replies`` is asked for only
        where it keeps self-replies (Mastodon); elsewhere the page comes with replies to
        others too (Pleroma lists no replies under it, GoToSocial drops self-replies
        that mention anyone)."""
        software = await self.software.get(base)
        return await self._statuses(base, account_id, software.lists_self_replies, bounds)

    async def _statuses(
        self, base: str, account_id: str, exclude_replies: bool, bounds: Mapping[str, str]
    ) -> Page:
        params = {
            "limit": str(PAGE_LIMIT),
            "exclude_replies": "true" if exclude_replies else "false",
            "exclude_reblogs": "true",
            **bounds,
        }
        body = await self._get(
            base, f"/api/v1/accounts/{account_id}/statuses", "the author's posts", params
        )
        if not isinstance(body, list):
            raise UpstreamUnavailable(f"{_host(base)} returned a malformed list of posts.")
        return _page(body)

    async def search_status(self, base: str, uri: str, urls: set[str]) -> dict[str, Any] | None:
        """The server's status for an ActivityPub id (or one of its web addresses), found
        with the search API; None when the search does not list it. Resolving posts the
        server has not seen needs a token (Mastodon refuses it to anonymous callers)."""
        params = {
            "q": uri,
            "type": "statuses",
            "resolve": "true" if self.auth_headers(base) else "false",
            "limit": "5",
        }
        body = await self._get(base, "/api/v2/search", "that post", params)
        found = body.get("statuses") if isinstance(body, dict) else None
        if not isinstance(found, list):
            raise UpstreamUnavailable(f"{_host(base)} returned a malformed search answer.")
        for status in found:
            if is_status(status) and (
                status.get("uri") == uri or status.get("url") in urls or status.get("url") == uri
            ):
                return dict(status)
        return None

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
