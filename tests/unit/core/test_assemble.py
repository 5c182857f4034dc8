"""Thread assembly rules: start, longest chain, asides, others' replies, placeholders, caps."""

from __future__ import annotations

import pytest

from bot.assemble import assemble
from bot.errors import NotFound, Refused
from bot.models import Author, ContentNote, FetchedPosts, Post

ALICE = Author("did:alice", "alice.test", "Alice", "https://bsky.app/profile/alice.test")
BOB = Author("did:bob", "bob.test", "Bob", "https://bsky.app/profile/bob.test")


def post(pid: str, parent: str | None, author: Author = ALICE, t: int = 0, **kw: object) -> Post:
    return Post(
        id=pid,
        url=f"https://example.test/{pid}",
        author=author,
        created_at=f"2026-01-01T00:{t // 60:02d}:{t % 60:02d}Z",
        text=f"text of {pid}",
        parent_id=parent,
        root_id=kw.pop("root", None),  # type: ignore[arg-type]
        **kw,  # type: ignore[arg-type]
    )


def fetched(anchor: str, *posts: Post) -> FetchedPosts:
    return FetchedPosts("test", anchor, {p.id: p for p in posts})


def ids(posts: tuple[Post, ...]) -> list[str]:
    return [p.id for p in posts]


def test_link_into_the_middle_unrolls_from_the_first_post() -> None:
    chain = [post("p1", None, t=1)] + [post(f"p{i}", f"p{i - 1}", t=i) for i in range(2, 6)]
    thread = assemble(fetched("p3", *chain), 500)
    assert ids(thread.posts) == ["p1", "p2", "p3", "p4", "p5"]
    assert thread.url == "https://example.test/p1"
    assert thread.root_id == "p1"


def test_others_replies_and_author_replies_to_others_are_excluded() -> None:
    posts = [
        post("p1", None, t=1),
        post("r1", "p1", BOB, t=2),  # someone else's reply
        post("p2", "p1", t=3),
        post("a1", "r1", t=4),  # the author answering Bob: not the thread
        post("p3", "p2", t=5),
    ]
    thread = assemble(fetched("p1", *posts), 500)
    assert ids(thread.posts) == ["p1", "p2", "p3"]
    assert thread.asides == ()


def test_thread_starting_as_a_reply_to_someone_else_starts_at_the_author() -> None:
    posts = [post("b0", None, BOB, t=0), post("p1", "b0", t=1), post("p2", "p1", t=2)]
    thread = assemble(fetched("p2", *posts), 500)
    assert ids(thread.posts) == ["p1", "p2"]


def test_longest_branch_is_the_main_line_and_shorter_ones_are_asides() -> None:
    posts = [
        post("p1", None, t=1),
        post("p2", "p1", t=2),
        post("b1", "p2", t=3),  # earlier, but a short branch
        post("p3", "p2", t=4),
        post("p4", "p3", t=5),
        post("p5", "p4", t=6),
    ]
    thread = assemble(fetched("p1", *posts), 500)
    assert ids(thread.posts) == ["p1", "p2", "p3", "p4", "p5"]
    assert len(thread.asides) == 1
    assert thread.asides[0].after == "p2"
    assert ids(thread.asides[0].posts) == ["b1"]


def test_equal_branches_prefer_the_earliest() -> None:
    posts = [
        post("p1", None, t=1),
        post("late", "p1", t=9),
        post("early", "p1", t=2),
    ]
    thread = assemble(fetched("p1", *posts), 500)
    assert ids(thread.posts) == ["p1", "early"]
    assert ids(thread.asides[0].posts) == ["late"]


def test_aside_keeps_its_own_replies_in_order() -> None:
    posts = [
        post("p1", None, t=1),
        post("b1", "p1", t=2),
        post("b2", "b1", t=3),
        post("p2", "p1", t=4),
        post("p3", "p2", t=5),
        post("p4", "p3", t=6),
    ]
    thread = assemble(fetched("b2", *posts), 500)
    assert ids(thread.posts) == ["p1", "p2", "p3", "p4"]
    assert ids(thread.asides[0].posts) == ["b1", "b2"]


