"""Errors a user can act on. The dispatcher turns them into a short reply; the CLI into an
exit code. Anything else is a bug: logged with context, answered with a brief apology."""

from __future__ import annotations


class UserError(Exception):
    """A problem the user can fix or understand; ``str(e)`` is the reply."""

    exit_code = 1


class UsageError(UserError):
    """Bad command usage or arguments."""

    exit_code = 2


class UnsupportedLink(UsageError):
    def __init__(self, url: str) -> None:
        super().__init__(
            f"Unsupported link: {url!r}. Give a link to a post on Bluesky (bsky.app), "
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
