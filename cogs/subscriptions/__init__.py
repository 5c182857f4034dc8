"""Subscriptions: follow an author's threads into a channel or room, exactly once,
restart-safe. ``setup(app)`` registers the commands and the background poller.

- ``poller.py``: one poll per author however many rooms follow it, inside each host's
  request budget (``ratelimit.py``); intervals adapt, errors back off, deleted accounts are
  paused (``scheduler.py``). ``grouping.py`` turns the author's recent posts into threads.
- ``settle.py``: a thread is posted once no self-reply came for ``settle_s`` (or at once at
  ``max_posts``); ``filters.py``: min_posts and include/exclude words per subscription.
- ``delivery.py``: posting through the outbox (intent recorded before planning, resumed
  after a crash, never planned twice), appends and header edits; ``service.py`` ties it
  together, ``cog.py`` holds the commands (chat, and the ``unrollbot subscriptions`` list).
- ``repo.py`` and ``migrations/``: the subscriptions' tables.
- ``clock.py``: the system clock, or a manual one so tests and benchmarks skip waiting.
"""

from __future__ import annotations

from bot.host import Host
from cogs.subscriptions.cog import SubscriptionsCog


async def setup(host: Host) -> None:
    # Switched off: no chat commands and no polling, but the operator's list still works.
    host.add_cog(SubscriptionsCog.from_host(host), chat=host.config.subscriptions.enabled)


COGS = (SubscriptionsCog,)