def test_deleted_post_in_the_middle_keeps_its_place() -> None:
    gone = Post("p2", "", ALICE, "", "", parent_id="p1", status="unavailable")
    posts = [post("p1", None, t=1), gone, post("p3", "p2", t=3), post("p4", "p3", t=4)]
    thread = assemble(fetched("p4", *posts), 500)
    assert ids(thread.posts) == ["p1", "p2", "p3", "p4"]
    assert thread.posts[1].status == "unavailable"


def test_orphan_after_an_unreported_deletion_gets_a_placeholder() -> None:
    # The source saw p3 replying to p2, but p2 itself was never returned.
    posts = [
        post("p1", None, t=1),
        post("p3", "p2", t=3, root="p1"),
        post("p4", "p3", t=4, root="p1"),
    ]
    thread = assemble(fetched("p1", *posts), 500)
    assert ids(thread.posts) == ["p1", "p2", "p3", "p4"]
    assert thread.posts[1].status == "unavailable"


def test_trailing_placeholder_does_not_win_the_main_line() -> None:
    gone = Post("g", "", ALICE, "", "", parent_id="p1", status="unavailable")
    posts = [post("p1", None, t=1), gone, post("p2", "p1", t=2)]
    thread = assemble(fetched("p1", *posts), 500)
    assert ids(thread.posts) == ["p1", "p2"]


def test_max_posts_cuts_and_says_so() -> None:
    chain = [post("p0", None, t=0)] + [post(f"p{i}", f"p{i - 1}", t=i) for i in range(1, 600)]
    thread = assemble(fetched("p0", *chain), 500)
    assert len(thread.posts) == 500
    assert thread.truncated


def test_long_chain_has_no_recursion_problem() -> None:
    chain = [post("p0", None, t=0)] + [post(f"p{i}", f"p{i - 1}", t=i) for i in range(1, 3000)]
    thread = assemble(fetched("p2999", *chain), 5000)
    assert len(thread.posts) == 3000


def test_reply_cycle_in_hostile_data_terminates() -> None:
    posts = [post("a", "b", t=1), post("b", "a", t=2)]
    thread = assemble(fetched("a", *posts), 500)
    # Each post once, the linked one included: the cycle is cut, not followed forever.
    assert sorted(ids(thread.posts)) == ["a", "b"]


def test_missing_or_private_anchor() -> None:
    with pytest.raises(NotFound):
        assemble(fetched("nope", post("p1", None)), 500)
    with pytest.raises(Refused):
        assemble(fetched("p1", post("p1", None, visibility="private")), 500)


def test_private_post_inside_the_chain_is_not_shown() -> None:
    posts = [
        post("p1", None, t=1),
        post("p2", "p1", t=2, visibility="private"),
        post("p3", "p2", t=3),
    ]
    thread = assemble(fetched("p1", *posts), 500)
    assert [p.status for p in thread.posts] == ["ok", "unavailable", "ok"]
    assert thread.posts[1].text == ""


def test_author_warnings_become_thread_and_post_notes() -> None:
    cw = ContentNote("other", "author", "mh, therapy")
    posts = [post("p1", None, t=1), post("p2", "p1", t=2, content_notes=(cw,))]
    thread = assemble(fetched("p1", *posts), 500)
    assert thread.content_notes == (cw,)
    assert dict(thread.post_notes) == {"p2": (cw,)}


# -- unreadable parents: whose they are, and whether they belong -----------------------


def gone(pid: str, parent: str | None, author: Author = ALICE, t: int = 0) -> Post:
    return Post(
        pid,
        "",
        author,
        f"2026-01-01T00:{t // 60:02d}:{t % 60:02d}Z",
        "",
        parent_id=parent,
        status="unavailable",
    )


