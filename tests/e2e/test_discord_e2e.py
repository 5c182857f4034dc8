"""End to end through the real discord.py against the fake Discord (tests/fakes).

The whole app runs: dispatcher, unroll and content-notes features, unroller, storage,
delivery. Upstream is a small in-process source so these tests are about Discord behaviour;
a small extra feature (a mixed "tag" group with autocomplete, a slow command) covers what the
real features do not declare.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import signal
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from bot.adapters.discord.adapter import DiscordAdapter, build
from bot.app import App
from bot.commands import Cog, Param, command
from bot.config import parse_config
from bot.context import Context, Room
from bot.errors import ConfigError
from bot.models import Author, ContentNote, FetchedPosts, Media, Post, PostRef
from bot.render.thread_view import NoteDecision, default_decide
from tests.fakes.discord_bot import connected
from tests.fakes.discord_server import (
    EPHEMERAL,
    MANAGE_MESSAGES,
    FakeDiscord,
    InteractionRecord,
)

LINK = re.compile(r"https://posts\.example/(\w+)/(\d+)")
AUTHOR = Author("fake:alice", "alice", "Alice", "https://posts.example/alice")


class FakeSource:
    """Threads of numbered posts at https://posts.example/<user>/<id>."""

    name = "fake"

    def __init__(self) -> None:
        self.threads: dict[str, list[Post]] = {}
        self.fetches = 0
        self.delay_s = 0.0

    def add(self, thread_id: str, texts: Sequence[str], media: bool = False) -> str:
        posts = []
        for i, text in enumerate(texts):
            pid = f"{thread_id}{i:03d}"
            posts.append(
                Post(
                    id=pid,
                    url=f"https://posts.example/alice/{pid}",
                    author=AUTHOR,
                    created_at=f"2024-01-01T00:{i // 60:02d}:{i % 60:02d}Z",
                    text=text,
                    parent_id=posts[-1].id if posts else None,
                    root_id=f"{thread_id}000",
                    media=(Media("image", f"https://img.example/{pid}.png", "a cat on a mat"),)
                    if media and i == 0
                    else (),
                )
            )
        self.threads[thread_id] = posts
        return posts[0].url

    def parse(self, url: str) -> PostRef | None:
        m = LINK.fullmatch(url)
        return PostRef("fake", url, (m.group(1), m.group(2))) if m else None

    async def fetch(self, ref: PostRef, max_posts: int) -> FetchedPosts:
        self.fetches += 1
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        pid = ref.key[1]
        posts = next(p for p in self.threads.values() if any(x.id == pid for x in p))
        return FetchedPosts("fake", pid, {p.id: p for p in posts})


@dataclass
class TagCog(Cog):
    """A small feature with a mixed group (one moderator subcommand), autocomplete and a
    slow command; content warnings come from the real content-notes feature."""

    calls: list[dict[str, Any]] = field(default_factory=list)

    def labels(self, current: str) -> list[tuple[str, str]]:
        # Plain and context-free is fine too; (shown, value) pairs or plain strings.
        return [(c, c) for c in ("art", "assistive", "science") if c.startswith(current)]

    @command(
        "tag add",
        "Tag a thread",
        Param("url", "A link to the thread", kind="url"),
        Param("label", "The tag", autocomplete="labels"),
        moderator=True,
    )
    async def tag_add(self, ctx: Context, url: str, label: str) -> None:
        self.calls.append({"url": url, "label": label})
        await ctx.reply(f"Tagged {label}.", private=True)

    @command(
        "tag suggest",
        "Suggest a tag for a thread",
        Param("url", "A link to the thread", kind="url"),
        Param("kind", "What kind of thread", kind="choice", choices=("art", "science")),
        Param("note", "Anything to add", required=False),
        context_menu="Suggest a tag",
    )
    async def tag_suggest(self, ctx: Context, url: str, kind: str, note: str | None) -> None:
        self.calls.append({"url": url, "kind": kind, "note": note})
        await ctx.reply(f"Suggested {kind}.", private=True)

    @command("tag show", "Show the tags")
    async def tag_show(self, ctx: Context) -> None:
        await ctx.reply("No tags.", private=True)

    @command("Bad Name", "Discord refuses capitals and spaces in command names")
    async def bad(self, ctx: Context) -> None:
        await ctx.reply("unreachable on Discord", private=True)

    @command("slow", "Takes a while before answering")
    async def slow(self, ctx: Context) -> None:
        await asyncio.sleep(0.3)
        await ctx.reply("finally", private=True)


