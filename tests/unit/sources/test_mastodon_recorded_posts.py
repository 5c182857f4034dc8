"""What posts recorded from real servers become: old Pleroma / GNU social mentions and
hashtags without classes, Pleroma's file-name "descriptions", GoToSocial's note on files it
did not download, and media marked sensitive without a content warning."""

from __future__ import annotations

from typing import Any

import pytest

from bot.assemble import assemble
from bot.http import HttpClient
from bot.models import ContentNote, Post
from bot.render import markdown, plain
from bot.render.thread_view import thread_messages
from bot.sources.html_text import html_to_text
from bot.sources.mastodon import MastodonSource
from bot.sources.mastodon.mapping import map_status
from cogs.content_notes.annotate import annotate
from cogs.content_notes.classifier import Classifier
from cogs.content_notes.policy import ScopePolicy, decide
from tests.fakes.replay_server import DATA_DIR, ReplaySet, load_recording

pytestmark = pytest.mark.skipif(
    not DATA_DIR.is_dir(), reason=f"recorded server answers not found at {DATA_DIR}"
)


def recorded(name: str, status_id: str) -> tuple[dict[str, Any], str]:
    rec = load_recording(name)
    return rec["statuses"][status_id], rec["base"]


def mapped(name: str, status_id: str) -> Post:
    status, base = recorded(name, status_id)
    return map_status(status, base, None, None)


# -- item: mentions without class="mention" -------------------------------------------------


def test_old_pleroma_mention_is_a_handle_not_a_link() -> None:
    post = mapped("pleroma_2019", "10423465")
    assert post.text.startswith("@feld@bikeshed.party\n")
    assert "(https://bikeshed.party/users/feld)" not in post.text
    assert "https://bikeshed.party/users/feld" not in post.links
    # The uploaded file's link in the text is still a link.
    assert any(link.endswith(".webm") for link in post.links)


def test_mention_whose_address_cannot_name_the_user_takes_the_listed_handle() -> None:
    # GNU social's /user/31 says nothing about the name; the status' mention list does.
    post = mapped("pleroma_2019", "10423144")
    assert post.text == "@fedebot@social.super-niche.club lewd"
    assert post.links == ()


def test_gnu_social_hashtag_without_class_is_a_hashtag() -> None:
    post = mapped("pleroma_2019", "10419912")
    assert post.text.startswith("#animeirl ")
    assert not any("/tag/animeirl" in link for link in post.links)


def test_an_unlisted_address_with_mention_looks_stays_an_ordinary_link() -> None:
    html = '<p>see <a href="https://blog.example/users/kofi">the archive</a></p>'
    out = html_to_text(html, {"https://fedi.example/users/kofi": "@kofi@fedi.example"})
    assert out.text == "see the archive (https://blog.example/users/kofi)"
    assert out.links == ("https://blog.example/users/kofi",)


def test_unclassed_mention_listed_by_the_status_is_read_as_one() -> None:
    html = '<p><a href="https://fedi.example/users/kofi">@<span>kofi</span></a> hi @everyone</p>'
    out = html_to_text(html, {"https://fedi.example/users/kofi": "@kofi@fedi.example"})
    assert out.text == "@kofi@fedi.example hi @everyone"
    assert out.links == ()


# -- item: GoToSocial's note on files it did not download -----------------------------------


async def test_files_gotosocial_did_not_download_are_media_not_its_note(
    http: HttpClient,
) -> None:
    async with ReplaySet("gotosocial_as_if_anonymous") as rs:
        status = rs.main.statuses["01HE7XJ1CG84TBKH5V9XKBVGF5"]
        source = MastodonSource(http, handle_scheme="http")
        ref = source.parse(f"{rs.main.base_url}/@{status['account']['acct']}/{status['id']}")
        assert ref is not None
        [post] = assemble(await source.fetch(ref, 500), 500).posts
    # The author's words only: the server's "Note from localhost:8080: 2 attachments in this
    # status were not downloaded…" is not part of the post.
    assert post.text.startswith("hi @admin@") and post.text.endswith("here's some media for ya")
    assert [(m.type, m.alt) for m in post.media] == [
        ("image", "Photograph of a sloth, Public Domain."),
        ("image", "SVG line art of a sloth, public domain"),
        ("audio", "Jolly salsa song, public domain."),
    ]
    assert post.media[2].url.endswith(".mp3") and post.links == ()
    shown = plain.message_text(thread_messages(_thread_of(post))[1])
    assert "[audio: Jolly salsa song, public domain.]" in shown and "Note from" not in shown


@pytest.mark.parametrize(
    ("items", "media"),
    [
        ('<li><a href="javascript:alert(1)">x.svg</a> [bad]</li>', []),
        (
            '<li>no link [at all]</li><li><a href="https://r.example/a.bin">a.bin</a></li>',
            [("unknown", "https://r.example/a.bin", "")],
        ),
        (
            '<li><a href="https://r.example/f/clip.webm">clip.webm</a> clip.webm</li>',
            [("video", "https://r.example/f/clip.webm", "")],
        ),  # a file name is not alt text
    ],
    ids=["script-link", "no-brackets", "file-name-only"],
)
def test_gotosocial_file_lists_keep_web_links_and_real_descriptions(
    items: str, media: list[tuple[str, str, str]]
) -> None:
    status, base = recorded("gotosocial_as_if_anonymous", "01HE7XJ1CG84TBKH5V9XKBVGF5")
    note = '<div class="gts-system-message gts-placeholder-attachments"><ul>{}</ul></div>'
    post = map_status(
        {**status, "media_attachments": [], "content": "<p>look</p>" + note.format(items)},
        base,
        None,
        None,
    )
    assert post.text == "look"
    assert [(m.type, m.url, m.alt) for m in post.media] == media


