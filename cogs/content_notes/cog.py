"""The content-notes feature: moderator commands, the unroll processor that applies notes to
every thread, and the per-room rendering decision.

Platform-free: it sees Contexts, Threads and the notes repository, never an adapter's
own types. Two seams connect it to the rest of the bot: ``resolve`` turns a link a
moderator gives into the thread's stable key (the unroller's root id), and
``on_warning_changed`` re-renders messages already posted for a thread (the delivery
layer edits them in place).
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime

from bot.commands import Cog, Param, command
from bot.context import Context
from bot.errors import UsageError, quoted
from bot.models import ContentNote, Thread
from bot.render.thread_view import Action, Decide, NoteDecision
from bot.unroller import UnrollRequest
from cogs.content_notes.annotate import annotate
from cogs.content_notes.categories import CATEGORIES, CATEGORY_IDS, display_name, parse_category
from cogs.content_notes.classifier import Classifier
from cogs.content_notes.policy import ACTIONS, ScopePolicy, decide
from cogs.content_notes.repo import NoteAction, NotesRepo, ScopeSettings, ThreadWarning

log = logging.getLogger(__name__)

# A link -> (thread key, canonical link). The app passes one backed by the unroller.
Resolver = Callable[[str], Awaitable[tuple[str, str]]]
# Called after a thread's warnings change; returns how many posted messages were edited.
WarningChanged = Callable[[str], Awaitable[int]]

MAX_REASON = 300
_OFF_LOOP_POSTS = 50
MAX_SUPPORT_LINE = 500
_URL_TRIM = re.compile(r"[?#].*$")


def normalise_link(url: str) -> str:
    """A link as a key when no resolver is wired: no <>, query, fragment or trailing slash;
    the host in lower case."""
    url = _URL_TRIM.sub("", url.strip().strip("<>")).rstrip("/")
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    host, slash, path = rest.partition("/")
    return f"{scheme.lower()}://{host.lower()}{slash}{path}"


async def _link_only(url: str) -> tuple[str, str]:
    if not url.startswith(("http://", "https://")):
        raise UsageError(f"{quoted(url)} is not a link to a post")
    key = normalise_link(url)
    return key, key


def thread_keys(thread: Thread) -> list[str]:
    """Every key a stored warning may use for this thread: its root id and link, and the
    ids and links of its posts (a moderator may have linked any of them)."""
    keys = [thread.root_id, thread.url, normalise_link(thread.url)]
    for post in thread.all_posts:
        keys.extend((post.id, post.url, normalise_link(post.url)))
    return keys


def _when(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M UTC")


class ContentNotesCog(Cog):
    def __init__(
        self,
        repo: NotesRepo,
        classifier: Classifier | None = None,
        *,
        resolve: Resolver | None = None,
        on_warning_changed: WarningChanged | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.repo = repo
        self.classifier = classifier or Classifier.default()
        self.resolve: Resolver = resolve or _link_only
        self.on_warning_changed = on_warning_changed
        self.clock = clock
        self._policies: dict[str, ScopePolicy] = {}

    async def start(self) -> None:
        for scope, settings in (await self.repo.all_settings()).items():
            self._policies[scope] = _policy(settings)

    # Policies and decisions
    async def policy(self, scope: str | None) -> ScopePolicy:
        if scope is None:
            return ScopePolicy()
        if scope not in self._policies:
            self._policies[scope] = _policy(await self.repo.settings(scope))
        return self._policies[scope]

    def decide(self, scope: str | None, notes: Sequence[ContentNote]) -> NoteDecision:
        """The rendering decision for ``notes`` in ``scope`` (cached policy; defaults for a
        scope not loaded yet)."""
        policy = self._policies.get(scope, ScopePolicy()) if scope else ScopePolicy()
        return decide(policy, notes)

    async def decide_for(self, scope: str | None) -> Decide:
        """The app's decision provider: a Decide bound to the scope's current policy."""
        policy = await self.policy(scope)
        return lambda notes: decide(policy, notes)

    # Unroll processor
    async def process(self, thread: Thread, request: UnrollRequest | None = None) -> Thread:
        """Apply author, auto and moderator notes to a thread (and its continuation)."""
        warnings = await self.repo.warnings_for(thread_keys(thread))
        moderator = [ContentNote(w.category, "moderator", w.reason) for w in warnings]
        if len(thread.all_posts) > _OFF_LOOP_POSTS:
            # Long threads: keep the event loop responsive while matching.
            out = await asyncio.to_thread(annotate, thread, self.classifier, moderator)
        else:
            out = annotate(thread, self.classifier, moderator)
        if thread.continuation is not None:
            out = replace(out, continuation=await self.process(thread.continuation, request))
        return out

    # Commands
    def _action(self, ctx: Context, action: str, detail: str) -> NoteAction:
        return NoteAction(
            at=self.clock(),
            user_id=ctx.user.id,
            user_name=ctx.user.name,
            adapter=ctx.room.adapter,
            scope=ctx.room.scope,
            channel=ctx.room.channel,
            action=action,
            detail=detail,
        )

    async def _changed(self, thread_key: str) -> str:
        if self.on_warning_changed is None:
            return ""
        try:
            edited = await self.on_warning_changed(thread_key)
        except Exception:
            log.exception("updating posted messages for %s failed", thread_key)
            return " Posted copies could not be updated; they change on the next unroll."
        return f" Updated {edited} posted message{'s' if edited != 1 else ''}." if edited else ""

    def suggest_categories(self, current: str) -> list[str]:
        """Category ids completing the last word typed (earlier words are kept)."""
        head, _, last = current.rpartition(" ")
        prefix = f"{head} " if head else ""
        return [prefix + c for c in CATEGORY_IDS if c.startswith(last.lower())]

    @command(
        "cw add",
        "Put a content warning on a thread, for every later unroll in every room",
        Param("url", "A link to the thread (any of its posts)", kind="url"),
        Param(
            "categories",
            "Categories (e.g. suicide self-harm), then an optional reason",
            kind="rest",
            required=False,
            autocomplete="suggest_categories",
        ),
        Param("reason", "Why, in your words (shown with the note)", required=False),
        moderator=True,
        examples=(
            "cw add https://bsky.app/profile/alice.example/post/3kabc suicide self-harm",
            'cw add https://mastodon.example/@bo/1099 other reason:"graphic injury photos"',
        ),
        context_menu="Apply content warning",
    )
    async def cw_add(
        self, ctx: Context, url: str, categories: str | None = None, reason: str | None = None
    ) -> None:
        cats, rest = _split_categories(categories or "")
        if cats and rest and reason:
            raise UsageError(f"Unknown category {quoted(rest.split()[0])}; give the reason once.")
        if not cats and categories and categories.strip():
            # A typo must not become an "other" warning silently.
            raise UsageError(
                _unknown_category(categories.split()[0]) + " Use other <reason> for anything else."
            )
        reason = " ".join((reason or rest).split())
        if not cats:
            # From the message context menu: no category given.
            cats = ["other"]
            reason = reason or "content warning added by a moderator"
        if "other" in cats and not reason:
            raise UsageError("The category other needs a reason.", "cw add <url> other <reason>")
        if len(reason) > MAX_REASON:
            raise UsageError(f"The reason is too long (at most {MAX_REASON} characters).")
        key, link = await self.resolve(url)
        detail = f"{link}: {', '.join(cats)}" + (f" ({reason})" if reason else "")
        await self.repo.add_warnings(
            key, link, cats, reason, self._action(ctx, "warning-added", detail)
        )
        names = ", ".join(display_name(c) for c in cats)
        note = await self._changed(key)
        await ctx.reply(f"Content warning added to {link}: {names}.{note}", private=True)

    @command(
        "cw remove",
        "Remove a content warning from a thread (one category, or all)",
        Param("url", "A link to the thread (any of its posts)", kind="url"),
        Param("category", "Only this category", required=False, autocomplete="suggest_categories"),
        moderator=True,
        examples=("cw remove https://bsky.app/profile/alice.example/post/3kabc suicide",),
    )
    async def cw_remove(self, ctx: Context, url: str, category: str | None = None) -> None:
        cat = None
        if category is not None:
            cat = parse_category(category)
            if cat is None:
                raise UsageError(_unknown_category(category))
        key, link = await self.resolve(url)
        what = display_name(cat) if cat else "all categories"
        removed = await self.repo.remove_warnings(
            key, cat, self._action(ctx, "warning-removed", f"{link}: {what}")
        )
        if not removed:
            await ctx.reply(f"No moderator warning ({what}) is stored for {link}.", private=True)
            return
        note = await self._changed(key)
        await ctx.reply(f"Content warning removed from {link}: {what}.{note}", private=True)

    @command(
        "cw policy",
        "How this server shows content in a category: show, note, warn (spoiler) or hide",
        Param(
            "category",
            "A category: " + ", ".join(CATEGORY_IDS),
            autocomplete="suggest_categories",
        ),
        Param("action", "show | note | warn | hide", kind="choice", choices=ACTIONS),
        moderator=True,
        examples=("cw policy mental-health warn", "cw policy death-grief show"),
    )
    async def cw_policy(self, ctx: Context, category: str, action: Action) -> None:
        cat = parse_category(category)
        if cat is None:
            raise UsageError(_unknown_category(category))
        scope = ctx.room.scope
        await self.repo.set_action(
            scope, cat, action, self._action(ctx, "policy", f"{cat} -> {action}")
        )
        current = await self.policy(scope)
        self._policies[scope] = ScopePolicy({**current.actions, cat: action}, current.support_line)
        await ctx.reply(f"{display_name(cat).capitalize()}: {action} (this server).", private=True)

    @command(
        "cw support",
        "A support line shown with suicide and self-harm notes (your server's own text), or off",
        Param("text", "The line to show, or off", kind="rest"),
        moderator=True,
        examples=(
            "cw support If you need to talk, our #support channel is open.",
            "cw support off",
        ),
    )
    async def cw_support(self, ctx: Context, text: str) -> None:
        text = " ".join(text.split())
        line = None if text.lower() in ("off", "none", "") else text
        if line is not None and len(line) > MAX_SUPPORT_LINE:
            raise UsageError(
                f"The support line is too long (at most {MAX_SUPPORT_LINE} characters)."
            )
        scope = ctx.room.scope
        await self.repo.set_support_line(
            scope, line, self._action(ctx, "support", line if line is not None else "off")
        )
        current = await self.policy(scope)
        self._policies[scope] = ScopePolicy(current.actions, line)
        await ctx.reply(
            "Support line turned off." if line is None else f"Support line set: {line}",
            private=True,
        )

    @command(
        "cw list",
        "This server's content-note policies, stored thread warnings and recent actions",
        moderator=True,
    )
    async def cw_list(self, ctx: Context) -> None:
        scope = ctx.room.scope
        policy = await self.policy(scope)
        lines = ["Content-note policy (this server):"]
        for cat, action, default in policy.table():
            lines.append(f"  {cat}: {action}" + (" (default)" if default else ""))
        lines.append(f"Support line: {policy.support_line or 'off'}")
        warnings = await self.repo.recent_warnings(limit=15)
        lines.append("Thread warnings:" if warnings else "Thread warnings: none")
        lines.extend(_warning_line(w) for w in warnings)
        actions = await self.repo.recent_actions(scope, limit=10)
        lines.append("Recent actions:" if actions else "Recent actions: none")
        lines.extend(
            f"  {_when(a.at)} {a.user_name} ({a.user_id}) in {a.adapter}:{a.channel}: "
            f"{a.action} {a.detail}"
            for a in actions
        )
        await ctx.reply("\n".join(lines), private=True)


def _policy(settings: ScopeSettings) -> ScopePolicy:
    actions: dict[str, Action] = {}
    for cat, action in settings.actions.items():
        for known in ACTIONS:
            if action == known and cat in CATEGORY_IDS:
                actions[cat] = known
    return ScopePolicy(actions, settings.support_line)


def _split_categories(text: str) -> tuple[list[str], str]:
    """Leading category words ("suicide, sh") and the rest as the reason."""
    words = text.replace(",", " ").split()
    cats: list[str] = []
    i = 0
    while i < len(words):
        cat = parse_category(words[i])
        if cat is None and i + 1 < len(words):
            # Two-word names: "eating disorders", "mental health", "self harm".
            cat = parse_category(f"{words[i]} {words[i + 1]}")
            if cat is not None:
                i += 1
        if cat is None:
            break
        if cat not in cats:
            cats.append(cat)
        i += 1
    return cats, " ".join(words[i:])


def _unknown_category(word: str) -> str:
    known = ", ".join(c.id for c in CATEGORIES)
    return f"Unknown category {quoted(word)}. Categories: {known}."


def _warning_line(w: ThreadWarning) -> str:
    reason = f" ({w.reason})" if w.reason else ""
    return f"  {w.thread_url}: {w.category}{reason}, by {w.added_by} on {_when(w.added_at)}"