@dataclass
class Harness:
    fake: FakeDiscord
    app: App
    adapter: DiscordAdapter
    source: FakeSource
    tags: TagCog

    async def unroll(
        self, url: str, member: dict[str, Any] | None = None, **opts: Any
    ) -> InteractionRecord:
        rec = await self.fake.slash("unroll", member, url=url, **opts)
        await self.settled(rec)
        return rec

    async def settled(self, rec: InteractionRecord) -> None:
        """Wait for the command's handler to finish (the adapter tracks running commands)."""
        await self.fake.wait_acknowledged(rec)
        await asyncio.sleep(0)
        await self.adapter.binder.drain(5.0)

    def channel_posts(self) -> list[dict[str, Any]]:
        return self.fake.channel_messages(self.fake.channel_id)


@pytest.fixture
async def bot(tmp_path: Path) -> AsyncIterator[Harness]:
    async with FakeDiscord() as fake:
        # Discord's 5 messages per 5 s per channel, scaled down: these tests are about
        # behaviour, not waiting (the benchmark runs the real bucket).
        fake.message_bucket = (5, 0.25)
        config = parse_config(f'[storage]\npath = "{tmp_path / "bot.sqlite3"}"\n')
        source = FakeSource()
        app = await App.create(config, sources=[source], extensions=["cogs.content_notes"])
        # These tests pin one chat message per post: the per-post layout, chosen explicitly.
        app.layouts.default = "per-post"
        tags = TagCog()
        app.dispatcher.register(tags)
        try:
            async with connected(
                app, fake, test_guild_ids=[int(fake.guild_id)], ack_after_s=0.15
            ) as adapter:
                # What App.run does with its adapters (signals are tested separately).
                app.adapters[adapter.name] = adapter
                await app.start_cogs()
                await asyncio.wait_for(adapter.synced.wait(), 5)
                yield Harness(fake, app, adapter, source, tags)
        finally:
            await app.close()
        assert fake.unknown == [], [(c.method, c.path) for c in fake.unknown]


def shown(content: str) -> str:
    """Message text as Discord displays it (markdown escapes removed)."""
    return re.sub(r"\\(.)", r"\1", content)


def _all_bodies(fake: FakeDiscord) -> list[dict[str, Any]]:
    return [b for b in fake.sent_payloads() if isinstance(b, dict)]


async def test_login_sync_and_command_schema(bot: Harness) -> None:
    fake = bot.fake
    assert fake.identifies == 1
    intents = next(iter(fake.sessions.values())).intents
    assert intents & (1 << 15) == 0 and intents & (1 << 1) == 0  # no privileged intents
    (sync,) = fake.calls_to("PUT", "/applications/{app_id}/guilds/{guild_id}/commands")
    by_name = {(c["name"], c.get("type", 1)): c for c in sync.json}

    unroll = by_name[("unroll", 1)]
    options = {o["name"]: o for o in unroll["options"]}
    assert options["url"]["type"] == 3 and options["url"]["required"] is True
    assert options["private"]["type"] == 5 and not options["private"].get("required")
    assert all(1 <= len(o["description"]) <= 100 for o in unroll["options"])
    assert unroll["default_member_permissions"] is None
    assert unroll["contexts"] == [0] and unroll["dm_permission"] is False  # servers only

    cw = by_name[("cw", 1)]
    subs = {o["name"]: o for o in cw["options"]}
    assert {"add", "remove", "policy", "list"} <= set(subs)
    assert all(o["type"] == 1 for o in subs.values())
    policy = {o["name"]: o for o in subs["policy"]["options"]}
    assert [c["value"] for c in policy["action"]["choices"]] == ["show", "note", "warn", "hide"]
    # Every cw subcommand is for moderators, so the group is hidden from members.
    assert int(cw["default_member_permissions"]) == MANAGE_MESSAGES

    layout = by_name[("layout", 1)]
    [choice] = layout["options"]
    assert [c["value"] for c in choice["choices"]] == ["packed", "per-post"]
    assert not choice.get("required") and int(layout["default_member_permissions"]) == (
        MANAGE_MESSAGES
    )

    tag = by_name[("tag", 1)]
    # A mixed group stays visible; its moderator subcommand is checked at run time.
    assert tag["default_member_permissions"] is None
    tag_add = {
        o["name"]: o for o in next(o for o in tag["options"] if o["name"] == "add")["options"]
    }
    assert tag_add["label"]["autocomplete"] is True

    menu = by_name[("Unroll thread", 3)]
    assert menu.get("description", "") == "" and menu["default_member_permissions"] is None
    cw_menu = by_name[("Apply content warning", 3)]
    assert int(cw_menu["default_member_permissions"]) == MANAGE_MESSAGES
    assert ("help", 1) in by_name and ("slow", 1) in by_name
    # A declaration Discord cannot take is left out; everything else is offered.
    assert not any(name.lower().startswith("bad") for name, _ in by_name)


