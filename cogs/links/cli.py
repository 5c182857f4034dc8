"""`unrollbot links | link | unlink | links-undo` on the configured database: the same
operations as the chat commands, for the local operator (a moderator)."""

from __future__ import annotations

import argparse
import getpass
from collections.abc import Awaitable, Callable

from bot.cli_extensions import Register
from cogs.links.cog import KINDS
from cogs.links.service import LinkService


def operator() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:  # no login name in some containers
        return "cli"


def _run(args: argparse.Namespace, op: Callable[[LinkService], Awaitable[str]]) -> int:
    from bot.cli import EXIT_OK, open_app, run_async
    from cogs.links import service_of

    async def go() -> int:
        app = await open_app(args.config)
        try:
            print(await op(service_of(app)))
            return EXIT_OK
        finally:
            await app.close()

    return run_async(go())


def _links_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("url", help="a link to any post of the thread")


def _link_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("url", help="the post (belongs) or thread (context, continues)")
    p.add_argument("kind", choices=KINDS)
    p.add_argument("target", help="the thread or post it points to")


def _unlink_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("url", help="the moved post, or the thread")
    p.add_argument("kind", choices=KINDS, nargs="?", default=None)


def _undo_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("change", type=int, help="the change number shown by `links`")


def register_cli(table: Register) -> None:
    table["links"] = (
        "list a thread's links with origin, evidence and changes",
        _links_args,
        lambda a: _run(a, lambda s: s.describe(a.url)),
    )
    table["link"] = (
        "link a post or thread (belongs, context, continues)",
        _link_args,
        lambda a: _run(a, lambda s: s.link(operator(), a.url, a.kind, a.target)),
    )
    table["unlink"] = (
        "remove the links starting from a post or thread",
        _unlink_args,
        lambda a: _run(a, lambda s: s.unlink(operator(), a.url, a.kind)),
    )
    table["links-undo"] = (
        "undo a recorded link change",
        _undo_args,
        lambda a: _run(a, lambda s: s.undo(operator(), a.change)),
    )
