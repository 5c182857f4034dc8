"""Connects the content-notes feature to the host: the cog and its commands, the unroll
processor, the per-room decision provider, link resolution through the unroller, and
in-place edits of already posted threads when a warning changes."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from bot.context import MessageRef
from bot.host import Host
from bot.render.packing import with_links
from bot.render.thread_title import thread_name
from bot.unroller import UnrollRequest
from cogs.content_notes.classifier import Classifier
from cogs.content_notes.cog import ContentNotesCog
from cogs.content_notes.repo import NotesRepo

if TYPE_CHECKING:
    from collections.abc import Sequence

    from bot.models import Thread
    from bot.render.document import Message
    from storage.deliveries_repo import DeliveryRecord

log = logging.getLogger(__name__)


def install(host: Host) -> ContentNotesCog:
    classifier = Classifier.default(host.config.content_notes.extra_terms)

    async def resolve(url: str) -> tuple[str, str]:
        thread = await host.unroller.base_thread(url)
        return thread.root_id, thread.url

    async def processed(record: DeliveryRecord) -> Thread:
        thread = await host.threads.load(record.thread_root)
        if thread is None:
            return await host.unroller.unroll(record.thread_url, scope=record.scope)
        request = UnrollRequest(record.thread_url, scope=record.scope)
        for processor in host.unroller.processors:
            thread = await processor(thread, request)
        return thread

    async def on_warning_changed(thread_key: str) -> int:
        """Re-render every posted copy of the thread with its room's policy and edit it,
        and retitle its chat thread (the title must not show newly warned text)."""
        edited = 0
        for record in await host.deliveries.for_thread(thread_key):
            adapter = host.adapters.get(record.adapter)
            if adapter is None or record.state != "sent":
                continue
            try:
                thread = await processed(record)

                async def render(rec: DeliveryRecord, thread: Thread = thread) -> Sequence[Message]:
                    # With the posts' links: a packed message shows each post's number as one.
                    return with_links(await host.thread_as_shown(thread, rec.scope), thread)

                edited += await host.deliverer.edit(adapter, record, render)
                if record.chat_thread:
                    ref = MessageRef(
                        adapter.name,
                        record.channel,
                        record.header_message or "",
                        record.chat_thread,
                    )
                    await adapter.rename_thread(ref, thread_name(thread))
            except Exception:
                log.exception("editing delivery %s after a warning change failed", record.id)
        return edited

    cog = ContentNotesCog(
        NotesRepo(host.db), classifier, resolve=resolve, on_warning_changed=on_warning_changed
    )
    host.add_cog(cog)
    host.unroller.add_processor(cog.process)
    host.set_decisions(cog.decide_for)
    return cog
