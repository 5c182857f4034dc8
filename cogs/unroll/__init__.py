"""The unroll command: link in, thread out (header plus posts in a chat thread)."""

from __future__ import annotations

from bot.host import Host
from cogs.unroll.cog import UnrollCog


async def setup(host: Host) -> None:
    host.add_cog(UnrollCog(host))


COGS = (UnrollCog,)
__all__ = ["COGS", "UnrollCog", "setup"]
