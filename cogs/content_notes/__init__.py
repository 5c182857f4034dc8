"""Content notes for mental-health topics: detection, author warnings, moderator
warnings and per-server policies."""

from __future__ import annotations

from bot.host import Host
from cogs.content_notes.cli import ClassifyCog
from cogs.content_notes.cog import ContentNotesCog


async def setup(host: Host) -> None:
    """Extension entry point (``cogs.content_notes`` in ``bot.extensions.EXTENSIONS``)."""
    from cogs.content_notes.wiring import install

    install(host)


COGS = (ContentNotesCog, ClassifyCog)
