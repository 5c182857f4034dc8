"""Connects the content-notes feature to the app: the cog and its commands, the unroll
processor, the per-room decision provider, link resolution through the unroller, and
in-place edits of already posted threads when a warning changes."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from bot.context import MessageRef
from bot.render.packing import with_links
from bot.render.thread_title import thread_name
from bot.render.thread_view import thread_messages
from bot.unroller import UnrollRequest
from cogs.content_notes.classifier import Classifier
from cogs.content_notes.cog import ContentNotesCog
from storage.notes_repo import NotesRepo

if TYPE_CHECKING:
    from collections.abc import Sequence

    from bot.app import App
    from bot.models import Thread
    from bot.render.document import Message
    from storage.deliveries_repo import DeliveryRecord

log = logging.getLogger(__name__)


def install(app: App) -> ContentNotesCog:
    classifier = Classifier.default(app.config.content_notes.extra_terms)

    async def resolve(url: str) -> tuple[str, str]:
        thread = await app.unroller.base_thread(url)
        return thread.root_id, thread.url

    async def processed(record: DeliveryRecord) -> Thread:
        thread = await app.threads.load(record.thread_root)
        if thread is None:
            return await app.unroller.unroll(record.thread_url, scope=record.scope)
        request = UnrollRequest(record.thread_url, scope=record.scope)
        for processor in app.unroller.processors:
            thread = await processor(thread, request)
        return thread

    async def on_warning_changed(thread_key: str) -> int:
        """Re-render every posted copy of the thread with its room's policy and edit it,
        and retitle its chat thread (the title must not show newly warned text)."""
        edited = 0
        for record in await app.deliveries.for_thread(thread_key):
            adapter = app.adapters.get(record.adapter)
            if adapter is None or record.state != "sent":
                continue
            try:
                thread = await processed(record)

                async def render(rec: DeliveryRecord, thread: Thread = thread) -> Sequence[Message]:
                    # With the posts' links: a packed message shows each post's number as one.
                    messages = thread_messages(thread, await app.decide_for(rec.scope))
                    return with_links(messages, thread)

                edited += await app.deliverer.edit(adapter, record, render)
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
        NotesRepo(app.db), classifier, resolve=resolve, on_warning_changed=on_warning_changed
    )
    app.dispatcher.register(cog)
    app.unroller.add_processor(cog.process)
    app.decision_provider = cog.decide_for
    return cog
