"""Commands: subscribe, unsubscribe, subscriptions (moderators only)."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from bot.commands import Cog, Param, command
from bot.context import Context
from bot.errors import NotFound, Refused, UpstreamUnavailable, UsageError, quoted
from bot.models import Author
from bot.sources import api_hosts, title
from cogs.subscriptions.clock import Clock, SystemClock
from cogs.subscriptions.filters import parse_words
from cogs.subscriptions.model import Filters, Subscription, WatchedAuthor
from cogs.subscriptions.poller import AuthorSource, author_sources
from cogs.subscriptions.repo import SubscriptionsRepo
from cogs.subscriptions.service import SubscriptionService

if TYPE_CHECKING:
    from bot.host import Host


def ago(seconds: float) -> str:
    seconds = max(0.0, seconds)
    if seconds < 90:
        return f"{int(seconds)} s"
    if seconds < 90 * 60:
        return f"{round(seconds / 60)} min"
    if seconds < 36 * 3600:
        return f"{round(seconds / 3600)} h"
    return f"{round(seconds / 86400)} days"


def _spec_keys(spec: str) -> set[str]:
    """Ways a moderator may name an author they follow: handle, @handle, DID/actor id,
    profile link."""
    text = spec.strip().strip("<>").strip()
    keys = {text.casefold(), text.lstrip("@").casefold()}
    if text.lower().startswith(("http://", "https://")):
        keys.add(text.rstrip("/").casefold())
        try:
            parts = urlsplit(text)
        except ValueError:
            return keys
        segs = [s for s in parts.path.split("/") if s]
        if segs:
            last = segs[-1] if segs[0] != "profile" else segs[1] if len(segs) > 1 else segs[0]
            last = last.lstrip("@").casefold()
            keys.add(last)
            if "@" not in last and parts.hostname:
                keys.add(f"{last}@{parts.hostname.casefold()}")
    return keys


def _author_keys(a: WatchedAuthor) -> set[str]:
    return {
        a.handle.casefold(),
        a.author_id.casefold(),
        a.url.rstrip("/").casefold(),
    }


def describe(sub: Subscription, a: WatchedAuthor, now: float, show_channel: bool = False) -> str:
    """One line per subscription: author, state, last thread, problems, filters."""
    name = title(a.source)
    parts = [f"• @{a.handle} ({name})"]
    if show_channel:
        parts[0] += f" in {sub.channel}"
    if a.state == "refused":
        state = f"not posted: {a.reason}"
    elif a.state == "paused":
        state = f"paused {a.reason} Subscribe again to retry."
    elif a.failures:
        state = (
            f"failing ({a.failures} in a row, next try in {ago(a.next_poll_at - now)}):"
            f" {a.last_error}"
        )
    elif not sub.primed:
        state = "waiting for the first check"
    else:
        checked = f"checked {ago(now - a.last_poll_at)} ago" if a.last_poll_at else "new"
        state = f"active, {checked}, every {ago(a.interval_s)}"
    parts.append(state)
    if sub.last_thread_url:
        when = ago(now - (sub.last_delivered_at or now))
        parts.append(f"last thread: {sub.last_thread_url} ({when} ago)")
    else:
        parts.append("no thread posted yet")
    if sub.last_error:
        parts.append(f"last problem: {sub.last_error}")
    if sub.filters.describe():
        parts.append(sub.filters.describe())
    return " · ".join(parts)


class SubscriptionsCog(Cog):
    def __init__(self, host: Host, service: SubscriptionService) -> None:
        self.host = host
        self.service = service
        self.repo = service.repo

    @classmethod
    def from_host(cls, host: Host, clock: Clock | None = None) -> SubscriptionsCog:
        clock = clock or SystemClock()
        repo = SubscriptionsRepo(host.db)
        service = SubscriptionService(
            repo=repo,
            registry=host.sources,
            unroller=host.unroller,
            deliverer=host.deliverer,
            deliveries=host.deliveries,
            adapters=host.adapters,
            shown=host.thread_as_shown,
            settings=host.config.subscriptions,
            max_posts=host.config.unroll.max_posts,
            clock=clock,
            api_hosts=api_hosts(host.config),
            lease_s=host.config.storage.lease_s,
            # SQLite serves one bot process by design; PostgreSQL several.
            only_process=host.db.dialect == "sqlite",
        )
        return cls(host, service)

    async def start(self) -> None:
        self.service.start()

    async def stop(self) -> None:
        await self.service.stop()

    # ---- subscribe ----------------------------------------------------------------------

    async def resolve(self, spec: str) -> tuple[AuthorSource, Author]:
        sources = author_sources(self.host.sources)
        if not sources:
            raise UsageError("No source that can follow authors is enabled.")
        for source in sources:
            try:
                found = await source.resolve_author(spec)
            except Refused as exc:
                raise Refused(f"Not subscribed: {exc}") from None
            except (NotFound, UpstreamUnavailable):
                raise
            if found is not None:
                return source, found
        raise UsageError(
            f"Could not find an author for {quoted(spec)}. Give a Bluesky handle, DID or profile "
            "link, or a fediverse account as @user@server or its profile link."
        )

    @command(
        "subscribe",
        "Post an author's new threads in this channel once they are finished",
        Param("author", "Handle, DID, @user@server or profile link", kind="url"),
        Param(
            "backfill",
            "Also post the author's last N threads",
            kind="int",
            required=False,
            default=0,
        ),
        Param(
            "min_posts",
            "Only threads with at least this many posts",
            kind="int",
            required=False,
            default=1,
        ),
        Param("include", "Only threads with one of these words (comma-separated)", required=False),
        Param("exclude", "Never threads with one of these words (comma-separated)", required=False),
        moderator=True,
        examples=(
            "subscribe alice.bsky.social",
            "subscribe @bob@example.social min_posts:3 exclude:spoilers",
            "subscribe https://bsky.app/profile/alice.bsky.social backfill:2",
        ),
    )
    async def subscribe(
        self,
        ctx: Context,
        author: str,
        backfill: int = 0,
        min_posts: int = 1,
        include: str | None = None,
        exclude: str | None = None,
    ) -> None:
        cfg = self.host.config.subscriptions
        if not 0 <= backfill <= cfg.max_backfill:
            raise UsageError(f"backfill must be between 0 and {cfg.max_backfill}.")
        max_posts = self.host.config.unroll.max_posts
        if not 1 <= min_posts <= max_posts:
            raise UsageError(f"min_posts must be between 1 and {max_posts}.")
        filters = Filters(
            min_posts, parse_words(include, "include"), parse_words(exclude, "exclude")
        )
        await ctx.progress("Looking the author up…")
        source, who = await self.resolve(author)
        now = self.service.clock.now()
        host = self.service.host_for(source.name, who.url, who.id)
        await self.service.limiter.charge(host, 1)
        watched = await self.repo.ensure_author(
            source=source.name,
            author_id=who.id,
            handle=who.handle,
            name=who.name,
            url=who.url,
            host=host,
            interval_s=self.service.bounds.min_s,
            now=now,
        )
        self.service.poller.warmed(watched.id)
        if watched.state == "paused":
            # A moderator naming the author again is the cue to try again.
            watched = await self._revive(watched, now)
        sub = await self.repo.add_subscription(
            author=watched.id,
            adapter=ctx.room.adapter,
            scope=ctx.room.scope,
            channel=ctx.room.channel,
            filters=filters,
            backfill=backfill,
            created_by=ctx.user.id,
            now=now,
        )
        if sub is None:
            raise UsageError(f"This channel already follows @{who.handle}.")
        if watched.last_poll_at is not None and watched.state == "active":
            await self.service.prime(watched)  # already polled for another room
        else:
            await self.service.poll_author(watched, priority=True)
        self.service.wake(watched.id)
        await ctx.reply(await self._subscribed_text(sub.id, who, backfill, filters))

    async def _revive(self, a: WatchedAuthor, now: float) -> WatchedAuthor:
        from dataclasses import replace

        revived = replace(a, state="active", reason=None, failures=0, next_poll_at=now)
        await self.repo.save_poll_state(revived)
        return revived

    async def _subscribed_text(
        self, sub_id: int, who: Author, backfill: int, filters: Filters
    ) -> str:
        sub = await self.repo.subscription(sub_id)
        watched = await self.repo.author(sub.author) if sub else None
        name = title(watched.source, "") if watched else ""
        head = f"Following @{who.handle}" + (f" ({name})" if name else "") + " in this channel."
        settle = ago(self.host.config.subscriptions.settle_s)
        lines = [head]
        if watched is not None and watched.state == "refused":
            lines.append(f"Nothing will be posted while this holds: {watched.reason}")
        elif sub is not None and sub.primed:
            known = await self.repo.sub_threads([sub.id])
            old = sum(1 for st in known.values() if st.state == "old")
            lines.append(
                f"{old} earlier thread{'s' if old != 1 else ''} recorded and not posted; "
                f"new threads are posted once no post was added for {settle}."
            )
            if backfill:
                lines.append(f"The latest {backfill} will be posted shortly.")
        elif watched is not None and watched.failures:
            lines.append(
                f"The first check did not work ({watched.last_error}); it is retried "
                "automatically and nothing old will be posted."
            )
        else:
            lines.append(
                "The first check is queued behind other requests to that server; nothing "
                "old will be posted."
            )
        if filters.describe():
            lines.append(f"Filters: {filters.describe()}.")
        return "\n".join(lines)

    # ---- unsubscribe --------------------------------------------------------------------

    @command(
        "unsubscribe",
        "Stop posting an author's threads in this channel",
        Param("author", "Handle, DID, @user@server or profile link", kind="url"),
        moderator=True,
        examples=("unsubscribe alice.bsky.social",),
    )
    async def unsubscribe(self, ctx: Context, author: str) -> None:
        subs = await self.repo.subscriptions_in(ctx.room.adapter, ctx.room.scope, ctx.room.channel)
        authors = await self.repo.authors(s.author for s in subs)
        wanted = _spec_keys(author)
        match = next(
            (s for s in subs if s.author in authors and wanted & _author_keys(authors[s.author])),
            None,
        )
        if match is None:
            following = ", ".join(
                f"@{authors[s.author].handle}" for s in subs if s.author in authors
            )
            raise UsageError(
                f"This channel does not follow {quoted(author)}."
                + (f" It follows: {following}." if following else " It follows nobody.")
            )
        await self.repo.delete_subscription(match.id)
        await self.repo.drop_author_if_unused(match.author)
        await ctx.reply(f"Stopped following @{authors[match.author].handle} in this channel.")

    # ---- list ---------------------------------------------------------------------------

    @command(
        "subscriptions",
        "List the authors followed here, with their state, last thread and errors",
        Param(
            "everywhere",
            "Every channel of this server or space",
            kind="bool",
            required=False,
            default=False,
        ),
        moderator=True,
    )
    async def subscriptions(self, ctx: Context, everywhere: bool = False) -> None:
        channel = None if everywhere else ctx.room.channel
        subs = await self.repo.subscriptions_in(ctx.room.adapter, ctx.room.scope, channel)
        if not subs:
            where = "here" if not everywhere else "in this space"
            prefix = self.host.commands.prefix(ctx.room.adapter)
            await ctx.reply(f"No authors are followed {where}. Use {prefix}subscribe <author>.")
            return
        authors = await self.repo.authors(s.author for s in subs)
        where = "this channel" if not everywhere else "this space"
        lines = [f"Following in {where} ({len(subs)}):"]
        for sub in subs:
            a = authors.get(sub.author)
            if a is not None:
                lines.append(self.describe(sub, a, show_channel=everywhere))
        await ctx.reply("\n".join(lines))

    @command(
        "subscriptions",
        "list every subscription with its state, last thread and errors",
        Param(
            "adapter",
            "only this adapter's rooms (discord, matrix, console)",
            required=False,
            option=True,
        ),
        chat=False,
        cli=True,
    )
    async def every_subscription(self, ctx: Context, adapter: str | None = None) -> None:
        subs = [s for s in await self.repo.all_subscriptions() if adapter in (None, s.adapter)]
        if not subs:
            await ctx.reply("No subscriptions.")
            return
        authors = await self.repo.authors(s.author for s in subs)
        for sub in subs:
            a = authors.get(sub.author)
            if a is not None:
                await ctx.reply(f"[{sub.adapter} {sub.scope}] " + self.describe(sub, a, True))

    def describe(self, sub: Subscription, a: WatchedAuthor, show_channel: bool = False) -> str:
        return describe(sub, a, self.service.clock.now(), show_channel)
