"""How AppView posts become neutral posts: text with facets, media with alt text, cards,
quotes (hidden, unavailable), labels and content notes, odd or broken shapes."""

from __future__ import annotations

from typing import Any

import pytest

from bot.models import ContentNote, LinkCard, Media, Quote
from bot.sources.bluesky.mapping import Malformed, expand_facets, map_post
from tests.fakes.bluesky_server import FakeBluesky
from tests.fakes.thread_builder import (
    SynthCard,
    SynthImage,
    SynthLink,
    SynthMention,
    ThreadBuilder,
)

FULL = "https://tomas.dev/notes/lorawan-marsh-field-test"


def view_of(b: ThreadBuilder, key: str, *, invalid: str | None = None) -> dict[str, Any]:
    fake = FakeBluesky()
    fake.add_thread(b.build())
    if invalid:
        fake.set_invalid_handle(invalid)
    return fake.post_view(fake.posts[fake.uri(key)])


def test_facets_use_byte_offsets_and_spell_out_shortened_links() -> None:
    b = ThreadBuilder()
    b.author("mira", handle="mira.example.com")
    b.author("tomas", handle="tomas.dev")
    text = "🧵 Range: 1.8 km 🙃 see tomas.dev/notes/lorawan-ma... by @tomas.dev #LoRaWAN (2/6)"
    key = b.post(
        "mira",
        text,
        links=(SynthLink("tomas.dev/notes/lorawan-ma...", FULL),),
        mentions=(SynthMention("@tomas.dev", "tomas"),),
        tags=("LoRaWAN",),
    )
    post = map_post(view_of(b, key))
    assert post.text == f"🧵 Range: 1.8 km 🙃 see {FULL} by @tomas.dev #LoRaWAN (2/6)"
    assert post.links == (FULL,)


def test_facet_offsets_are_bytes_not_characters() -> None:
    text = "🧵 é link"
    # "🧵" is 4 bytes, " " 1, "é" 2, " " 1: "link" spans bytes 8..12.
    facets = [
        {
            "index": {"byteStart": 8, "byteEnd": 12},
            "features": [
                {"$type": "app.bsky.richtext.facet#link", "uri": "https://link.example/x"}
            ],
        }
    ]
    out, links = expand_facets(text, facets)
    assert out == "🧵 é link (https://link.example/x)"
    assert links == ["https://link.example/x"]


def test_broken_facets_are_ignored() -> None:
    text = "plain words here"
    link = {"$type": "app.bsky.richtext.facet#link", "uri": "https://a.example/"}
    facets: list[Any] = [
        {"index": {"byteStart": 5, "byteEnd": 999}, "features": [link]},
        {"index": {"byteStart": "x", "byteEnd": 3}, "features": [link]},
        {"index": {"byteStart": 4, "byteEnd": 2}, "features": [link]},
        "junk",
        {"features": [link]},
    ]
    assert expand_facets(text, facets) == (text, [])


def test_images_keep_alt_text_even_when_empty() -> None:
    b = ThreadBuilder()
    key = b.post(
        "mira", "barnacles", images=(SynthImage("Sensor covered in barnacles."), SynthImage(""))
    )
    post = map_post(view_of(b, key))
    assert [m.alt for m in post.media] == ["Sensor covered in barnacles.", ""]
    assert all(m.type == "image" and "feed_fullsize" in m.url for m in post.media)
    assert all(m.thumbnail and "feed_thumbnail" in m.thumbnail for m in post.media)


def test_gallery_video_and_gif() -> None:
    b = ThreadBuilder()
    g = b.post("mira", "gallery", images=(SynthImage("one"), SynthImage("two")), gallery=True)
    v = b.post("mira", "video", images=(SynthImage("a boat", kind="video"),))
    f = b.post("mira", "gif", images=(SynthImage("dancing crab", kind="gif"),))
    fake = FakeBluesky()
    fake.add_thread(b.build())
    gallery = map_post(fake.post_view(fake.posts[fake.uri(g)]))
    video = map_post(fake.post_view(fake.posts[fake.uri(v)]))
    gif = map_post(fake.post_view(fake.posts[fake.uri(f)]))
    assert [(m.type, m.alt) for m in gallery.media] == [("image", "one"), ("image", "two")]
    assert video.media[0].type == "video" and video.media[0].url.endswith(".m3u8")
    assert video.media[0].alt == "a boat"
    assert gif.media[0].type == "gif"


def test_link_card_and_its_link() -> None:
    b = ThreadBuilder()
    card = SynthCard("https://github.com/mira/tide-power", "mira/tide-power", "Power model")
    key = b.post("mira", "code is here", card=card)
    post = map_post(view_of(b, key))
    assert post.card == LinkCard(
        "https://github.com/mira/tide-power", "mira/tide-power", "Power model"
    )
    assert post.links == ("https://github.com/mira/tide-power",)


def test_quote_has_author_text_and_link() -> None:
    b = ThreadBuilder()
    b.author("lab", handle="harborlab.org")
    quoted = b.post("lab", "Winter brownout report: 11% uptime lost")
    key = b.post("mira", "The lab's report matches", quote=quoted)
    fake = FakeBluesky()
    fake.add_thread(b.build())
    post = map_post(fake.post_view(fake.posts[fake.uri(key)]))
    url = fake.url(quoted)
    assert post.quote == Quote(url, "harborlab.org", "Winter brownout report: 11% uptime lost")
    assert post.links == (url,)


