"""The layout command: how this server or room shows unrolled threads (packed or
per-post). The layouts themselves are delivery settings the outbox reads, so their table
is core storage (``storage/layouts_repo.py``); this feature only lets moderators choose."""

from __future__ import annotations

from bot.host import Host
from cogs.layout.cog import LayoutCog


async def setup(host: Host) -> None:
    host.add_cog(LayoutCog(host.layouts))


COGS = (LayoutCog,)
__all__ = ["COGS", "LayoutCog", "setup"]
