"""Messages as Discord message bodies: markdown chunks under the 2000-character limit.

Source markdown is escaped and each chunk of a content-warned message is wrapped in its
own ``||spoiler||`` with the reason outside it (``bot.render.markdown``). Nothing sent may
ping: ``NO_MENTIONS`` goes with every send.
"""

from __future__ import annotations

import hashlib
import re

import discord

from bot.render.document import Message
from bot.render.markdown import chunks

MAX_CONTENT = 2000
NO_MENTIONS = discord.AllowedMentions.none()
_API_VERSION = re.compile(r"/api/v\d+/?$")


def render(message: Message) -> list[str]:
    """A Message as Discord markdown chunks, each under the content limit."""
    return [c for c in chunks(message, MAX_CONTENT) if c.strip()] or ["\u200b"]


def api_base(url: str) -> str:
    """``http://host[:port]`` or ``.../api/v10`` -> the Route.BASE discord.py expects."""
    url = url.rstrip("/")
    return url if _API_VERSION.search(url) else url + "/api/v10"


def nonce_for(key: str, index: int) -> str:
    """A Discord nonce (at most 25 characters) from an idempotency key and chunk index."""
    raw = f"{key}:{index}"
    return raw if len(raw) <= 25 else hashlib.sha256(raw.encode()).hexdigest()[:25]
