"""The host: builds the shared pieces once (database, HTTP session, sources, unroller,
dispatcher), loads every feature through the one extension list (``bot/extensions.py``),
and runs the enabled adapters in one process. Features see it as ``bot.host.Host``,
adapters as ``bot.host.AdapterHost``."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import signal
import time
from collections.abc import Iterable, Sequence
from typing import Any, Protocol

from bot.commands import Cog
from bot.config import Config, storage_target
from bot.context import ChatAdapter, Room
from bot.delivery import Deliverer, thread_name
from bot.dispatcher import Dispatcher
from bot.extensions import open_database, selected
from bot.host import DecideFor
from bot.http import HttpClient, HttpSettings
from bot.live_adapters import LiveAdapters, is_live
from bot.models import Thread
from bot.render.document import Message
from bot.render.thread_view import Decide, default_decide, thread_messages
from bot.sources import SourceRegistry, enabled_sources
from bot.sources.base import Source
from bot.unroller import Unroller
from storage.adapter_state_repo import AdapterStateRepo
from storage.db import Database
from storage.deliveries_repo import DeliveryRepo, Lease, LeaseLost
from storage.layouts_repo import LayoutRepo
from storage.threads_repo import ThreadRepo

log = logging.getLogger(__name__)

DAY_S = 86_400.0
# How often a running bot drops the threads kept past ``[unroll] keep_days``.
FORGET_EVERY_S = 3_600.0


class Adapter(ChatAdapter, Protocol):
    """A running platform: sends (ChatAdapter), and runs until stopped."""

    async def run(self) -> None:
        """Serve until cancelled or finished (the console ends with its input)."""

    async def close(self) -> None: ...


class App:
    def __init__(self, config: Config, db: Database, http: HttpClient, sources: SourceRegistry):
        self.config = config
        self.db = db
        self.http = http
        self.sources = sources
        self.threads = ThreadRepo(db)
        self.unroller = Unroller(
            sources, self.threads, config.unroll.max_posts, config.unroll.cache_ttl_s
        )
        self.deliveries = DeliveryRepo(db)
        self.layouts = LayoutRepo(db)
        self.deliverer = Deliverer(
            self.deliveries, layouts=self.layouts, lease_s=config.storage.lease_s
        )
        # Adapters that are connected (they called ``resume_pending``): the sweep finishes
        # their pending deliveries that no live sender holds, whichever process left them.
        self._live: dict[str, ChatAdapter] = {}
        self._sweeper: asyncio.Task[None] | None = None
        self._forget_due = 0.0  # monotonic: the first sweep also drops old threads
        self.dispatcher = Dispatcher(find_links=sources.find_links)
        # What adapters keep across restarts, and which process holds their session.
        self.adapter_state = AdapterStateRepo(db)
        # Features see only the live adapters (a standby Matrix session is not).
        self.adapters: LiveAdapters[Adapter] = LiveAdapters()
        # Features replace this to apply room policies (content notes).
        self.decision_provider: DecideFor | None = None
        # Text prefixes per adapter, for replies that name commands.
        self.prefixes: dict[str, str] = self.dispatcher.prefixes
        self.prefixes.update({"console": "/", "memory": "/"})
        self.extensions: list[str] = []

    # -- Host: what features get ----------------------------------------------------------

    @property
    def commands(self) -> Dispatcher:
        return self.dispatcher

    def add_cog(self, cog: Cog, *, chat: bool = True) -> None:
        self.dispatcher.register(cog, chat=chat)

    def set_decisions(self, provider: DecideFor) -> None:
        self.decision_provider = provider

    async def decide_for(self, scope: str | None) -> Decide:
        if self.decision_provider is None:
            return default_decide
        decide: Decide = await self.decision_provider(scope)
        return decide

    async def thread_as_shown(self, thread: Thread, scope: str | None) -> list[Message]:
        return thread_messages(thread, await self.decide_for(scope))

    # -- AdapterHost: what platforms get ---------------------------------------------------

    def find_links(self, text: str) -> list[str]:
        return self.sources.find_links(text)

    async def thread_of_message(self, adapter: str, message_id: str) -> str | None:
        record = await self.deliveries.find_by_message(adapter, message_id)
        return record.thread_url if record is not None else None

    async def load(self, extensions: Iterable[str]) -> None:
        """Load features by module name, each through its ``setup(host)``, in order."""
        for name in extensions:
            module = importlib.import_module(name)
            await module.setup(self)
            self.extensions.append(name)

    @classmethod
    async def create(
        cls,
        config: Config,
        *,
        sources: Sequence[Source] | None = None,
        extensions: Sequence[str] | None = None,
    ) -> App:
        net = config.network
        settings = HttpSettings(
            user_agent=net.user_agent or HttpSettings.user_agent,
            timeout_s=net.timeout_s,
            retries=net.retries,
            per_host_concurrency=net.per_host_concurrency,
            max_body_bytes=net.max_body_bytes,
            allow_private_addresses=net.allow_private_addresses,
        )
        http = HttpClient(settings)
        target, password = storage_target(config)
        db = await open_database(target, password=password)
        try:
            registry = SourceRegistry(
                sources if sources is not None else enabled_sources(config, http)
            )
            app = cls(config, db, http, registry)
            if db.dialect == "sqlite":
                # One bot process per SQLite file: leases left are a killed predecessor's.
                await app.deliveries.free_leases()
            await app.load(selected(extensions))
        except BaseException:
            await db.close()
            await http.close()
            raise
        return app

    async def resume_pending(self, adapter: ChatAdapter) -> int:
        """Finish command deliveries a crash, a restart or another process left unfinished
        (subscriptions resume their own): each pending one whose lease is free or expired
        is claimed, so one process finishes it. Each message carries its idempotency key,
        so nothing posts twice where the platform dedupes. Adapters call this once
        connected; from then on the sweep repeats it. Returns how many were finished."""
        self._live[adapter.name] = adapter
        if not is_live(adapter):
            return 0  # standing by (a session another process holds): its holder sends
        resumed = 0
        for record in await self.deliveries.claimable(adapter.name, self.deliverer.clock()):
            if record.origin != "command":
                continue
            lease = await self.deliverer.claim(record.id)
            if lease is None:
                continue  # another process claimed it first
            room = Room(adapter.name, record.scope, record.channel)
            try:
                thread = await self.unroller.unroll(record.thread_url, scope=record.scope)
                messages = await self.thread_as_shown(thread, record.scope)
                await self.deliverer.resume(
                    adapter,
                    room,
                    record.id,
                    messages,
                    thread_name(thread),
                    thread=thread,
                    lease=lease,
                )
                resumed += 1
            except LeaseLost as lost:
                log.warning("%s; its new owner finishes it", lost)
            except asyncio.CancelledError:
                # Shutting down: free it for the next claim, here or in another process.
                await self._release_quietly(lease)
                raise
            except Exception as exc:
                if not is_live(adapter):
                    # The session went to another process while this one was sending: the
                    # delivery is the holder's to finish, not a failure.
                    log.warning(
                        "delivery %s paused: %r; the session's holder finishes it", record.id, exc
                    )
                    await self._release_quietly(lease)
                    continue
                log.warning("could not resume delivery %s: %r", record.id, exc)
                with contextlib.suppress(LeaseLost):
                    await self.deliveries.finish(lease, "failed", str(exc))
        return resumed

    async def _release_quietly(self, lease: Lease) -> None:
        with contextlib.suppress(Exception):
            await self.deliveries.release(lease)

    async def sweep(self) -> int:
        """One round of the sweep: ``resume_pending`` for every connected adapter."""
        resumed = 0
        for adapter in list(self._live.values()):
            if self.adapters.get(adapter.name, adapter) is not adapter:
                continue  # replaced by a new connection, which resumes for itself
            try:
                resumed += await self.resume_pending(adapter)
            except Exception:
                log.exception("sweeping the deliveries of %s failed", adapter.name)
        return resumed

    def start_sweeping(self) -> None:
        """Sweep every half lease until ``close``: a killed process's deliveries are
        finished by another once their leases expire, a live sender's never (it renews)."""
        if self._sweeper is None or self._sweeper.done():
            self._sweeper = asyncio.create_task(self._sweep_forever(), name="delivery-sweep")

    async def _sweep_forever(self) -> None:
        while True:
            await asyncio.sleep(self.config.storage.lease_s / 2)
            await self.sweep()
            if time.monotonic() >= self._forget_due:
                self._forget_due = time.monotonic() + FORGET_EVERY_S
                await self.forget_old_threads()

    async def forget_old_threads(self) -> int:
        """Drop the cached threads not fetched for ``[unroll] keep_days`` (none when 0)."""
        keep_days = self.config.unroll.keep_days
        if keep_days == 0:
            return 0
        try:
            dropped = await self.threads.forget_before(self.unroller.clock() - keep_days * DAY_S)
        except Exception:
            log.exception("dropping threads older than %s days failed", keep_days)
            return 0
        if dropped:
            log.info("dropped %s threads not unrolled for %s days", dropped, keep_days)
        return dropped

    async def start_cogs(self) -> None:
        for cog in self.dispatcher.cogs:
            await cog.start()

    async def close(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
        for cog in reversed(self.dispatcher.cogs):
            try:
                await cog.stop()
            except Exception:
                log.exception("stopping %s failed", type(cog).__name__)
        for adapter in self.adapters.every():
            with contextlib.suppress(Exception):
                await adapter.close()
        await self.http.close()
        await self.db.close()

    async def run(self, adapters: Sequence[Adapter]) -> None:
        """Run adapters until they finish or SIGINT/SIGTERM; then shut down cleanly."""
        for adapter in adapters:
            self.adapters[adapter.name] = adapter
        await self.start_cogs()
        self.start_sweeping()
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, stop.set)
        tasks = [asyncio.create_task(a.run(), name=f"adapter-{a.name}") for a in adapters]
        stopper = asyncio.create_task(stop.wait())
        try:
            pending: set[asyncio.Task[Any]] = set(tasks)
            while pending:
                done, _ = await asyncio.wait(
                    pending | {stopper}, return_when=asyncio.FIRST_COMPLETED
                )
                if stopper in done:
                    break
                for task in done & pending:
                    pending.discard(task)
                    if task.exception() is not None:
                        raise task.exception()  # type: ignore[misc]
        finally:
            stopper.cancel()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            for sig in (signal.SIGINT, signal.SIGTERM):
                with contextlib.suppress(NotImplementedError, RuntimeError):
                    loop.remove_signal_handler(sig)