async def test_unroll_posts_header_then_thread_in_order(bot: Harness) -> None:
    texts = [f"post number {i} of the thread" for i in range(1, 8)]
    url = bot.source.add("100", texts, media=True)
    rec = await bot.unroll(url)

    assert rec.callback is not None and rec.callback_at is not None
    assert rec.callback_at - rec.created < 3.0
    assert rec.callback_type == 5 and rec.ephemeral  # progress is for the caller only

    (header,) = bot.channel_posts()[-1:]
    assert "Thread by Alice (@alice)" in shown(header["content"]) and "7 posts" in header["content"]
    assert url in header["content"]
    (create,) = bot.fake.calls_to("POST", "/channels/{channel_id}/messages/{message_id}/threads")
    assert create.path.endswith(f"/messages/{header['id']}/threads")
    assert 1 <= len(create.json["name"]) <= 100 and create.json["auto_archive_duration"] == 1440

    thread_id = header["id"]
    posts = bot.fake.channel_messages(thread_id)
    assert len(posts) == 7
    for i, (msg, text) in enumerate(zip(posts, texts, strict=True), start=1):
        assert f"{i}/7" in msg["content"] and text in shown(msg["content"])
    assert "a cat on a mat" in posts[0]["content"] and "https://img.example/" in posts[0]["content"]
    # The caller's private status ends with a link to the Discord thread.
    assert rec.original is not None
    assert (
        f"https://discord.com/channels/{bot.fake.guild_id}/{thread_id}" in rec.original["content"]
    )
    assert not rec.original["flags"] & (1 << 7)  # no longer "thinking"


async def test_long_posts_are_chunked_under_the_limit_without_breaking_words(bot: Harness) -> None:
    words = [f"word{i:04d}" for i in range(700)]
    long_text = " ".join(words) + " https://example.org/a/very/long/link/that/must/stay/whole"
    url = bot.source.add("200", ["intro", long_text])
    await bot.unroll(url)
    header = bot.channel_posts()[-1]
    posts = bot.fake.channel_messages(header["id"])
    assert len(posts) >= 4  # intro + the long post in several chunks
    for msg in posts:
        assert len(msg["content"]) <= 2000
    joined = " ".join(m["content"] for m in posts[1:])
    found = re.findall(r"word\d{4}", joined)
    assert found == words  # every word once, in order, none split
    assert "https://example.org/a/very/long/link/that/must/stay/whole" in joined


async def test_nothing_sent_can_ping_and_markdown_shows_as_written(bot: Harness) -> None:
    url = bot.source.add("300", ["hey @everyone and <@123456789> look **here** _now_"])
    await bot.unroll(url)
    bodies = _all_bodies(bot.fake)
    assert bodies
    for body in bodies:
        assert body.get("allowed_mentions", {}).get("parse") == [], body
        assert bot.fake.would_ping(body) == []
    post = bot.fake.channel_messages(bot.channel_posts()[-1]["id"])[0]["content"]
    assert "\\*\\*here\\*\\*" in post and "\\_now\\_" in post


