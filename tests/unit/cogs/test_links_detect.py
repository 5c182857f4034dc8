"""Detection over assembled threads: what the author's words state, and the many posts
that look similar but state nothing."""

from __future__ import annotations

import pytest

from bot.models import Author, Post, Quote, Thread
from cogs.links.detect import QUOTE_EVIDENCE, Detected, detect
from cogs.links.phrases import build, shipped
from cogs.links.refs import RefParser
from tests.fixtures import seed_thread as seed

ME = Author("x:2860245927", "crys_tom", "crys_tom", "https://x.com/crys_tom")
THEM = Author("x:777", "someone_else", "Someone Else", "https://x.com/someone_else")
REFS = RefParser()  # no sources enabled: X links are still recognised


def url(n: int | str, user: str = "crys_tom") -> str:
    return f"https://x.com/{user}/status/{n}"


def post(n: int, text: str, *, author: Author = ME, quote: Quote | None = None) -> Post:
    links = tuple(w.rstrip(".,;:)") for w in text.split() if w.startswith("http"))
    if quote is not None:
        links += (quote.url,)
    return Post(
        id=f"x:{n}",
        url=url(n, author.handle),
        author=author,
        created_at=f"2026-01-01T00:{n % 60:02d}:00Z",
        text=text,
        parent_id=f"x:{n - 1}" if n > 1 else None,
        links=links,
        quote=quote,
    )


def thread(*posts: Post) -> Thread:
    return Thread("x", posts[0].url, posts[0].id, ME, tuple(posts))


def found(t: Thread) -> list[tuple[str, str, str]]:
    return [(d.kind, d.source.key, d.target.key) for d in detect(t, REFS)]


def seed_as_thread() -> Thread:
    posts = []
    for i, p in enumerate(seed.POSTS):
        posts.append(
            Post(
                id=f"x:{p['id']}",
                url=url(p["id"]),
                author=ME,
                created_at=p["created_at"],
                text=p["text"],
                parent_id=f"x:{seed.POSTS[i - 1]['id']}" if i else None,
                links=p["links"],
            )
        )
    return Thread("x", posts[0].url, posts[0].id, ME, tuple(posts))


# -- the seed ---------------------------------------------------------------------------


def test_seed_states_one_context_link_and_one_move_left_in_place() -> None:
    t = seed_as_thread()
    got = detect(t, REFS)
    ids = [p["id"] for p in seed.POSTS]
    assert [(d.kind, d.source.key, d.target.key) for d in got] == [
        ("context", f"x:{ids[0]}", "x:1338232404897656834"),
        ("belongs_to", f"x:{ids[8]}", "x:1338275558916911104"),
    ]
    context, move = got
    # The twitter.com link is recorded in normal form though no source can fetch it.
    assert context.target.url == "https://x.com/crys_tom/status/1338232404897656834"
    assert [(e.post_url, e.phrase) for e in context.evidence] == [(url(ids[5]), "earlier thread")]
    # "this one tweet right above" is the note's parent; the note pairs with the next post.
    assert move.moved_post is not None and move.moved_post.text.startswith("Incidentally")
    assert move.keep is True
    assert [(e.post_url, e.phrase) for e in move.evidence] == [
        (url(ids[9]), "belonged in a different thread"),
        (url(ids[9]), "right above"),
        (url(ids[10]), "this is where it belonged"),
        (url(ids[9]), "left it here"),
    ]


def test_the_same_words_without_left_it_here_move_the_post_out() -> None:
    t = thread(
        post(1, "A thread about gardens"),
        post(2, "Tomatoes need sun"),
        post(3, "(the tweet above belongs in another thread)"),
        post(4, f"This is where it belongs {url(99)}"),
    )
    (d,) = detect(t, REFS)
    assert (d.kind, d.source.key, d.target.key, d.keep) == ("belongs_to", "x:2", "x:99", False)


