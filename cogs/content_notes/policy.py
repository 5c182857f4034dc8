"""Per-scope policy: for each category, show | note | warn | hide, and the rendering
decision for a set of notes ("Content note: mental health, trauma", spoiler or not,
support line)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import get_args

from bot.models import ContentNote
from bot.render.thread_view import Action, NoteDecision
from cogs.content_notes.categories import CATEGORY_IDS, ORIGIN_ORDER, display_name

ACTIONS: tuple[Action, ...] = get_args(Action)
RANK: dict[str, int] = {a: i for i, a in enumerate(ACTIONS)}

# The most distressing topics sit behind a spoiler unless a server chooses otherwise.
DEFAULT_ACTIONS: dict[str, Action] = {
    c: (
        "warn"
        if c in ("suicide", "self-harm", "eating-disorders", "sexual-violence", "abuse")
        else "note"
    )
    for c in CATEGORY_IDS
}
SUPPORT_CATEGORIES = frozenset({"suicide", "self-harm"})


@dataclass(frozen=True)
class ScopePolicy:
    """One server's (or room's) choices; categories it has not set use the defaults."""

    actions: Mapping[str, Action] = field(default_factory=dict)
    support_line: str | None = None

    def action_for(self, category: str) -> Action:
        return self.actions.get(category, DEFAULT_ACTIONS.get(category, "note"))

    def table(self) -> list[tuple[str, Action, bool]]:
        """(category, action, is_default) for every category, in canonical order."""
        return [(c, self.action_for(c), c not in self.actions) for c in CATEGORY_IDS]


def _name(note: ContentNote) -> str:
    if note.category == "other":
        return note.reason.strip() or "other"
    return display_name(note.category)


def label_for(notes: Sequence[ContentNote]) -> str:
    """ "Content note: suicide, self-harm — author: sui mention, sh". Auto notes name only
    categories (repeating the triggering words would repeat what the note shields);
    author and moderator reasons follow, since they are someone's own words."""
    # Alphabetical by name, so a label reads the same whichever post was seen first;
    # free-text "other" reasons come last.
    ordered = sorted(
        notes, key=lambda n: (n.category == "other", _name(n).lower(), ORIGIN_ORDER[n.origin])
    )
    names: list[str] = []
    for n in ordered:
        if _name(n) not in names:
            names.append(_name(n))
    extras: list[str] = []
    for n in ordered:
        if n.origin == "auto" or n.category == "other" or not n.reason.strip():
            continue
        extra = f"{n.origin}: {n.reason.strip()}"
        if extra not in extras:
            extras.append(extra)
    label = "Content note: " + ", ".join(names)
    return label + (" — " + "; ".join(extras) if extras else "")


def decide(policy: ScopePolicy, notes: Sequence[ContentNote]) -> NoteDecision:
    """How content carrying ``notes`` is shown under ``policy``: the strictest action of
    the notes, a label naming the categories that are not set to show, and the support
    line when suicide or self-harm applies."""
    shown = [n for n in notes if policy.action_for(n.category) != "show"]
    if not shown:
        return NoteDecision()
    action = max((policy.action_for(n.category) for n in shown), key=RANK.__getitem__)
    support = None
    if policy.support_line and any(n.category in SUPPORT_CATEGORIES for n in shown):
        support = policy.support_line
    return NoteDecision(action, label_for(shown), support)
