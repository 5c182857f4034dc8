"""What the running bot gives a feature and a platform adapter: narrow, typed views of it
(as maubot hands a plugin its client, database and config), so neither ever sees the whole
app. ``bot.app.App`` implements both."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Protocol

from bot.render.thread_view import Decide

if TYPE_CHECKING:
    from bot.commands import Cog
    from bot.config import Config
    from bot.context import ChatAdapter
    from bot.delivery import Deliverer
    from bot.dispatcher import Dispatcher
    from bot.models import Thread
    from bot.render.document import Message
    from bot.sources import SourceRegistry
    from bot.unroller import Unroller
    from storage.adapter_state_repo import AdapterStateRepo
    from storage.db import Database
    from storage.deliveries_repo import DeliveryRepo
    from storage.layouts_repo import LayoutRepo
    from storage.threads_repo import ThreadRepo

# How a room shows content notes: the room's scope -> its decision (content notes sets it).
DecideFor = Callable[[str | None], Awaitable[Decide]]


class Host(Protocol):
    """What a feature's ``setup(host)`` gets: the unroller, the storage handles (a feature
    builds its own repository on ``db``), the settings, the running adapters to send with,
    and the calls every feature shares. Scheduling: a cog's ``start`` runs once the bot is
    up and ``stop`` at shutdown."""

    @property
    def config(self) -> Config: ...

    @property
    def db(self) -> Database: ...

    @property
    def threads(self) -> ThreadRepo: ...

    @property
    def deliveries(self) -> DeliveryRepo: ...

    @property
    def deliverer(self) -> Deliverer: ...

    @property
    def layouts(self) -> LayoutRepo:
        """Each room's layout (packed or per-post), which the outbox reads."""
        ...

    @property
    def unroller(self) -> Unroller: ...

    @property
    def sources(self) -> SourceRegistry: ...

    @property
    def commands(self) -> Dispatcher:
        """The command registry (help reads it)."""
        ...

    @property
    def adapters(self) -> Mapping[str, ChatAdapter]:
        """The running platform adapters by name, to send and edit with: only those live
        in this process (an adapter whose session another process holds is left out)."""
        ...

    def add_cog(self, cog: Cog, *, chat: bool = True) -> None:
        """Register a feature's commands (and its start/stop). ``chat=False``: only its
        command-line commands (the feature is switched off)."""

    def set_decisions(self, provider: DecideFor) -> None:
        """Decide how each room shows content notes (one provider; the last set wins)."""

    async def decide_for(self, scope: str | None) -> Decide: ...

    async def thread_as_shown(self, thread: Thread, scope: str | None) -> list[Message]:
        """The messages ``thread`` becomes in a room of ``scope``: header first, then the
        posts, with the room's content-note policy applied."""
        ...


class AdapterHost(Protocol):
    """What a platform adapter gets: the settings, the command registry, the link finder
    passive triggers and context menus use, and the hooks a connection calls."""

    @property
    def config(self) -> Config: ...

    @property
    def dispatcher(self) -> Dispatcher: ...

    def find_links(self, text: str) -> list[str]:
        """Supported post links in free text, in order."""
        ...

    async def thread_of_message(self, adapter: str, message_id: str) -> str | None:
        """The thread a message the bot posted belongs to (its link), if any."""
        ...

    @property
    def adapter_state(self) -> AdapterStateRepo:
        """What an adapter keeps across restarts and hands to a standby process, and the
        session lock that decides which process runs the adapter's session."""
        ...

    async def resume_pending(self, adapter: ChatAdapter) -> int:
        """Finish the deliveries a restart interrupted (called once connected, and again
        whenever this process takes over a session)."""
        ...
