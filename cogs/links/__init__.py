"""The thread-linking index: moved posts, context threads and continuations, found in the
authors' own words or set by moderators, applied to every unroll.

- ``phrases.toml``: the cue phrases, per language; ``detect.py`` reads a thread's own posts
  with them (pure); ``refs.py`` turns links into keys (stable post ids where possible).
- ``apply.py``: the unroll processor. It records what detection finds (a link seen before
  keeps its state, so a moderator's removal holds), then applies every active link that
  touches the thread: moved posts out (one line) or in (at their place, from the stored
  copy), context links in the header, the continuation followed after a separator.
- ``service.py``: link, unlink, undo and list, for ``cog.py`` (chat) and ``cli.py``.
  A moderator's link beats detection; every change is recorded and can be undone.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cogs.links.apply import LinkApplier
from cogs.links.cog import LinksCog
from cogs.links.refs import RefParser
from cogs.links.service import LinkService
from storage.links_repo import LinksRepo

if TYPE_CHECKING:
    from bot.app import App


def build(app: App) -> LinkService:
    repo = LinksRepo(app.db)
    refs = RefParser(app.sources)
    applier = LinkApplier(repo, app.unroller, refs)
    return LinkService(repo, app.unroller, refs, applier)


async def setup(app: App) -> None:
    service = build(app)
    app.unroller.add_processor(service.applier)
    app.dispatcher.register(LinksCog(service))


def service_of(app: App) -> LinkService:
    """The service the app's links cog uses (for the command line)."""
    for cog in app.dispatcher.cogs:
        if isinstance(cog, LinksCog):
            return cog.service
    raise RuntimeError("the links feature is not loaded")
