"""The notes repository: policies, support lines, thread warnings and the action log."""

from __future__ import annotations

from cogs.content_notes.repo import NoteAction, NotesRepo
from storage.db import Database


def _log(action: str, at: float = 100.0, scope: str = "s1") -> NoteAction:
    return NoteAction(at, "u1", "Uma", "memory", scope, "c1", action, "detail")


async def test_policies_and_support_lines_round_trip(db: Database) -> None:
    repo = NotesRepo(db)
    await repo.set_action("s1", "trauma", "warn", _log("policy"))
    await repo.set_action("s1", "trauma", "hide", _log("policy", 101))
    await repo.set_support_line("s1", "Talk to us", _log("support", 102))
    await repo.set_action("s2", "suicide", "show", _log("policy", 103, "s2"))
    s1 = await repo.settings("s1")
    assert s1.actions == {"trauma": "hide"} and s1.support_line == "Talk to us"
    everything = await repo.all_settings()
    assert everything["s2"].actions == {"suicide": "show"} and everything["s2"].support_line is None
    await repo.set_support_line("s1", None, _log("support", 104))
    assert (await repo.settings("s1")).support_line is None
    assert [a.action for a in await repo.recent_actions("s1")] == [
        "support", "support", "policy", "policy",
    ]  # fmt: skip


async def test_thread_warnings_found_by_any_key_even_among_many(db: Database) -> None:
    repo = NotesRepo(db)
    await repo.add_warnings("root-7", "https://x/7", ["trauma", "abuse"], "why", _log("add"))
    keys = [f"post-{i}" for i in range(1500)] + ["root-7"]
    found = await repo.warnings_for(keys)
    assert {(w.thread_key, w.category, w.reason) for w in found} == {
        ("root-7", "trauma", "why"),
        ("root-7", "abuse", "why"),
    }
    # Re-adding re-words instead of duplicating.
    await repo.add_warnings("root-7", "https://x/7", ["trauma"], "new words", _log("add", 200))
    assert {w.reason for w in await repo.warnings_for(["root-7"])} == {"why", "new words"}
    assert await repo.remove_warnings("root-7", "abuse", _log("remove", 300)) == 1
    assert await repo.remove_warnings("root-7", "abuse", _log("remove", 301)) == 0
    assert await repo.remove_warnings("root-7", None, _log("remove", 302)) == 1
    assert await repo.warnings_for(["root-7"]) == []
    # Only effective removals are logged.
    assert [a.action for a in await repo.recent_actions()].count("remove") == 2
