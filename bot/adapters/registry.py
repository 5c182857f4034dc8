"""The adapters `unrollbot run` starts, from the config (console when none is enabled)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.app import App


def build_adapters(app: App) -> list[Any]:
    cfg = app.config
    adapters: list[Any] = []
    if cfg.discord.enabled:
        from bot.adapters.discord_adapter import DiscordAdapter

        adapters.append(DiscordAdapter.from_app(app))
    if cfg.matrix.enabled:
        from bot.adapters.matrix_adapter import MatrixAdapter

        adapters.append(MatrixAdapter.from_app(app))
    if cfg.console.enabled or not adapters:
        from bot.adapters.console import ConsoleAdapter

        adapters.append(ConsoleAdapter(app.dispatcher, app.sources))
    return adapters