async def test_recorded_pleroma_reply_unrolls_with_the_handle(http: HttpClient) -> None:
    async with ReplaySet("pleroma_2019") as rs:
        status = rs.main.statuses["10423476"]
        source = MastodonSource(http, handle_scheme="http")
        ref = source.parse(f"{rs.main.base_url}/notice/{status['id']}")
        assert ref is not None
        thread = assemble(await source.fetch(ref, 50), 50)
        (post,) = [p for p in thread.all_posts if p.text.endswith("god i wish i was there")]
        assert post.text == "@sampo@pleroma.soykaf.com god i wish i was there"
        messages = thread_messages(thread)
        text = "\n".join(chunk for m in messages for chunk in markdown.chunks(m))
        # Mentions reach Discord as text that cannot ping: no <@id> form and no bare link.
        assert "<@" not in text and "(https://pleroma.soykaf.com/users/sampo)" not in text


# -- item: Pleroma's file name as description ---------------------------------------------------


def test_pleroma_file_name_is_not_alt_text() -> None:
    for status_id in ("10423449", "10423465", "10419787", "10423391"):
        post = mapped("pleroma_2019", status_id)
        assert post.media and all(m.alt == "" for m in post.media), status_id
    text = plain.message_text(thread_messages(_thread_of(mapped("pleroma_2019", "10419787")))[1])
    assert "[image: no alt text]" in text and "image.png]" not in text


def test_real_descriptions_are_kept() -> None:
    status, base = recorded("pleroma_2019", "10419787")
    media = dict(status["media_attachments"][0])
    cases = {
        "A terminal showing three words": "A terminal showing three words",
        "image.png": "",
        "IMG_2031.JPG": "",
        "chart of the png exports per day.": "chart of the png exports per day.",
    }
    for description, alt in cases.items():
        media["description"] = description
        post = map_status({**status, "media_attachments": [media]}, base, None, None)
        assert post.media[0].alt == alt, description


# -- item: media marked sensitive without a content warning -------------------------------------


def _thread_of(post: Post) -> Any:
    from bot.models import Thread

    return Thread("mastodon", post.url, post.id, post.author, (post,))


def test_sensitive_without_warning_is_the_authors_note() -> None:
    post = mapped("mastodonpy_2026", "117020583142008690")
    assert post.content_notes == (ContentNote("other", "author", "marked sensitive by the author"),)
    # A real content warning stays the author's words, alone.
    warned = mapped("mastodonpy_2026", "117020586000687987")
    assert warned.content_notes == (ContentNote("other", "author", "Content warning"),)
    plain_post = mapped("mastodonpy_2026", "117020586180926938")
    assert plain_post.content_notes == ()


def test_sensitive_media_names_the_media() -> None:
    post = mapped("mastodonpy_2026", "117020576664345360")
    assert post.media
    assert post.content_notes == (
        ContentNote("other", "author", "media marked sensitive by the author"),
    )


async def test_recorded_sensitive_post_is_shown_with_the_note(http: HttpClient) -> None:
    async with ReplaySet("mastodonpy_2026") as rs:
        status = rs.main.statuses["117020583142008690"]
        source = MastodonSource(http, handle_scheme="http")
        ref = source.parse(rs.local(status["url"]))
        assert ref is not None
        thread = annotate(assemble(await source.fetch(ref, 50), 50), Classifier.default())
        policy = ScopePolicy()
        messages = thread_messages(thread, lambda notes: decide(policy, notes))
        (shown,) = [m for m in messages if m.post_id and m.post_id.endswith(status["id"])]
        # Both recorded posts are marked, so the note covers the thread: once, in the header.
        assert "Content note: marked sensitive by the author" in plain.message_text(messages[0])
        assert "marked sensitive" not in plain.message_text(shown)
        # A server that hides what authors mark gets the spoiler.
        strict = ScopePolicy(actions={"other": "warn"})
        messages = thread_messages(thread, lambda notes: decide(strict, notes))
        (hidden,) = [m for m in messages if m.post_id and m.post_id.endswith(status["id"])]
        assert hidden.spoiler is not None
        assert "Content note: marked sensitive by the author" in plain.message_text(messages[0])


def test_sensitive_marks_stay_the_authors_words(clf: Classifier) -> None:
    # However the lexicon grows, the marking names no topic: it stays "other", verbatim.
    for post in (
        mapped("mastodonpy_2026", "117020583142008690"),
        mapped("mastodonpy_2026", "117020576664345360"),
    ):
        notes = annotate(_thread_of(post), clf).content_notes
        assert [(n.category, n.origin) for n in notes] == [("other", "author")]
        assert notes[0].reason == post.content_notes[0].reason


@pytest.fixture(scope="module")
def clf() -> Classifier:
    return Classifier.default()
