"""The adapters `unrollbot run` starts, from the config (console when none is enabled)."""

from __future__ import annotations

from typing import Any

from bot.host import AdapterHost


def build_adapters(host: AdapterHost) -> list[Any]:
    cfg = host.config
    adapters: list[Any] = []
    if cfg.discord.enabled:
        from bot.adapters.discord import DiscordAdapter

        adapters.append(DiscordAdapter.from_host(host))
    if cfg.matrix.enabled:
        from bot.adapters.matrix import MatrixAdapter

        adapters.append(MatrixAdapter.from_host(host))
    if cfg.console.enabled or not adapters:
        from bot.adapters.console import ConsoleAdapter

        adapters.append(ConsoleAdapter(host.dispatcher))
    return adapters
