"""Feature subcommands of the command line, registered by name (kept apart from bot/cli.py
so `--version` imports nothing)."""

from __future__ import annotations

import argparse
from collections.abc import Callable

Register = dict[
    str,
    tuple[str, Callable[[argparse.ArgumentParser], None], Callable[[argparse.Namespace], int]],
]


def register(table: Register) -> None:
    """Each feature adds its subcommands here."""
    from cogs.content_notes.cli import register_cli as register_notes
    from cogs.links.cli import register_cli as register_links
    from cogs.subscriptions.cli import register_cli as register_subscriptions

    register_links(table)
    register_notes(table)
    register_subscriptions(table)