async def test_content_warning_policy_wraps_each_chunk_in_a_spoiler(bot: Harness) -> None:
    def warn(notes: Sequence[ContentNote]) -> NoteDecision:
        return (
            NoteDecision("warn", "Content warning: self-harm") if notes else default_decide(notes)
        )

    async def provider(scope: str | None) -> Any:
        return warn

    bot.app.decision_provider = provider
    note = ContentNote("self-harm", "author", "self-harm")
    url = bot.source.add("400", ["fine", " ".join(["heavy"] * 500)])
    posts = bot.source.threads["400"]
    bot.source.threads["400"] = [posts[0], Post(**{**posts[1].__dict__, "content_notes": (note,)})]
    await bot.unroll(url)
    msgs = bot.fake.channel_messages(bot.channel_posts()[-1]["id"])
    assert "||" not in msgs[0]["content"]
    warned = msgs[1:]
    assert len(warned) >= 2
    # The post's number stays readable, then the reason, then the spoiler.
    assert shown(warned[0]["content"]).startswith("**2/2**\n-# ⚠️ Content warning: self-harm")
    spoilered = 0
    for msg in warned:
        assert len(msg["content"]) <= 2000
        # Outside the number and the note line, everything sits in this message's spoiler.
        lines = msg["content"].split("\n")
        body = "\n".join(x for x in lines if not x.startswith(("-# ", "**2/2**")))
        if body:
            assert body.startswith("||") and body.endswith("||") and body.count("||") == 2
            assert "heavy" in body
            spoilered += 1
    assert spoilered >= 2


async def test_errors_are_short_and_ephemeral(bot: Harness) -> None:
    rec = await bot.unroll("https://unknown.example/whatever")
    assert rec.callback_type == 4 and rec.ephemeral
    assert "Unsupported link" in rec.callback["data"]["content"]  # type: ignore[index]
    assert bot.channel_posts() == []


async def test_private_unroll_is_only_for_the_caller(bot: Harness) -> None:
    url = bot.source.add("450", ["one", "two"])
    rec = await bot.unroll(url, private=True)
    assert bot.channel_posts() == []
    assert bot.fake.calls_to("POST", "/channels/{channel_id}/messages/{message_id}/threads") == []
    answers = [rec.original, *rec.followups]
    assert all(m is not None and m["flags"] & EPHEMERAL for m in answers)
    assert any("one" in t for t in rec.texts()) and any("two" in t for t in rec.texts())


async def test_moderator_commands_refuse_members_without_manage_messages(bot: Harness) -> None:
    url = bot.source.add("500", ["a"])
    member = bot.fake.new_user("member")
    # Server admins can let members see moderator commands; the bot checks again.
    for name, opts in (("cw add", {"url": url, "categories": "violence"}), ("cw list", {})):
        rec = await bot.fake.slash(name, member, **opts)
        await bot.settled(rec)
        assert rec.ephemeral and "Only moderators" in rec.callback["data"]["content"]  # type: ignore[index]
    rec = await bot.fake.slash("tag add", member, url=url, label="art")
    await bot.settled(rec)
    assert rec.ephemeral and bot.tags.calls == []

    mod = bot.fake.new_user("mod", moderator=True)
    rec = await bot.fake.slash("tag add", mod, url=url, label="art")
    await bot.settled(rec)
    assert bot.tags.calls == [{"url": url, "label": "art"}]
    rec = await bot.fake.slash("cw add", mod, url=url, categories="suicide")
    await bot.settled(rec)
    assert "Content warning added" in rec.callback["data"]["content"]  # type: ignore[index]


async def test_autocomplete_offers_the_cogs_suggestions(bot: Harness) -> None:
    mod = bot.fake.new_user("mod", moderator=True)
    rec = await bot.fake.autocomplete("tag add", "label", mod, url="x", label="a")
    await bot.fake.wait_acknowledged(rec)
    assert rec.callback == {
        "type": 8,
        "data": {
            "choices": [
                {"name": "art", "value": "art"},
                {"name": "assistive", "value": "assistive"},
            ]
        },
    }


