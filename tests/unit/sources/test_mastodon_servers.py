"""Servers that are not Mastodon: GoToSocial needs an access token (configured per host,
read from an environment variable), and the author's statuses list is read the way each
server software fills it, so no self-reply is taken for absent (Pleroma lists no replies
under exclude_replies, GoToSocial drops self-replies that mention anyone)."""

from __future__ import annotations

import asyncio
import re

import pytest

from bot.assemble import assemble
from bot.config import mastodon_tokens, parse_config
from bot.errors import ConfigError, Refused
from bot.http import HttpClient
from bot.models import FetchedPosts
from bot.sources.mastodon import MastodonSource
from bot.sources.mastodon import software as software_module
from bot.sources.mastodon.software import ServerSoftware, SoftwareDirectory
from tests.fakes.base import Fault
from tests.fakes.mastodon_server import FakeMastodon, FakeStatus
from tests.fakes.misskey_server import FakeMisskey
from tests.fakes.replay_server import DATA_DIR, ReplaySet

TOKEN = "gts-read-token-0123456789"


async def unroll(source: MastodonSource, url: str) -> FetchedPosts:
    ref = source.parse(url)
    assert ref is not None
    return await source.fetch(ref, 500)


def mention(fake: FakeMastodon, st: FakeStatus, who: str) -> None:
    st.mentions = [{"id": "1", "username": who, "acct": who, "url": f"{fake.base_url}/@{who}"}]


# -- which software a server runs -----------------------------------------------------------


@pytest.mark.parametrize("software", ["mastodon", "pleroma", "akkoma", "gotosocial"])
async def test_software_is_read_once_per_host(http: HttpClient, software: str) -> None:
    async with FakeMastodon(software=software) as fake:
        directory = SoftwareDirectory(http)
        first, second = await asyncio.gather(
            directory.get(fake.base_url), directory.get(fake.base_url)
        )
        assert first.name == second.name == software
        asked = len(fake.requests)
        assert (await directory.get(fake.base_url)).name == software
        assert len(fake.requests) == asked <= 3  # cached; the two at once shared one look-up


async def test_a_server_that_cannot_be_asked_is_unknown(http: HttpClient) -> None:
    found = await SoftwareDirectory(http).get("http://127.0.0.1:9")  # nothing listens there
    # Unknown software: no conclusion rests on its list keeping self-replies.
    assert not found.known and not found.lists_self_replies


@pytest.mark.parametrize(
    ("path", "answer"),
    [
        ("/.well-known/nodeinfo", ["not", "an", "index"]),
        ("/.well-known/nodeinfo", {"links": "/nodeinfo/2.1"}),
        ("/.well-known/nodeinfo", {"links": [{"rel": 2.1, "href": "/nodeinfo/2.1"}]}),
        ("/.well-known/nodeinfo", {"links": [{"rel": "other", "href": "/nodeinfo/2.1"}]}),
        ("/nodeinfo/2.1", {"software": "misskey"}),
        ("/nodeinfo/2.1", {"software": {"name": "  ", "version": 3}}),
        ("/nodeinfo/2.1", "<html>maintenance</html>"),
    ],
)
async def test_malformed_nodeinfo_leaves_the_software_unknown(
    http: HttpClient, path: str, answer: object
) -> None:
    async with FakeMisskey() as server:  # no /api/v1/instance: NodeInfo alone tells
        assert (await SoftwareDirectory(http).get(server.base_url)).name == "misskey"
        server.inject(path, *[Fault(200, answer)] * 5)  # retries see it too
        found = await SoftwareDirectory(http).get(server.base_url)
        assert not found.known and not found.misskey_api and not found.lists_self_replies


