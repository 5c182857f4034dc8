"""Content notes for mental-health topics: detection, author warnings, moderator
warnings and per-server policies."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.app import App


async def setup(app: App) -> None:
    """App extension entry point (``cogs.content_notes`` in ``bot.app.EXTENSIONS``)."""
    from cogs.content_notes.wiring import install

    install(app)