def test_reply_to_someone_elses_unreadable_post_is_a_thread_of_its_own() -> None:
    # Alice's thread, Bob's reply to it (now unreadable), Alice answering Bob.
    posts = [
        post("p1", None, t=1, root="p1"),
        post("p2", "p1", t=2, root="p1"),
        gone("b1", "p1", BOB, t=3),
        post("a1", "b1", t=4, root="p1"),
        post("a2", "a1", t=5, root="p1"),
    ]
    answer = assemble(fetched("a2", *posts), 500)
    assert ids(answer.posts) == ["a1", "a2"]
    assert all(p.status == "ok" for p in answer.all_posts)
    thread = assemble(fetched("p1", *posts), 500)
    assert ids(thread.posts) == ["p1", "p2"]
    assert thread.asides == ()


def test_reply_whose_missing_parent_nobody_reported_is_not_given_one() -> None:
    # The source could not read the parent and could not say whose it was: the post is
    # its own conversation's top, so nothing says the parent was the author's.
    lone = post("a1", "unknown", t=1, root="a1")
    thread = assemble(fetched("a1", lone), 500)
    assert ids(thread.posts) == ["a1"]
    assert thread.posts[0].status == "ok"


def test_authors_own_unreadable_parent_keeps_its_place_without_a_cycle() -> None:
    # The author's hidden post opens the thread; the child is the top the source knows.
    posts = [gone("g", None, t=1), post("c1", "g", t=2, root="c1"), post("c2", "c1", t=3)]
    thread = assemble(fetched("c2", *posts), 500)
    assert ids(thread.posts) == ["g", "c1", "c2"]
    assert [p.status for p in thread.posts] == ["unavailable", "ok", "ok"]


def test_later_self_thread_under_a_hidden_post_is_not_glued_on() -> None:
    # A thread in January, and in March a new one whose first post cannot be read: the
    # March posts name no conversation of January's, so they stay out.
    january = [post("j1", None, t=1, root="j1")] + [
        post(f"j{i}", f"j{i - 1}", t=i, root="j1") for i in range(2, 6)
    ]
    march = [post("m1", "m0", t=500), post("m2", "m1", t=501)]
    thread = assemble(fetched("j1", *january, *march), 500)
    assert ids(thread.posts) == ["j1", "j2", "j3", "j4", "j5"]
    assert thread.asides == ()


def test_guessed_chain_through_a_placeholder_does_not_outrank_the_real_reply() -> None:
    # p1 has a real self-reply (the linked post) and, apart, a self-reply whose parent was
    # erased: the source reports the gap without a parent, and it is guessed to sit under
    # p1. Both branches hold one readable post; the one without a guess is the thread.
    posts = [
        post("p1", None, t=1, root="p1"),
        gone("p1/gap", None, t=2),
        post("e1", "p1/gap", t=2, root="p1"),
        post("r1", "p1", t=9, root="p1"),
    ]
    thread = assemble(fetched("r1", *posts), 500)
    assert ids(thread.posts) == ["p1", "r1"]
    assert [ids(a.posts) for a in thread.asides] == [["p1/gap", "e1"]]
    assert thread.asides[0].after == "p1"


def test_branch_with_more_readable_posts_wins_even_through_a_placeholder() -> None:
    posts = [
        post("p1", None, t=1),
        gone("g", "p1", t=2),
        post("a1", "g", t=3),
        post("a2", "a1", t=4),
        post("b1", "p1", t=5),
    ]
    thread = assemble(fetched("b1", *posts), 500)
    assert ids(thread.posts) == ["p1", "g", "a1", "a2"]
    assert [ids(a.posts) for a in thread.asides] == [["b1"]]


def test_placeholders_alone_never_make_a_branch() -> None:
    posts = [post("p1", None, t=1), gone("g1", "p1", t=2), gone("g2", "g1", t=3)]
    thread = assemble(fetched("p1", *posts), 500)
    assert ids(thread.posts) == ["p1"]
    assert thread.asides == ()
