"""`unrollbot subscriptions`: every subscription on the configured database, with its
state, last thread and errors, for the local operator."""

from __future__ import annotations

import argparse
import time

from bot.cli_extensions import Register


def _args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--adapter", help="only this adapter's rooms (discord, matrix, console)")


def _list(args: argparse.Namespace) -> int:
    from bot.cli import EXIT_OK, open_app, run_async
    from cogs.subscriptions.cog import describe
    from storage.subscriptions_repo import SubscriptionsRepo

    async def go() -> int:
        app = await open_app(args.config)
        try:
            repo = SubscriptionsRepo(app.db)
            subs = [s for s in await repo.all_subscriptions() if args.adapter in (None, s.adapter)]
            if not subs:
                print("No subscriptions.")
                return EXIT_OK
            authors = await repo.authors(s.author for s in subs)
            now = time.time()
            for sub in subs:
                a = authors.get(sub.author)
                if a is not None:
                    print(f"[{sub.adapter} {sub.scope}] " + describe(sub, a, now, True))
            return EXIT_OK
        finally:
            await app.close()

    return run_async(go())


def register_cli(table: Register) -> None:
    table["subscriptions"] = (
        "list every subscription with its state, last thread and errors",
        _args,
        _list,
    )