def test_this_tweet_with_the_link_in_the_same_post_moves_the_note_itself() -> None:
    t = thread(
        post(1, "A thread about gardens"),
        post(2, f"Oops, this tweet belongs in my other thread: {url(99)}"),
    )
    assert found(t) == [("belongs_to", "x:2", "x:99")]


def test_a_move_target_needs_a_move_note_before_it() -> None:
    t = thread(post(1, "A thread"), post(2, f"This is where it belonged {url(99)}"))
    assert found(t) == []


def test_a_move_note_without_a_reference_or_a_link_states_nothing() -> None:
    no_reference = thread(post(1, "A"), post(2, "Belongs in another thread, sorry"))
    no_link = thread(
        post(1, "A"), post(2, "The tweet above belongs in another thread"), post(3, "Anyway")
    )
    no_target_words = thread(
        post(1, "A"),
        post(2, "The tweet above belongs in another thread"),
        post(3, f"Unrelated, my cat: {url(99)}"),
    )
    assert found(no_reference) == found(no_link) == found(no_target_words) == []


# -- what must not be detected ----------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        # Links to articles are never thread links, whatever the words.
        "For context, see https://news.example.com/2020/12/therapy-article",
        "This is where it belonged https://blog.example.org/post/1",
        # "wrong" in sentences that move nothing.
        f"I was wrong about this, and the post above was wrong too {url(99)}",
        f"Wrong again! Everything about that thread is wrong {url(99)}",
        # Own post links with no cue phrase.
        f"Also this {url(99)}",
        f"Replying to my own {url(99)} since people asked",
        # A link to someone else's post, even with a cue.
        f"For context, read this {url(5, 'someone_else')}",
    ],
)
def test_nothing_is_detected(text: str) -> None:
    assert found(thread(post(1, "A thread about gardens"), post(2, text))) == []


def test_quotes_of_other_peoples_posts_state_nothing() -> None:
    theirs = Quote(url(5, "someone_else"), "someone_else", "their take")
    t = thread(
        post(1, "Earlier thread for context:", quote=theirs),
        post(2, "continued here", quote=theirs),
    )
    assert found(t) == []


def test_only_the_authors_own_posts_count() -> None:
    parent = post(1, f"For context, my earlier thread {url(98, 'someone_else')}", author=THEM)
    mine = post(2, "Replying to that")
    t = Thread("x", parent.url, parent.id, ME, (parent, mine))
    assert found(t) == []


def test_links_into_the_same_thread_are_not_thread_links() -> None:
    t = thread(post(1, "A"), post(2, f"For context see the first post {url(1)}"))
    assert found(t) == []


# -- context and continuations ----------------------------------------------------------


def test_context_cues_in_any_post() -> None:
    t = thread(
        post(1, "A new thread"),
        post(2, f"Previously: {url(50)} and see also {url(60)}"),
    )
    assert found(t) == [("context", "x:1", "x:50"), ("context", "x:1", "x:60")]


def test_continued_here_points_forward_and_continued_from_backward() -> None:
    forward = thread(post(1, "A"), post(2, f"Continued here: {url(70)}"))
    backward = thread(post(1, f"Continued from {url(40)}"), post(2, "B"))
    part_one = thread(post(1, f"Part 2 of my notes. Part 1: {url(40)}"))
    assert found(forward) == [("continues", "x:1", "x:70")]
    assert found(backward) == [("continues", "x:40", "x:1")]
    assert found(part_one) == [("continues", "x:40", "x:1")]


def test_a_thread_opening_with_a_quote_of_the_authors_own_post_may_continue_it() -> None:
    mine = Quote(url(40), "crys_tom", "the end of my last thread")
    (d,) = detect(thread(post(1, "More on this", quote=mine), post(2, "B")), REFS)
    assert (d.kind, d.source.key, d.target.key) == ("continues", "x:40", "x:1")
    assert d.needs_last_post and d.evidence[0].phrase == QUOTE_EVIDENCE


