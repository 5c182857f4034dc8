"""Subscriptions: follow an author's threads into a channel or room, exactly once,
restart-safe. ``setup(app)`` registers the commands and the background poller."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.app import App


async def setup(app: App) -> None:
    if not app.config.subscriptions.enabled:
        return
    from cogs.subscriptions.cog import SubscriptionsCog

    app.dispatcher.register(SubscriptionsCog.from_app(app))
