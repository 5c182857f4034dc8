"""The thread-linking index: moved posts, context threads and continuations, found in the
authors' own words or set by moderators, applied to every unroll.

- ``phrases.toml``: the cue phrases, per language; ``detect.py`` reads a thread's own posts
  with them (pure); ``refs.py`` turns links into keys (stable post ids where possible).
- ``apply.py``: the unroll processor. It records what detection finds (a link seen before
  keeps its state, so a moderator's removal holds), then applies every active link that
  touches the thread: moved posts out (one line) or in (at their place, from the stored
  copy), context links in the header, the continuation followed after a separator.
- ``service.py``: link, unlink, undo and list, for the commands in ``cog.py`` (chat and
  command line).
  A moderator's link beats detection; every change is recorded and can be undone.
- ``repo.py`` and ``migrations/``: the links' tables.
"""

from __future__ import annotations

from bot.host import Host
from cogs.links.apply import LinkApplier
from cogs.links.cog import LinksCog
from cogs.links.refs import RefParser
from cogs.links.repo import LinksRepo
from cogs.links.service import LinkService


def build(host: Host) -> LinkService:
    repo = LinksRepo(host.db)
    refs = RefParser(host.sources)
    applier = LinkApplier(repo, host.unroller, refs)
    return LinkService(repo, host.unroller, refs, applier)


async def setup(host: Host) -> None:
    service = build(host)
    host.unroller.add_processor(service.applier)
    host.add_cog(LinksCog(service))


def service_of(host: Host) -> LinkService:
    """The service the loaded links cog uses."""
    for cog in host.commands.cogs:
        if isinstance(cog, LinksCog):
            return cog.service
    raise RuntimeError("the links feature is not loaded")


COGS = (LinksCog,)
