"""Errors a user can act on. The dispatcher turns them into a short reply; the CLI into an
exit code. Anything else is a bug: logged with context, answered with a brief apology."""

from __future__ import annotations


class UserError(Exception):
    """A problem the user can fix or understand; ``str(e)`` is the reply."""

    exit_code = 1


class UsageError(UserError):
    """Bad command usage or arguments. ``usage`` (a command's usage line, without the
    chat prefix) is appended as "Usage: ..." with the prefix of the place it is shown."""

    exit_code = 2

    def __init__(self, message: str, usage: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.usage = usage

    def text(self, prefix: str = "") -> str:
        if self.usage is None:
            return self.message
        return f"{self.message} Usage: {prefix}{self.usage}"

    def __str__(self) -> str:
        return self.text()


QUOTE_LIMIT = 80


def quoted(value: object, limit: int = QUOTE_LIMIT) -> str:
    """``value`` as a reply quotes it back: in quotes and cut to ``limit`` characters, so a
    pasted essay or a hostile upstream answer is not echoed into the channel whole."""
    if not isinstance(value, str):
        text = repr(value)
        return text if len(text) <= limit else text[: limit - 1] + "…"
    if len(value) > limit:
        value = value[: limit - 1] + "…"
    return repr(value)


def reply_text(exc: UserError, prefix: str) -> str:
    """What a user sees for ``exc`` in a chat whose commands start with ``prefix``."""
    return exc.text(prefix) if isinstance(exc, UsageError) else str(exc)


class UnsupportedLink(UsageError):
    def __init__(self, url: str) -> None:
        super().__init__(
            f"Unsupported link: {quoted(url)}. Give a link to a post on Bluesky (bsky.app), "
            "a Mastodon-compatible server or X (x.com / twitter.com)."
        )


class Refused(UserError):
    """The author opted out or the post is not public."""

    exit_code = 3


class NotFound(UserError):
    exit_code = 4


class UpstreamUnavailable(UserError):
    """The source could not be reached or kept failing after retries."""

    exit_code = 4


class PermissionDenied(UserError):
    exit_code = 3


class ConfigError(Exception):
    """A bad config file; the message names the offending key."""
