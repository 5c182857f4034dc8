"""The command line. Other tools depend on this contract; keep it stable.

Exit codes: 0 done; 2 bad usage or an unsupported or invalid link; 3 refused (opt-out,
not public, not allowed); 4 not found or upstream unavailable; 1 anything else.
Errors are one clear line on stderr. Heavy modules are imported only when needed, so
`--version` answers at once.

Subcommands come from the features' command declarations (``cli=True``), the same ones
chat commands come from; ``console`` and ``run`` start the bot itself.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any

from bot import __version__

if TYPE_CHECKING:
    from bot.app import App
    from bot.commands import Cog, CommandSpec, Param
    from bot.render.document import Message
    from storage.db import Database

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_REFUSED, EXIT_UNAVAILABLE = 0, 1, 2, 3, 4

# The features' command-line commands by name ("notes classify"): the declaring cog class
# and its declaration. Filled by ``main`` (not for ``--version``).
DECLARED: dict[str, tuple[type[Cog], CommandSpec]] = {}


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:  # one line, exit code 2
        self.exit(EXIT_USAGE, f"unrollbot: {message} (see unrollbot --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="unrollbot", description="Unroll social-media threads into chat.")
    parser.add_argument("--version", action="version", version=f"unrollbot {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log more to stderr")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    def with_config(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
        p.add_argument("--config", help="config file (default: $UNROLLBOT_CONFIG, else defaults)")
        return p

    groups: dict[str, Any] = {}
    for name, (_, spec) in DECLARED.items():
        if spec.group is None:
            p = with_config(sub.add_parser(name, help=spec.description))
        else:
            group, leaf = name.split(" ", 1)
            if group not in groups:
                g = with_config(sub.add_parser(group, help=f"{group}: {spec.description}"))
                groups[group] = g.add_subparsers(
                    dest=f"{group}_command", metavar="ACTION", required=True, parser_class=_Parser
                )
            p = groups[group].add_parser(leaf, help=spec.description)
            # Also after the action; an absent one keeps the group's value.
            p.add_argument("--config", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
        p.set_defaults(declared=name)
        for param in spec.params:
            _add_param(p, param)
    with_config(sub.add_parser("console", help="chat with the bot in the terminal"))
    with_config(sub.add_parser("run", help="start the adapters enabled in the config"))
    with_config(sub.add_parser("status", help="which bot process holds each chat session (Matrix)"))
    return parser


def _add_param(p: argparse.ArgumentParser, param: Param) -> None:
    """A declared parameter as an argument: positional in order, ``--name`` for options
    and flags, every remaining argument for a ``rest`` parameter."""
    dest = f"arg_{param.name}"
    kwargs: dict[str, Any] = {"help": param.description}
    if param.choices:
        kwargs["choices"] = param.choices
    if param.kind == "int":
        kwargs["type"] = int
    if param.kind == "bool":
        p.add_argument(f"--{param.name}", dest=dest, action="store_true", help=param.description)
    elif param.option:
        p.add_argument(f"--{param.name}", dest=dest, default=param.default, **kwargs)
    elif param.kind == "rest":
        p.add_argument(dest, metavar=param.name, nargs="*" if not param.required else "+", **kwargs)
    elif param.required:
        p.add_argument(dest, metavar=param.name, **kwargs)
    else:
        p.add_argument(dest, metavar=param.name, nargs="?", default=param.default, **kwargs)


def _load_declared() -> None:
    """The features' command-line commands, from their declarations."""
    from bot.extensions import declared_commands

    DECLARED.clear()
    for cog, spec in declared_commands():
        if spec.cli:
            DECLARED[spec.name] = (cog, spec)


class CliContext:
    """A declared command run from the command line: the local operator (a moderator)
    asks, and every answer is printed to stdout."""

    def __init__(self, login: str) -> None:
        from bot.context import Room, User

        self.room = Room("cli", "cli", "cli")
        self.user = User(login, login, is_moderator=True)
        self.adapter: Any = None

    async def reply(self, message: Message | str, *, private: bool = False) -> None:
        from bot.render import plain

        print(message if isinstance(message, str) else plain.message_text(message, reveal=True))

    async def progress(self, text: str) -> None:
        """Nothing: the command line prints only the result."""


def _login() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name in some containers
        return ""


