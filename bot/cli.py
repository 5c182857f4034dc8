"""The command line. Other tools depend on this contract; keep it stable.

Exit codes: 0 done; 2 bad usage or an unsupported or invalid link; 3 refused (opt-out,
not public, not allowed); 4 not found or upstream unavailable; 1 anything else.
Errors are one clear line on stderr. Heavy modules are imported only when needed, so
`--version` answers at once.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any

from bot import __version__

if TYPE_CHECKING:
    from bot.app import App

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_REFUSED, EXIT_UNAVAILABLE = 0, 1, 2, 3, 4

# Extra subcommands from features: name -> (help, add_arguments, run(args) -> exit code).
SUBCOMMANDS: dict[
    str,
    tuple[str, Callable[[argparse.ArgumentParser], None], Callable[[argparse.Namespace], int]],
] = {}


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

    p = with_config(sub.add_parser("unroll", help="unroll one thread to stdout"))
    p.add_argument("url", help="a link to any post of the thread")
    p.add_argument("--format", choices=("text", "markdown", "json"), default="text")
    p.add_argument("--refresh", action="store_true", help="fetch again instead of using the cache")
    with_config(sub.add_parser("console", help="chat with the bot in the terminal"))
    with_config(sub.add_parser("run", help="start the adapters enabled in the config"))
    for name, (help_text, add_arguments, _) in SUBCOMMANDS.items():
        add_arguments(with_config(sub.add_parser(name, help=help_text)))
    return parser


def _load_extensions_cli() -> None:
    """Feature subcommands (notes, links, subscriptions) register themselves here."""
    from bot.cli_extensions import register

    register(SUBCOMMANDS)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] != ["--version"]:
        _load_extensions_cli()
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
    if args.command in SUBCOMMANDS:
        return SUBCOMMANDS[args.command][2](args)
    runner: dict[str, Callable[[argparse.Namespace], Awaitable[int]]] = {
        "unroll": _unroll,
        "console": _console,
        "run": _run,
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


async def _unroll(args: argparse.Namespace) -> int:
    from bot.codec import public_thread
    from bot.render import markdown, plain
    from bot.render.thread_view import thread_messages

    app = await open_app(args.config)
    try:
        thread = await app.unroller.unroll(args.url, refresh=args.refresh)
        if args.format == "json":
            print(json.dumps(public_thread(thread), ensure_ascii=False, indent=2))
            return EXIT_OK
        messages = thread_messages(thread, await app.decide_for(None))
        for message in messages:
            if args.format == "markdown":
                print("\n".join(markdown.chunks(message, 100_000)))
            else:
                print(plain.message_text(message, reveal=True))
            print()
        return EXIT_OK
    finally:
        await app.close()


async def _console(args: argparse.Namespace) -> int:
    from bot.adapters.console import ConsoleAdapter

    app = await open_app(args.config)
    try:
        console = ConsoleAdapter(app.dispatcher, app.sources)
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


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
