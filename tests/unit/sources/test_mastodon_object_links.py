"""Links real servers hand out that name an ActivityPub object, not a status id: Pleroma /
Akkoma ``/objects/<uuid>``, Friendica ``/display/<guid>`` (found through the object and the
server's search, then unrolled as usual) and Misskey-family ``/notes/<id>`` (no Mastodon
API: read from ActivityPub alone). Links that lead to nothing usable say why."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.assemble import assemble
from bot.errors import NotFound, Refused, UpstreamUnavailable, UserError
from bot.http import HttpClient
from bot.models import ContentNote, FetchedPosts
from bot.sources import SourceRegistry
from bot.sources.mastodon import MastodonSource
from tests.fakes.base import Fault
from tests.fakes.mastodon_server import FakeMastodon
from tests.fakes.misskey_server import FakeMisskey
from tests.fakes.replay_server import DATA_DIR, load_recording


async def unroll(source: MastodonSource, url: str) -> FetchedPosts:
    ref = source.parse(url)
    assert ref is not None, url
    return await source.fetch(ref, 500)


@pytest.fixture
async def misskey() -> AsyncIterator[FakeMisskey]:
    async with FakeMisskey() as server:
        yield server


# -- which links are posts ------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "https://akkoma.example/objects/6634d32b-96a8-4852-a3db-ac8730715779",
        "https://misskey.example/notes/9w4ab1c2d3",
        "https://sharkey.example/notes/a1b2c3d4e5f6g7h8",
        # An aid whose time (2025-08) and counter came out as letters only.
        "https://misskey.example/notes/abkwzqejbc",
        "https://friendica.example/display/e8bd3d0b-1764-8f4e-6f2b-3c9451f7c5e4",
    ],
)
def test_object_links_are_post_links(url: str) -> None:
    registry = SourceRegistry([MastodonSource(HttpClient())])
    source, ref = registry.parse(url)
    assert source.name == "mastodon" and ref.url == url
    assert registry.find_links(f"look: {url}.") == [url]


@pytest.mark.parametrize(
    "url",
    [
        "https://blog.example/notes/on-writing",  # an ordinary site's page
        "https://blog.example/notes/background",  # a word read as an aid: a time to come
        "https://blog.example/notes/meditations",
        "https://blog.example/objects/lamp",
        "https://shop.example/display/cases",
        "https://bsky.app/notes/9w4ab1c2d3",  # another source's host
    ],
)
def test_ordinary_pages_with_those_paths_are_not(url: str) -> None:
    assert MastodonSource(HttpClient()).parse(url) is None


@pytest.mark.skipif(not DATA_DIR.is_dir(), reason=f"recordings not found at {DATA_DIR}")
def test_links_the_recorded_pleroma_server_hands_out_are_accepted() -> None:
    source = MastodonSource(HttpClient())
    urls = {s["url"] for s in load_recording("pleroma_2019")["statuses"].values()}
    objects = sorted(u for u in urls if "/objects/" in u)
    assert objects
    assert all(source.parse(u) is not None for u in objects)


# -- servers with the Mastodon API -----------------------------------------------------------


@pytest.mark.parametrize("software", ["pleroma", "akkoma", "friendica"])
async def test_object_link_unrolls_the_whole_thread(http: HttpClient, software: str) -> None:
    async with FakeMastodon(software=software, id_style="flake") as fake:
        rin, kofi = fake.account("rin"), fake.account("kofi")
        posts = fake.thread(rin, 8, others=kofi, others_every=3)
        # Pleroma's /objects/<uuid> is the post's id; Friendica links its /display/ page.
        link = fake.status_url(posts[3]) if software == "friendica" else fake.status_uri(posts[3])
        assert "/objects/" in link or "/display/" in link
        got = await unroll(MastodonSource(http), link)
        assert got.anchor_id == fake.status_uri(posts[3])
        assert set(got.posts) == {fake.status_uri(s) for s in posts}
        assert [p.text for p in assemble(got, 500).posts] == [f"Post {i}/8" for i in range(1, 9)]
        assert not got.notices
        asked = [r for r in fake.requests if r.path in ("/api/v2/search",)]
        assert asked and ("q", fake.status_uri(posts[3])) in asked[0].query


@pytest.mark.parametrize("answer", [{"accounts": []}, {"statuses": "none"}, ["a", "list"]])
async def test_a_malformed_search_answer_is_told_and_the_post_read_from_activitypub(
    http: HttpClient, answer: object
) -> None:
    async with FakeMastodon(software="pleroma", id_style="flake") as fake:
        rin = fake.account("rin")
        first = fake.post(rin, "first")
        second = fake.post(rin, "second", reply_to=first)
        fake.inject("/api/v2/search", Fault(200, answer))
        got = await unroll(MastodonSource(http), fake.status_uri(second))
        assert [p.text for p in assemble(got, 500).posts] == ["first", "second"]
        (notice,) = got.notices
        assert notice.startswith(
            f"Its server's search could not be used ({fake.host} returned a malformed "
            "search answer.)"
        )


async def test_a_server_that_wants_signed_requests_is_named(http: HttpClient) -> None:
    async with FakeMastodon(software="pleroma", id_style="flake", signed_fetch=True) as fake:
        st = fake.post(fake.account("rin"), "hello")
        with pytest.raises(Refused, match="sign their requests") as err:
            await unroll(MastodonSource(http), fake.status_uri(st))
        assert "/@user/ID" in str(err.value)


async def test_a_missing_object_is_not_found(http: HttpClient) -> None:
    async with FakeMastodon(software="pleroma", id_style="flake") as fake:
        st = fake.post(fake.account("rin"), "soon gone")
        link = fake.status_uri(st)
        fake.delete(st)
        with pytest.raises(NotFound, match="cannot be found or seen publicly"):
            await unroll(MastodonSource(http), link)


# -- Misskey-family: Misskey's own API ---------------------------------------------------------


async def test_misskey_thread_through_its_api(http: HttpClient, misskey: FakeMisskey) -> None:
    rin, kofi = misskey.user("rin", "Rin"), misskey.user("kofi")
    question = misskey.note(kofi, "how do the counters work?")
    first = misskey.note(rin, "They count bikes. https://counts.example/bikes", reply_to=question)
    second = misskey.note(
        rin,
        "Photo of one:",
        reply_to=first,
        files=[
            {"type": "image/png", "url": f"{misskey.base_url}/files/a.png", "comment": "a.png"},
            {
                "type": "image/jpeg",
                "url": f"{misskey.base_url}/files/b.jpg",
                "comment": "A counter at a junction",
                "sensitive": True,
            },
        ],
    )
    misskey.note(kofi, "nice", reply_to=second)
    third = misskey.note(rin, "@kofi thanks for asking", reply_to=second, cw="numbers")
    misskey.note(rin, "unrelated later note")
    got = await unroll(MastodonSource(http), misskey.note_url(second))  # a link mid-thread
    assert got.anchor_id == misskey.note_url(second)
    thread = assemble(got, 500)
    assert [p.text for p in thread.posts][-3:] == [
        "They count bikes. https://counts.example/bikes",
        "Photo of one:",
        "@kofi thanks for asking",
    ]
    assert thread.posts[-3].links == ("https://counts.example/bikes",)
    assert misskey.note_url(question) in got.posts  # the post it answers stays as context
    photo = got.posts[misskey.note_url(second)]
    assert [m.alt for m in photo.media] == ["", "A counter at a junction"]
    assert photo.content_notes == (
        ContentNote("other", "author", "media marked sensitive by the author"),
    )
    last = got.posts[misskey.note_url(third)]
    assert last.author.handle == f"rin@{misskey.host_name}" and last.author.name == "Rin"
    assert last.content_notes == (ContentNote("other", "author", "numbers"),)
    assert not got.notices
    # The note and the posts above it, then one page of the author's later notes.
    asked = [r.path for r in misskey.requests if r.method == "POST"]
    assert sorted(asked[:2]) == ["/api/notes/conversation", "/api/notes/show"]
    assert asked[2:] == ["/api/users/notes"]


@pytest.mark.parametrize(
    ("endpoint", "answer", "told"),
    [
        ("notes/show", {"id": "9x"}, "returned a malformed post"),
        ("notes/conversation", {"notes": []}, "returned a malformed list of the posts above"),
    ],
)
async def test_malformed_misskey_answers_are_reported(
    http: HttpClient, misskey: FakeMisskey, endpoint: str, answer: object, told: str
) -> None:
    rin = misskey.user("rin")
    second = misskey.note(rin, "two", reply_to=misskey.note(rin, "one"))
    misskey.inject(f"/api/{endpoint}", Fault(200, answer))
    with pytest.raises(UpstreamUnavailable, match=f"{misskey.host_name}.* {told}"):
        await unroll(MastodonSource(http), misskey.note_url(second))


async def test_a_malformed_page_of_later_misskey_notes_keeps_the_thread_so_far(
    http: HttpClient, misskey: FakeMisskey
) -> None:
    rin = misskey.user("rin")
    first = misskey.note(rin, "one")
    second = misskey.note(rin, "two", reply_to=first)
    misskey.inject("/api/users/notes", Fault(200, {"notes": []}))
    got = await unroll(MastodonSource(http), misskey.note_url(second))
    assert [p.text for p in assemble(got, 500).posts] == ["one", "two"]
    assert got.notices == [
        f"Later posts could not be listed ({misskey.host_name} returned a malformed list "
        "of posts.); the thread may be incomplete."
    ]


async def test_long_misskey_thread_is_paged(http: HttpClient, misskey: FakeMisskey) -> None:
    rin, kofi = misskey.user("rin"), misskey.user("kofi")
    notes = [misskey.note(rin, "1/150")]
    for i in range(2, 151):
        misskey.note(rin, f"aside {i}")  # other posts of the author in between
        notes.append(misskey.note(rin, f"{i}/150", reply_to=notes[-1]))
        if i % 10 == 0:
            misskey.note(kofi, "go on", reply_to=notes[-1])
    got = await unroll(MastodonSource(http), misskey.note_url(notes[0]))
    thread = assemble(got, 500)
    assert [p.text for p in thread.posts] == [f"{i}/150" for i in range(1, 151)]
    assert not got.capped and not got.notices
    # The author's 299 later notes: three pages of at most 100.
    assert len([r for r in misskey.requests if r.path == "/api/users/notes"]) == 3
    source = MastodonSource(http)
    ref = source.parse(misskey.note_url(notes[0]))
    assert ref is not None
    short = await source.fetch(ref, 40)
    assert short.capped and len(short.posts) == 40


async def test_misskey_thread_below_a_followers_only_note(
    http: HttpClient, misskey: FakeMisskey
) -> None:
    rin = misskey.user("rin")
    private = misskey.note(rin, "for followers", visibility="followers")
    first = misskey.note(rin, "public part 1", reply_to=private)
    second = misskey.note(rin, "public part 2", reply_to=first)
    got = await unroll(MastodonSource(http), misskey.note_url(second))
    assert misskey.note_url(private) not in got.posts
    assert "for followers" not in " ".join(p.text for p in got.posts.values())
    assert {misskey.note_url(first), misskey.note_url(second)} <= set(got.posts)


async def test_misskey_notes_that_are_not_public_or_deleted(
    http: HttpClient, misskey: FakeMisskey
) -> None:
    rin = misskey.user("rin")
    hidden = misskey.note(rin, "followers only", visibility="followers")
    with pytest.raises(Refused, match="not public"):
        await unroll(MastodonSource(http), misskey.note_url(hidden))
    gone = misskey.note(rin, "oops")
    gone.deleted = True
    with pytest.raises(NotFound, match="cannot be found or seen publicly"):
        await unroll(MastodonSource(http), misskey.note_url(gone))


# -- servers without an API the bot reads: ActivityPub alone -----------------------------------


@pytest.fixture
async def ap_only() -> AsyncIterator[FakeMisskey]:
    async with FakeMisskey(software="postmarks") as server:
        yield server


async def test_note_and_the_posts_above_it_from_activitypub(
    http: HttpClient, ap_only: FakeMisskey
) -> None:
    rin, kofi = ap_only.user("rin", "Rin"), ap_only.user("kofi")
    question = ap_only.note(kofi, "how do the counters work?")
    first = ap_only.note(rin, "They count bikes.", reply_to=question)
    second = ap_only.note(
        rin,
        "Photo of one:",
        reply_to=first,
        files=[{"type": "image/png", "url": f"{ap_only.base_url}/files/a.png", "name": "a.png"}],
    )
    third = ap_only.note(
        rin,
        "thanks for asking",
        reply_to=second,
        cw="numbers",
        mentions=[(f"{ap_only.base_url}/@kofi", f"@kofi@{ap_only.host_name}")],
    )
    got = await unroll(MastodonSource(http), ap_only.note_url(third))
    assert got.anchor_id == ap_only.note_url(third)
    assert set(got.posts) == {ap_only.note_url(n) for n in (question, first, second, third)}
    thread = assemble(got, 500)
    assert [p.text for p in thread.posts][-3:] == [
        "They count bikes.",
        "Photo of one:",
        f"@kofi@{ap_only.host_name} thanks for asking",
    ]
    last = thread.posts[-1]
    assert last.author.handle == f"rin@{ap_only.host_name}" and last.author.name == "Rin"
    assert last.content_notes == (ContentNote("other", "author", "numbers"),)
    assert last.links == ()  # the mention is not a link
    photo = thread.posts[-2]
    assert photo.media[0].url.endswith("/files/a.png") and photo.media[0].alt == ""
    (notice,) = got.notices
    assert "postmarks" in notice and "cannot list" in notice


async def test_sensitive_files_carry_the_authors_note(
    http: HttpClient, ap_only: FakeMisskey
) -> None:
    rin = ap_only.user("rin")
    note = ap_only.note(
        rin,
        "after the crash",
        files=[
            {
                "type": "image/jpeg",
                "url": f"{ap_only.base_url}/files/b.jpg",
                "name": "the bent front wheel",
                "sensitive": True,
            }
        ],
    )
    got = await unroll(MastodonSource(http), ap_only.note_url(note))
    (post,) = got.posts.values()
    assert post.media[0].alt == "the bent front wheel"
    assert post.content_notes == (
        ContentNote("other", "author", "media marked sensitive by the author"),
    )


async def test_objects_not_public_or_deleted(http: HttpClient, ap_only: FakeMisskey) -> None:
    rin = ap_only.user("rin")
    hidden = ap_only.note(rin, "followers only", visibility="followers")
    with pytest.raises(NotFound):
        await unroll(MastodonSource(http), ap_only.note_url(hidden))
    gone = ap_only.note(rin, "oops")
    gone.deleted = True
    ap_only.tombstones = True
    with pytest.raises(NotFound, match="was deleted"):
        await unroll(MastodonSource(http), ap_only.note_url(gone))


async def test_a_note_addressed_to_followers_is_refused_even_if_served(
    http: HttpClient, ap_only: FakeMisskey
) -> None:
    rin = ap_only.user("rin")
    note = ap_only.note(rin, "for my followers")
    served = ap_only.note_json(note)
    served["to"], served["cc"] = [f"{ap_only.user_url(rin)}/followers"], []
    ap_only.note_json = lambda n: served  # type: ignore[method-assign]
    with pytest.raises(Refused, match="not public"):
        await unroll(MastodonSource(http), ap_only.note_url(note))


@pytest.mark.parametrize(
    ("served", "message"),
    [
        ({"type": "Person", "id": "x", "preferredUsername": "rin"}, "profile, not a post"),
        ({"type": "OrderedCollection", "id": "x"}, "names a OrderedCollection object"),
        ([1, 2, 3], "not a post"),
        ({"type": "Create", "id": "x"}, r"an activity \(Create\) that names no post"),
        (
            {"type": "Announce", "id": "x", "object": "note-1"},
            r"an activity \(Announce\) that names no post",
        ),
    ],
)
async def test_objects_that_are_not_posts_say_so(
    http: HttpClient, ap_only: FakeMisskey, served: object, message: str
) -> None:
    note = ap_only.note(ap_only.user("rin"), "hello")
    ap_only.note_json = lambda n: served  # type: ignore[assignment,method-assign,return-value]
    with pytest.raises(UserError, match=message):
        await unroll(MastodonSource(http), ap_only.note_url(note))


async def test_a_server_that_answers_a_web_page_says_so(
    http: HttpClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with FakeMastodon(software="pleroma", id_style="flake") as fake:
        st = fake.post(fake.account("rin"), "hello")
        monkeypatch.setattr(fake, "_wants_activity", lambda request: False)
        with pytest.raises(UpstreamUnavailable, match="did not answer with an ActivityPub"):
            await unroll(MastodonSource(http), fake.status_uri(st))
