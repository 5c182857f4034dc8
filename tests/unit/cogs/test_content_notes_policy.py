"""Policies: defaults per category, the rendering decision (action, label, support line),
and what each decision does to a rendered post, with nothing hidden leaking into plain
text."""

from __future__ import annotations

from bot.models import Author, ContentNote, Post
from bot.render import plain
from bot.render.thread_view import post_message
from cogs.content_notes.policy import DEFAULT_ACTIONS, ScopePolicy, decide, label_for

MH = ContentNote("mental-health", "auto", "therapy")
TRAUMA = ContentNote("trauma", "auto", "trauma")
SUI = ContentNote("suicide", "auto", "suicidal")
SH_AUTHOR = ContentNote("self-harm", "author", "sh mention")


def test_defaults_warn_for_the_most_distressing_topics_and_note_for_the_rest() -> None:
    assert {c for c, a in DEFAULT_ACTIONS.items() if a == "warn"} == {
        "suicide", "self-harm", "eating-disorders", "sexual-violence", "abuse",
    }  # fmt: skip
    assert {c for c, a in DEFAULT_ACTIONS.items() if a == "note"} == {
        "trauma", "substance-use", "mental-health", "death-grief", "other",
    }  # fmt: skip
    table = ScopePolicy().table()
    assert all(default for _, _, default in table) and len(table) == 10


def test_note_line_names_the_categories_in_order() -> None:
    d = decide(ScopePolicy(), [TRAUMA, MH])
    assert d.action == "note"
    assert d.label == "Content note: mental health, trauma"
    assert d.support_line is None


def test_strictest_action_wins_and_author_words_are_shown() -> None:
    d = decide(ScopePolicy(), [MH, SH_AUTHOR])
    assert d.action == "warn"
    assert d.label == "Content note: mental health, self-harm — author: sh mention"


def test_other_notes_show_their_reason() -> None:
    assert label_for([ContentNote("other", "author", "graphic-media")]) == (
        "Content note: graphic-media"
    )


def test_policy_changes_the_decision() -> None:
    policy = ScopePolicy({"mental-health": "show", "suicide": "hide"})
    assert decide(policy, [MH]).action == "show"
    assert decide(policy, [MH]).label == ""
    d = decide(policy, [MH, SUI])
    assert d.action == "hide" and d.label == "Content note: suicide"
    assert decide(ScopePolicy({"trauma": "warn"}), [TRAUMA]).action == "warn"


def test_support_line_only_when_suicide_or_self_harm_applies() -> None:
    policy = ScopePolicy(support_line="Our #support channel is open.")
    assert decide(policy, [MH]).support_line is None
    assert decide(policy, [SUI]).support_line == "Our #support channel is open."
    assert decide(policy, [SH_AUTHOR]).support_line == "Our #support channel is open."
    assert decide(ScopePolicy(), [SUI]).support_line is None  # off by default
    shown = ScopePolicy({"suicide": "show"}, "Our #support channel is open.")
    assert decide(shown, [SUI]).support_line is None


def _post(text: str) -> Post:
    author = Author("a", "a.example", "A", "https://a.example")
    return Post("p1", "https://a.example/p1", author, "2026-01-01T00:00Z", text)


SECRET = "I have been thinking about suicide a lot this week"


def test_rendering_per_action_without_leaking_hidden_text() -> None:
    post = _post(SECRET)
    for action, visible in (("show", True), ("note", True), ("warn", False), ("hide", False)):
        policy = ScopePolicy({"suicide": action}, "Support: #help")  # type: ignore[dict-item]
        message = post_message(post, "1/1 ", [SUI], lambda n, p=policy: decide(p, n))
        # The plain-text fallback (notifications, previews, the console) hides it.
        text = "\n".join(plain.chunks(message, 2000, reveal=False))
        assert (SECRET in text) is visible, action
        if action != "show":
            assert "Content note: suicide" in text
            assert "Support: #help" in text
    warn = post_message(post, "", [SUI], lambda n: decide(ScopePolicy(), n))
    assert warn.spoiler == "Content note: suicide"
    hidden = post_message(post, "", [SUI], lambda n: decide(ScopePolicy({"suicide": "hide"}), n))
    assert post.url in plain.message_text(hidden)


def test_warned_post_in_matrix_and_discord_formats_does_not_leak() -> None:
    from bot.render import html, markdown

    long_secret = " ".join([SECRET] * 120)  # several chunks
    message = post_message(_post(long_secret), "1/1 ", [SUI], lambda n: decide(ScopePolicy(), n))
    chunks = html.render(message, 4000)
    assert len(chunks) > 1
    for i, chunk in enumerate(chunks):
        assert "suicide a lot" not in chunk.body  # notifications and previews show body
        # The reason is readable in every event: the note line in the first (its spoiler
        # does not repeat it), the spoiler's own reason in the ones after.
        if i == 0:
            assert "<em>Content note: suicide</em>" in chunk.formatted_body
            assert '<span data-mx-spoiler="">' in chunk.formatted_body
        else:
            assert 'data-mx-spoiler="Content note: suicide"' in chunk.formatted_body
    parts = markdown.chunks(message, 2000)
    spoilered = [p for p in parts if "suicide a lot" in p]
    assert len(spoilered) > 1
    assert all(p.count("||") >= 2 for p in spoilered)