def test_quote_of_an_author_who_opted_out_is_hidden() -> None:
    b = ThreadBuilder()
    b.author("quiet", handle="quiet.example.com", labels=("!no-unauthenticated",))
    quoted = b.post("quiet", "something private-ish")
    key = b.post("mira", "look at this", quote=quoted)
    post = map_post(view_of(b, key))
    assert post.quote is not None
    assert post.quote.text == ""
    assert post.quote.hidden_reason == "hidden at its author's request"
    assert "private-ish" not in repr(post)


def test_quote_of_a_post_labelled_for_logged_in_viewers_only_is_hidden() -> None:
    b = ThreadBuilder()
    quoted = b.post("other", "members only", labels=("!no-unauthenticated",))
    key = b.post("mira", "look", quote=quoted)
    post = map_post(view_of(b, key))
    assert post.quote is not None and post.quote.hidden_reason


@pytest.mark.parametrize("how", ["deleted", "blocked", "detached"])
def test_unavailable_quotes(how: str) -> None:
    b = ThreadBuilder()
    quoted = b.post("other", "gone soon")
    key = b.post("mira", "look", quote=quoted, quote_detached=how == "detached")
    if how == "deleted":
        b.delete(quoted)
    if how == "blocked":
        b.block(quoted)
    post = map_post(view_of(b, key))
    assert post.quote is not None
    assert post.quote.text == "quoted post unavailable"
    assert post.quote.url.startswith("https://bsky.app/profile/did:plc:")


def test_quote_with_media() -> None:
    b = ThreadBuilder()
    quoted = b.post("mira", "1/6 the start")
    key = b.post("mira", "6/6", quote=quoted, images=(SynthImage("Uptime chart, 99%"),))
    post = map_post(view_of(b, key))
    assert post.media == (
        Media("image", post.media[0].url, "Uptime chart, 99%", post.media[0].thumbnail),
    )
    assert post.quote is not None and post.quote.text == "1/6 the start"


def test_author_self_labels_become_author_content_notes() -> None:
    b = ThreadBuilder()
    key = b.post("mira", "surgery photos", labels=("graphic-media", "nudity", "something-else"))
    post = map_post(view_of(b, key))
    assert set(post.content_notes) == {
        ContentNote("other", "author", "graphic-media"),
        ContentNote("other", "author", "nudity"),
    }


def test_reply_ids_time_and_author() -> None:
    b = ThreadBuilder()
    b.author("mira", handle="Mira.Example.com", name="Mira Okafor", labels=("bot",))
    root = b.post("mira", "1/2")
    key = b.reply("mira", root, "2/2")
    fake = FakeBluesky()
    fake.add_thread(b.build())
    post = map_post(fake.post_view(fake.posts[fake.uri(key)]))
    assert post.id == fake.uri(key)
    assert post.parent_id == fake.uri(root) and post.root_id == fake.uri(root)
    assert post.url == fake.url(key)
    assert post.created_at == "2026-05-14T09:00:40.000Z"
    assert post.author.name == "Mira Okafor"
    assert post.author.handle == "mira.example.com"
    assert post.author.labels == ("bot",)
    root_post = map_post(fake.post_view(fake.posts[fake.uri(root)]))
    assert root_post.parent_id is None and root_post.root_id == root_post.id


def test_invalid_handle_links_by_did() -> None:
    b = ThreadBuilder()
    key = b.post("mira", "hello")
    post = map_post(view_of(b, key, invalid="mira"))
    assert post.url.startswith("https://bsky.app/profile/did:plc:")
    assert post.author.url.startswith("https://bsky.app/profile/did:plc:")
    assert "handle.invalid" not in post.url


@pytest.mark.parametrize(
    "view",
    [
        {},
        {"uri": 5},
        {"uri": "at://did:plc:x/app.bsky.feed.post/3mlshypfnq2u7"},
        {"uri": "at://did:plc:x/app.bsky.feed.post/3mlshypfnq2u7", "author": {"did": "d"}},
        {
            "uri": "at://did:plc:x/app.bsky.feed.post/3mlshypfnq2u7",
            "author": {"did": "d"},
            "record": "text",
        },
        "not an object",
    ],
)
def test_malformed_views_raise_malformed(view: Any) -> None:
    with pytest.raises(Malformed):
        map_post(view)


def test_odd_embed_shapes_do_not_break_the_post() -> None:
    view = {
        "uri": "at://did:plc:x/app.bsky.feed.post/3mlshypfnq2u7",
        "author": {"did": "did:plc:x", "handle": "x.example.com", "labels": "nope"},
        "record": {"text": "hi", "createdAt": "garbage", "facets": "nope", "reply": 7},
        "embed": {"$type": "app.bsky.embed.images#view", "images": [3, {"alt": "no url"}]},
        "indexedAt": "2026-05-14T09:00:00Z",
    }
    post = map_post(view)
    assert post.text == "hi" and post.media == ()
    assert post.created_at == "2026-05-14T09:00:00.000Z"
