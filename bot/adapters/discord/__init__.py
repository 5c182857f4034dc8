"""Discord through discord.py: adapter.py the connection and sending, commands.py the
slash commands and context menus built from the command declarations, format.py the
message format."""

from bot.adapters.discord.adapter import DiscordAdapter

__all__ = ["DiscordAdapter"]