def test_curly_quotes_and_case_do_not_hide_a_cue() -> None:
    t = thread(
        post(1, "A"),
        post(2, "THE TWEET ABOVE BELONGS IN ANOTHER THREAD but I’ve left it here"),
        post(3, f"Here’s where it belongs {url(99)}"),
    )
    (d,) = detect(t, REFS)
    assert isinstance(d, Detected) and d.keep and d.source.key == "x:1"


# -- the phrase file --------------------------------------------------------------------


def test_shipped_phrases_have_english_lists_for_every_role() -> None:
    lists = shipped()
    assert all(lists[role].phrases for role in lists)


def test_another_language_is_one_more_table() -> None:
    phrases = build({"en": {"context": ["for context"]}, "de": {"context": ["zum kontext"]}})
    t = thread(post(1, "Ein Thread"), post(2, f"Zum Kontext: {url(50)}"))
    got = detect(t, REFS, phrases)
    assert [(d.kind, d.target.key, d.evidence[0].phrase) for d in got] == [
        ("context", "x:50", "zum kontext")
    ]


def test_a_broken_phrase_table_is_reported_by_name() -> None:
    with pytest.raises(ValueError, match=r"en\.contxt"):
        build({"en": {"contxt": ["for context"]}})
    with pytest.raises(ValueError, match=r"en\.context must be a list"):
        build({"en": {"context": "for context"}})  # type: ignore[dict-item]


def test_above_in_a_reply_to_someone_else_names_no_post_of_the_author() -> None:
    theirs = post(1, "What do you think?", author=THEM)
    mine = post(2, "Mine")
    note = Post(
        id="x:3",
        url=url(3),
        author=ME,
        created_at="2026-01-01T00:03:00Z",
        text=f"The tweet above belongs in another thread {url(99)}",
        parent_id="x:1",  # replies to the other person's post, not to "Mine"
        links=(url(99),),
    )
    t = Thread("x", theirs.url, theirs.id, ME, (theirs, mine, note))
    assert found(t) == []


def test_bluesky_links_by_handle_resolve_to_the_authors_stable_id() -> None:
    did = "did:plc:abcdefghijklmnopqrstuvwx"
    me = Author(did, "alice.example.com", "Alice", "https://bsky.app/profile/alice.example.com")
    root = Post(
        id=f"at://{did}/app.bsky.feed.post/3kaaaaaaaaaa2",
        url="https://bsky.app/profile/alice.example.com/post/3kaaaaaaaaaa2",
        author=me,
        created_at="2026-01-01T00:00:00Z",
        text="Continued from https://bsky.app/profile/alice.example.com/post/3kbbbbbbbbbb2",
        links=("https://bsky.app/profile/alice.example.com/post/3kbbbbbbbbbb2",),
    )
    other = Post(
        id=f"at://{did}/app.bsky.feed.post/3kcccccccccc2",
        url="https://bsky.app/profile/alice.example.com/post/3kcccccccccc2",
        author=me,
        created_at="2026-01-01T00:01:00Z",
        text="For context https://bsky.app/profile/bob.example.com/post/3kdddddddddd2",
        parent_id=root.id,
        links=("https://bsky.app/profile/bob.example.com/post/3kdddddddddd2",),
    )
    t = Thread("bluesky", root.url, root.id, me, (root, other))
    assert found(t) == [
        ("continues", f"at://{did}/app.bsky.feed.post/3kbbbbbbbbbb2", root.id),
    ]  # and nothing for the link to someone else's post


def test_continuation_cues_count_at_the_start_and_end_of_a_thread_only() -> None:
    middle = thread(
        post(1, "Notes, part 1"),
        post(2, f"Part 2: my older notes are at {url(40)}"),
        post(3, "Part 3"),
        post(4, "Part 4"),
        post(5, "The end"),
    )
    assert found(middle) == []
    end = thread(post(1, "A"), post(2, "B"), post(3, "C"), post(4, f"Continued in {url(70)}"))
    assert found(end) == [("continues", "x:1", "x:70")]