async def test_apply_content_warning_menu_opens_a_modal_and_edits_in_place(bot: Harness) -> None:
    url = bot.source.add("600", ["calm start", "the difficult part"])
    await bot.unroll(url)
    header = bot.channel_posts()[-1]
    before = [m["content"] for m in bot.fake.channel_messages(header["id"])]
    count_before = len(bot.fake.messages)

    mod = bot.fake.new_user("mod", moderator=True)
    # On one of the posts inside the Discord thread (the header works the same way).
    post = bot.fake.channel_messages(header["id"])[1]
    menu = await bot.fake.context_menu("Apply content warning", post, mod)
    await bot.fake.wait_acknowledged(menu)
    assert menu.callback_type == 9
    fields = re.findall(r"'custom_id': '(\w+)'", str(menu.callback["data"]["components"]))  # type: ignore[index]
    assert fields == ["categories", "reason"]

    submit = await bot.fake.modal_submit(menu, {"categories": "self-harm", "reason": ""})
    await bot.settled(submit)
    assert submit.ephemeral
    assert "Content warning added" in " ".join(submit.texts())
    edits = bot.fake.calls_to("PATCH", "/channels/{channel_id}/messages/{message_id}")
    assert len(edits) == 3  # header and both posts, in place
    header_after = bot.fake.messages[header["id"]]["content"]
    assert "self-harm" in shown(header_after)
    after = [m["content"] for m in bot.fake.channel_messages(header["id"])]
    assert len(bot.fake.messages) == count_before + 1  # only the modal's private answer is new
    for old, new in zip(before, after, strict=True):
        # Self-harm is spoilered by default; the thread's note is in the header, once.
        assert new != old and new.count("||") == 2 and "self-harm" not in new


async def test_apply_content_warning_is_refused_to_members(bot: Harness) -> None:
    url = bot.source.add("650", ["x"])
    await bot.unroll(url)
    header = bot.channel_posts()[-1]
    menu = await bot.fake.context_menu("Apply content warning", header, bot.fake.new_user("m"))
    await bot.fake.wait_acknowledged(menu)
    assert menu.callback_type == 4 and menu.ephemeral
    assert "Only moderators" in menu.callback["data"]["content"]  # type: ignore[index]

    # Moderators use it on what the bot posted, not on other people's messages.
    mod = bot.fake.new_user("mod", moderator=True)
    theirs = await bot.fake.user_message(mod, f"see {url}")
    menu = await bot.fake.context_menu("Apply content warning", theirs, mod)
    await bot.fake.wait_acknowledged(menu)
    assert menu.callback_type == 4 and menu.ephemeral
    assert "a message the bot posted" in menu.callback["data"]["content"]  # type: ignore[index]
    assert bot.fake.calls_to("PATCH", "/channels/{channel_id}/messages/{message_id}") == []


async def test_unroll_thread_menu_uses_the_first_supported_link(bot: Harness) -> None:
    url = bot.source.add("700", ["one", "two"])
    person = bot.fake.new_user("person")
    msg = await bot.fake.user_message(person, f"look https://other.example/x and {url} wow")
    rec = await bot.fake.context_menu("Unroll thread", msg, person)
    await bot.settled(rec)
    assert bot.source.fetches == 1
    header = bot.channel_posts()[-1]
    assert header["author"]["id"] == bot.fake.application_id and url in header["content"]
    assert len(bot.fake.channel_messages(header["id"])) == 2

    # A link copied with the end of its sentence is the same link.
    other = bot.source.add("701", ["three", "four"])
    sentence = await bot.fake.user_message(person, f"Read this thread: {other}.")
    rec = await bot.fake.context_menu("Unroll thread", sentence, person)
    await bot.settled(rec)
    assert bot.source.fetches == 2
    header = bot.channel_posts()[-1]
    assert other in header["content"] and f"{other}." not in header["content"]

    no_link = await bot.fake.user_message(person, "nothing to see")
    rec = await bot.fake.context_menu("Unroll thread", no_link, person)
    await bot.settled(rec)
    assert rec.ephemeral and "no link" in rec.callback["data"]["content"]  # type: ignore[index]


