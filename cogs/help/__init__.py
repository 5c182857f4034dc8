"""The help command, built from the command declarations."""

from __future__ import annotations

from bot.host import Host
from cogs.help.cog import HelpCog


async def setup(host: Host) -> None:
    host.add_cog(HelpCog(host.commands))


COGS = (HelpCog,)
__all__ = ["COGS", "HelpCog", "setup"]