async def test_a_server_that_could_not_be_told_is_asked_again_sooner(
    http: HttpClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with FakeMastodon(software="pleroma") as fake:
        directory = SoftwareDirectory(http)
        for path in ("/api/v1/instance", "/.well-known/nodeinfo"):
            fake.inject(path, Fault(404, {"error": "Not Found"}))
        assert not (await directory.get(fake.base_url)).known
        asked = len(fake.requests)
        assert not (await directory.get(fake.base_url)).known  # kept a while, not asked
        assert len(fake.requests) == asked
        monkeypatch.setattr(software_module, "UNKNOWN_TTL_S", 0.0)
        directory = SoftwareDirectory(http)
        for path in ("/api/v1/instance", "/.well-known/nodeinfo"):
            fake.inject(path, Fault(404, {"error": "Not Found"}))
        assert not (await directory.get(fake.base_url)).known
        # Past that while (a known answer is kept a day), the server is asked again.
        assert (await directory.get(fake.base_url)).name == "pleroma"


async def test_what_the_ids_prove_replaces_an_unknown_answer(http: HttpClient) -> None:
    async with FakeMastodon() as fake:
        st = fake.post(fake.account("rin"), "hello")
        for path in ("/api/v1/instance", "/.well-known/nodeinfo"):
            fake.inject(path, Fault(404, {"error": "Not Found"}))
        source = MastodonSource(http)
        assert not (await source.api.software.get(fake.base_url)).known
        await unroll(source, fake.link(st))  # a snowflake id: Mastodon
        assert source.api.software.cached(fake.base_url) == ServerSoftware("mastodon")


# -- GoToSocial: only signed-in apps ----------------------------------------------------------


async def test_gotosocial_without_a_token_says_how_to_add_one(http: HttpClient) -> None:
    async with FakeMastodon(software="gotosocial", id_style="flake", token=TOKEN) as fake:
        st = fake.post(fake.account("rin"), "hello")
        with pytest.raises(Refused) as err:
            await unroll(MastodonSource(http), fake.link(st))
        message = str(err.value)
        assert "runs GoToSocial, which answers only signed-in apps" in message
        assert "Unauthorized: token not supplied" in message
        assert f'tokens = {{ "{fake.host}" = "NAME_OF_ENV_VARIABLE" }}' in message


async def test_a_wrong_token_is_named_as_the_problem(http: HttpClient) -> None:
    async with FakeMastodon(software="gotosocial", id_style="flake", token=TOKEN) as fake:
        st = fake.post(fake.account("rin"), "hello")
        source = MastodonSource(http, tokens={fake.host: "stale"})
        with pytest.raises(Refused, match="refused the bot's access token"):
            await unroll(source, fake.link(st))


async def test_a_servers_long_refusal_is_quoted_cut_short(http: HttpClient) -> None:
    async with FakeMastodon() as fake:
        st = fake.post(fake.account("rin"), "hello")
        essay = "This resource requires an authenticated user. " + "Sign up! " * 5_000
        fake.inject(f"/api/v1/statuses/{st.id}", Fault(status=401, body={"error": essay}))
        with pytest.raises(Refused) as err:
            await unroll(MastodonSource(http), fake.link(st))
        message = str(err.value)
        assert "only shows posts to signed-in users (it answered 'This resource" in message
        assert len(message) < 400


async def test_gotosocial_thread_with_mentions_is_complete_with_a_token(http: HttpClient) -> None:
    async with FakeMastodon(
        latency_s=0.005, software="gotosocial", id_style="flake", token=TOKEN
    ) as fake:
        rin, kofi = fake.account("rin"), fake.account("kofi")
        posts = fake.thread(rin, 60, others=kofi, others_every=5)
        for st in posts[1::2]:
            mention(fake, st, "kofi")  # GoToSocial leaves these out under exclude_replies
        source = MastodonSource(http, tokens={fake.host: TOKEN})
        got = await unroll(source, fake.link(posts[0]))
        assert set(got.posts) == {fake.status_uri(s) for s in posts}
        assert len(assemble(got, 500).posts) == 60
        assert all(
            r.headers.get("Authorization") == f"Bearer {TOKEN}"
            for r in fake.requests
            if r.path.startswith("/api/v1/statuses") or r.path.startswith("/api/v1/accounts")
        )


async def test_pleroma_thread_is_complete_although_its_list_holds_no_replies(
    http: HttpClient,
) -> None:
    async with FakeMastodon(latency_s=0.005, software="pleroma", id_style="flake") as fake:
        rin, kofi = fake.account("rin"), fake.account("kofi")
        posts = fake.thread(rin, 150, others=kofi, others_every=5)
        got = await unroll(MastodonSource(http), fake.link(posts[0]))
        assert set(got.posts) == {fake.status_uri(s) for s in posts}
        assert len(assemble(got, 500).posts) == 150
        lists = [r for r in fake.requests if r.path.endswith("/statuses") and "accounts" in r.path]
        assert lists and all(("exclude_replies", "false") in r.query for r in lists)


async def test_subscriptions_on_pleroma_skip_replies_to_others(http: HttpClient) -> None:
    async with FakeMastodon(software="pleroma", id_style="flake") as fake:
        rin, kofi = fake.account("rin"), fake.account("kofi")
        first = fake.post(rin, "a new thread")
        fake.post(rin, "and its second post", reply_to=first)
        fake.post(rin, "a reply to kofi", reply_to=fake.post(kofi, "question"))
        source = MastodonSource(http, handle_scheme="http")
        author = await source.resolve_author(f"rin@{fake.host}")
        assert author is not None
        recent = await source.recent_posts(author, 10)
        assert sorted(p.text for p in recent.posts.values()) == [
            "a new thread",
            "and its second post",
        ]


# -- configuration -------------------------------------------------------------------------


def test_tokens_name_environment_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = parse_config('[sources.mastodon]\ntokens = { "gts.example.org" = "GTS_TOKEN" }\n')
    monkeypatch.setenv("GTS_TOKEN", TOKEN)
    assert mastodon_tokens(cfg.sources.mastodon) == {"gts.example.org": TOKEN}


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ('{ "https://gts.example.org" = "GTS_TOKEN" }', 'tokens."https://gts.example.org"'),
        ('{ "GTS.example.org" = "GTS_TOKEN" }', "host name in lower case"),
        ('{ "gts.example.org" = "abc.def-123" }', "not the token itself"),
        ('{ "gts.example.org" = 5 }', 'tokens."gts.example.org"'),
        ('"GTS_TOKEN"', "sources.mastodon.tokens: expected a table"),
    ],
)
def test_bad_tokens_name_the_key(value: str, message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        parse_config(f"[sources.mastodon]\ntokens = {value}\n")


def test_a_missing_token_variable_is_named_without_echoing_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pasted = "ZTK1MWMWZDGTMGMYMS0ZOTAXLTHMNZQTNGQXMZM2OGE0MDRL"
    monkeypatch.delenv(pasted, raising=False)
    cfg = parse_config(f'[sources.mastodon]\ntokens = {{ "gts.example.org" = "{pasted}" }}\n')
    with pytest.raises(ConfigError, match=re.escape('tokens."gts.example.org"')) as err:
        mastodon_tokens(cfg.sources.mastodon)
    assert pasted not in str(err.value)


# -- the recorded GoToSocial answers -----------------------------------------------------------


@pytest.mark.skipif(not DATA_DIR.is_dir(), reason=f"recordings not found at {DATA_DIR}")
async def test_recorded_gotosocial_reads_with_a_token(http: HttpClient) -> None:
    async with ReplaySet("gotosocial_401") as rs:
        status = rs.main.statuses["01F8MH75CBF9JFX4ZAD54N0W0R"]
        link = rs.local(status["url"])
        with pytest.raises(Refused, match="token not supplied"):
            await unroll(MastodonSource(http), link)
        rs.main.token = TOKEN
        source = MastodonSource(http, tokens={rs.main.base_url.split("://", 1)[1]: TOKEN})
        thread = assemble(await unroll(source, link), 500)
        assert thread.posts[0].id == rs.local(status["uri"])


async def test_the_token_does_not_follow_a_redirect_to_another_host(http: HttpClient) -> None:
    async with (
        FakeMastodon(software="gotosocial", id_style="flake", token=TOKEN) as home,
        FakeMastodon() as elsewhere,
    ):
        st = elsewhere.post(elsewhere.account("rin"), "moved here")
        path = f"/api/v1/statuses/{st.id}"
        home.inject(path, Fault(status=301, headers={"Location": elsewhere.base_url + path}))
        source = MastodonSource(http, tokens={home.host: TOKEN})
        got = await source.api.status(home.base_url, st.id)
        assert got["id"] == st.id
        assert [r.headers.get("Authorization") for r in home.requests] == [f"Bearer {TOKEN}"]
        assert elsewhere.requests and all(
            "Authorization" not in r.headers for r in elsewhere.requests
        )


@pytest.mark.skipif(not DATA_DIR.is_dir(), reason=f"recordings not found at {DATA_DIR}")
async def test_recorded_pleroma_list_is_read_with_its_replies(http: HttpClient) -> None:
    async with ReplaySet("pleroma_2019") as rs:
        source = MastodonSource(http)
        base = rs.main.base_url
        assert (await source.api.software.get(base)).name == "pleroma"
        page = await source.api.account_statuses(base, "1")
        # Pleroma drops every reply under exclude_replies; the bot asks without it.
        asked = [r for r in rs.main.requests if r.path == "/api/v1/accounts/1/statuses"]
        assert asked and ("exclude_replies", "false") in asked[0].query
        assert any(s["in_reply_to_id"] for s in page.statuses)