async def _run_declared(args: argparse.Namespace) -> int:
    cog_class, spec = DECLARED[args.declared]
    values = {p.name: getattr(args, f"arg_{p.name}") for p in spec.params}
    ctx = CliContext(_login())
    config_path = getattr(args, "config", None)
    if spec.offline:
        from bot.config import load_config

        cog = cog_class.offline(load_config(config_path))
        bound = next(s for s in cog.commands() if s.cli and s.name == spec.name)
        assert bound.handler is not None
        await bound.handler(ctx, **values)
        return EXIT_OK
    app = await open_app(config_path)
    try:
        handler = app.dispatcher.cli_specs[spec.name].handler
        assert handler is not None
        await handler(ctx, **values)
        return EXIT_OK
    finally:
        await app.close()


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] != ["--version"]:
        _load_declared()
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    if args.command is None:
        parser.print_help()
        return EXIT_USAGE
    if getattr(args, "declared", None) is not None:
        return run_async(_run_declared(args))
    runner: dict[str, Callable[[argparse.Namespace], Awaitable[int]]] = {
        "console": _console,
        "run": _run,
        "status": _status,
    }
    return run_async(runner[args.command](args))


def run_async(coro: Awaitable[int]) -> int:
    """Run a command coroutine, turning errors into one line on stderr and an exit code."""
    from bot.errors import ConfigError, UserError
    from storage.db import DatabaseError

    try:
        return asyncio.run(coro)  # type: ignore[arg-type]
    except UserError as exc:
        print(f"unrollbot: {exc}", file=sys.stderr)
        return exc.exit_code
    except (ConfigError, DatabaseError) as exc:
        print(f"unrollbot: {exc}", file=sys.stderr)
        return EXIT_USAGE if isinstance(exc, ConfigError) else EXIT_ERROR
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        logging.getLogger("unrollbot").debug("unexpected error", exc_info=True)
        print(f"unrollbot: unexpected error: {exc!r}", file=sys.stderr)
        return EXIT_ERROR


async def open_app(config_path: str | None) -> App:
    from bot.app import App
    from bot.config import load_config

    return await App.create(load_config(config_path))


async def _console(args: argparse.Namespace) -> int:
    from bot.adapters.console import ConsoleAdapter

    app = await open_app(args.config)
    try:
        console = ConsoleAdapter(app.dispatcher)
        await app.run([console])
        return EXIT_OK
    finally:
        await app.close()


async def _run(args: argparse.Namespace) -> int:
    from bot.adapters.registry import build_adapters

    app = await open_app(args.config)
    try:
        adapters = build_adapters(app)
        await app.run(adapters)
        return EXIT_OK
    finally:
        await app.close()


async def _status(args: argparse.Namespace) -> int:
    from bot.config import load_config, storage_target
    from bot.extensions import open_database

    target, password = storage_target(load_config(args.config))
    db = await open_database(target, password=password)
    try:
        lines = await session_lines(db, time.time())
    finally:
        await db.close()
    print("\n".join(lines) if lines else f"No chat session has been held yet ({db.path}).")
    return EXIT_OK


async def session_lines(db: Database, now: float) -> list[str]:
    """One line per chat session kept in the database: who holds it, on which device,
    and when its state was last saved (every sync, so a stale time means trouble)."""
    from storage.adapter_state_repo import AdapterStateError, AdapterStateRepo

    repo = AdapterStateRepo(db)
    lines = []
    for row in await repo.list():
        try:
            device = row.value().get("device_id") or "none yet"
        except AdapterStateError as exc:
            device = f"unreadable state: {exc}"
        saved = f"state saved {_ago(now - row.updated_at)} ago"
        owner = row.owner or "no process"
        where = f"{row.adapter} {row.key}"
        if db.dialect == "sqlite":
            # One process by design: its lock lives in that process, not in the file.
            lines.append(f"{where}: last held by {owner} (device {device}); {saved}")
            continue
        async with repo.session(row.adapter, row.key, wait=False) as probe:
            free = probe.acquired
        if free:
            lines.append(
                f"{where}: no process holds the session now (last {owner}, device {device}); "
                f"{saved}"
            )
        else:
            lines.append(f"{where}: held by {owner} (device {device}); {saved}")
    return lines


def _ago(seconds: float) -> str:
    seconds = max(seconds, 0.0)
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.0f} h"


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