async def test_unrolling_again_links_to_the_existing_thread(bot: Harness) -> None:
    url = bot.source.add("800", ["a", "b", "c"])
    await bot.unroll(url)
    threads = bot.fake.calls_to("POST", "/channels/{channel_id}/messages/{message_id}/threads")
    posted = len(bot.fake.messages)
    header = bot.channel_posts()[-1]

    again = await bot.unroll(bot.source.threads["800"][1].url)  # another post of the thread
    assert (
        bot.fake.calls_to("POST", "/channels/{channel_id}/messages/{message_id}/threads") == threads
    )
    link = f"https://discord.com/channels/{bot.fake.guild_id}/{header['id']}"
    assert any(link in t for t in again.texts())
    # Only the short answer is new: no header, no posts.
    assert len(bot.fake.messages) - posted <= 2


async def test_slow_handler_is_acknowledged_before_the_deadline(bot: Harness) -> None:
    rec = await bot.fake.slash("slow")
    await bot.settled(rec)
    assert rec.callback_type == 5  # deferred by the watchdog
    assert rec.callback_at is not None and rec.callback_at - rec.created < 3.0
    assert rec.original is not None and rec.original["content"] == "finally"


async def test_late_interaction_is_logged_not_fatal(
    bot: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        # The event reaches the bot after Discord's 3-second deadline passed.
        rec = await bot.fake.slash("help", late_by_s=5)
        await bot.settled(rec)
    assert rec.late_callback and rec.callback is None
    assert "gone" in caplog.text
    ok = await bot.fake.slash("help")
    await bot.settled(ok)
    assert ok.callback_type == 4 and "unroll" in ok.callback["data"]["content"]  # type: ignore[index]


async def test_reconnect_resumes_the_session_and_keeps_working(bot: Harness) -> None:
    fake = bot.fake
    session = next(iter(fake.sessions.values()))
    await fake.drop_gateway()
    # An event sent while the socket is down is replayed on RESUME.
    url = bot.source.add("900", ["after the blip"])
    rec = await fake.slash("unroll", url=url)
    await fake.wait_for(lambda: fake.resumes != [], 5)
    await bot.settled(rec)
    assert fake.identifies == 1 and fake.resumes == ["/resume"]
    assert session.socket is not None
    assert bot.fake.channel_messages(bot.channel_posts()[-1]["id"])[0]["content"].endswith(
        "after the blip"
    )
    await fake.send_reconnect()
    await fake.wait_for(lambda: len(fake.resumes) == 2, 5)
    assert fake.identifies == 1


async def test_shutdown_waits_for_a_running_command(bot: Harness) -> None:
    url = bot.source.add("950", ["one", "two", "three"])
    bot.source.delay_s = 0.2
    rec = await bot.fake.slash("unroll", url=url)
    await bot.fake.wait_acknowledged(rec)
    await bot.adapter.close()
    assert len(bot.fake.channel_messages(bot.channel_posts()[-1]["id"])) == 3


async def test_sigterm_stops_cleanly_after_running_work(tmp_path: Path) -> None:
    async with FakeDiscord() as fake:
        config = parse_config(f'[storage]\npath = "{tmp_path / "bot.sqlite3"}"\n')
        source = FakeSource()
        source.delay_s = 0.2
        app = await App.create(config, sources=[source], extensions=[])
        adapter = DiscordAdapter(
            app,
            fake.token,
            api_base_url=fake.rest_base,  # a full /api/v10 base works as well
            gateway_url=fake.gateway_url,
            guild_ready_timeout=0.05,
        )
        running = asyncio.create_task(app.run([adapter]))
        await asyncio.wait_for(adapter.ready.wait(), 5)
        # Without test servers the commands are registered globally.
        assert fake.calls_to("PUT", "/applications/{app_id}/commands")
        url = source.add("990", ["one", "two"])
        rec = await fake.slash("unroll", url=url)
        await fake.wait_acknowledged(rec)
        os.kill(os.getpid(), signal.SIGTERM)
        await asyncio.wait_for(running, 10)
        await app.close()
        header = fake.channel_messages(fake.channel_id)[-1]
        # The unroll finished first: both posts are in the thread (packed in one message).
        [packed] = fake.channel_messages(header["id"])
        assert "one" in packed["content"] and "two" in packed["content"]
        assert not fake.connected and adapter.client.is_closed()
        assert fake.unknown == []


def test_missing_token_names_the_variable(tmp_path: Path) -> None:
    config = parse_config('[discord]\nenabled = true\ntoken_env = "MY_BOT_TOKEN"\n')

    class _App:
        pass

    fake_app: Any = _App()
    fake_app.config = config
    with pytest.raises(ConfigError, match="MY_BOT_TOKEN"):
        build(fake_app, env={})


async def test_unroll_inside_a_thread_keeps_everything_in_that_thread(bot: Harness) -> None:
    first = bot.source.add("1000", ["outer"])
    await bot.unroll(first)
    thread_id = bot.channel_posts()[-1]["id"]
    threads_before = len(bot.fake.threads)

    url = bot.source.add("1001", ["inner one", "inner two"])
    rec = await bot.fake.slash("unroll", channel_id=thread_id, url=url)
    await bot.settled(rec)
    assert len(bot.fake.threads) == threads_before  # threads do not nest
    inside = [shown(m["content"]) for m in bot.fake.channel_messages(thread_id)]
    assert "Thread by Alice" in inside[-3] and "inner one" in inside[-2]
    assert "inner two" in inside[-1]


async def test_a_repeated_send_key_posts_once(bot: Harness) -> None:
    from bot.render.document import Message as Doc
    from bot.render.document import para

    room = Room("discord", bot.fake.guild_id, bot.fake.channel_id)
    message = Doc((para("x " * 1500),))  # two chunks
    first = await bot.adapter.send(room, message, key="unrollbot-7-3")
    again = await bot.adapter.send(room, message, key="unrollbot-7-3")  # e.g. after a restart
    assert len(first) == 2 and first == again
    assert len(bot.channel_posts()) == 2


async def test_edit_in_place_grows_and_shrinks(bot: Harness) -> None:
    from bot.render.document import Message as Doc
    from bot.render.document import para

    room = Room("discord", bot.fake.guild_id, bot.fake.channel_id)
    refs = await bot.adapter.send(room, Doc((para("short"),)))
    grown = await bot.adapter.edit(refs, Doc((para("y " * 1500),)))
    assert len(grown) == 2 and grown[0] == refs[0]
    contents = [m["content"] for m in bot.channel_posts()]
    assert len(contents) == 2 and all(len(c) <= 2000 for c in contents)
    assert sum(c.split().count("y") for c in contents) == 1500
    shrunk = await bot.adapter.edit(grown, Doc((para("short again"),)))
    assert shrunk == grown
    contents = [m["content"] for m in bot.channel_posts()]
    assert contents[0] == "short again" and contents[1].startswith("-#")


async def test_rate_limited_post_is_retried_not_lost(bot: Harness) -> None:
    bot.fake.rate_limit(f"/api/v10/channels/{bot.fake.channel_id}/messages", 0.05)
    url = bot.source.add("1100", ["only post"])
    await bot.unroll(url)
    limited = [r for r in bot.fake.requests if r.path.endswith(f"{bot.fake.channel_id}/messages")]
    assert len(limited) == 2  # the 429, then the retry
    assert len(bot.channel_posts()) == 1
    assert len(bot.fake.channel_messages(bot.channel_posts()[0]["id"])) == 1


async def test_missing_thread_permission_gets_an_actionable_answer(bot: Harness) -> None:
    bot.fake.forbidden.add(("POST", "/channels/{channel_id}/messages/{message_id}/threads"))
    url = bot.source.add("1200", ["a", "b"])
    rec = await bot.unroll(url)
    answer = " ".join(rec.texts())
    assert "Create Public Threads" in shown(answer) and rec.ephemeral
    assert len(bot.channel_posts()) == 1  # the header only; no wall of posts in the channel


async def test_a_refused_token_is_a_clear_error(tmp_path: Path) -> None:
    async with FakeDiscord() as fake:
        config = parse_config(f'[storage]\npath = "{tmp_path / "bot.sqlite3"}"\n')
        app = await App.create(config, sources=[], extensions=[])
        adapter = DiscordAdapter(
            app, "wrong-token", api_base_url=fake.base_url, gateway_url=fake.gateway_url
        )
        with pytest.raises(ConfigError, match="refused the bot token"):
            await asyncio.wait_for(adapter.run(), 5)
        await app.close()


async def test_a_modal_asks_choices_with_a_select_and_text_with_a_field(bot: Harness) -> None:
    url = bot.source.add("1300", ["a"])
    person = bot.fake.new_user("person")
    msg = await bot.fake.user_message(person, f"what is this? {url}")
    menu = await bot.fake.context_menu("Suggest a tag", msg, person)
    await bot.fake.wait_acknowledged(menu)
    assert menu.callback_type == 9
    components = menu.callback["data"]["components"]  # type: ignore[index]
    label, row = components
    assert label["type"] == 18 and label["component"]["type"] == 3  # a select in a label
    assert [o["value"] for o in label["component"]["options"]] == ["art", "science"]
    assert row["type"] == 1 and row["components"][0]["type"] == 4  # a text input
    assert row["components"][0]["required"] is False

    submit = await bot.fake.modal_submit(menu, {"kind": ["science"], "note": "  "})
    await bot.settled(submit)
    assert bot.tags.calls == [{"url": url, "kind": "science", "note": None}]
    assert submit.ephemeral and "Suggested science" in " ".join(submit.texts())


async def test_twenty_simultaneous_unrolls_are_all_acknowledged_in_time(bot: Harness) -> None:
    urls = [bot.source.add(f"2{i:03d}", [f"t{i} a", f"t{i} b", f"t{i} c"]) for i in range(20)]
    bot.source.delay_s = 0.05
    recs = [await bot.fake.slash("unroll", url=u) for u in urls]
    for rec in recs:
        await bot.fake.wait_acknowledged(rec)
    await asyncio.sleep(0)
    await bot.adapter.binder.drain(10)
    worst = max(r.callback_at - r.created for r in recs)  # type: ignore[operator]
    assert worst < 1.0, worst
    print(f"\nworst acknowledgement of 20 at once: {worst * 1000:.0f} ms")
    headers = bot.channel_posts()
    assert len(headers) == 20 and len(bot.fake.threads) == 20
    for header in headers:
        posts = [m["content"] for m in bot.fake.channel_messages(header["id"])]
        tag = re.search(r"t\d+", posts[0]).group(0)  # type: ignore[union-attr]
        assert [p.rsplit(" ", 1)[-1] for p in posts] == ["a", "b", "c"]
        assert all(tag in p for p in posts)


async def test_content_warning_categories_autocomplete(bot: Harness) -> None:
    mod = bot.fake.new_user("mod", moderator=True)
    rec = await bot.fake.autocomplete("cw policy", "category", mod, category="s")
    await bot.fake.wait_acknowledged(rec)
    names = [c["value"] for c in rec.callback["data"]["choices"]]  # type: ignore[index]
    assert names == ["suicide", "self-harm", "sexual-violence", "substance-use"]


async def test_layout_slash_command_switches_this_server_to_per_post(bot: Harness) -> None:
    url = bot.source.add("3100", ["first", "second", "third"])
    member = bot.fake.new_user("member")
    refused = await bot.fake.slash("layout", member, layout="per-post")
    await bot.settled(refused)
    assert "moderator" in " ".join(refused.texts()).lower()
    mod = bot.fake.new_user("mod", moderator=True)
    bot.app.layouts.default = "packed"  # as a fresh server has it
    rec = await bot.fake.slash("layout", mod, layout="per-post")
    await bot.settled(rec)
    assert rec.ephemeral and "Layout set to per-post" in " ".join(rec.texts())
    await bot.unroll(url)
    header = bot.channel_posts()[-1]
    assert len(bot.fake.channel_messages(header["id"])) == 3  # one message per post
