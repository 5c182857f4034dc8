"""The content-note categories: stable ids, display names, and the abbreviations authors
use in their own warnings ("cw: sui, sh")."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Category:
    id: str  # stable: stored in the database and shown in JSON
    name: str  # display name (can be localised; never stored)
    description: str


CATEGORIES: tuple[Category, ...] = (
    Category("suicide", "suicide", "suicide, suicidal thoughts, attempts"),
    Category("self-harm", "self-harm", "self-harm and self-injury"),
    Category("eating-disorders", "eating disorders", "anorexia, bulimia, binge eating, ..."),
    Category("sexual-violence", "sexual violence", "rape, sexual assault, child sexual abuse"),
    Category("abuse", "abuse", "domestic, child, emotional abuse"),
    Category("trauma", "trauma", "trauma, PTSD, flashbacks"),
    Category("substance-use", "substance use", "addiction, alcohol, drugs, overdose"),
    Category(
        "mental-health",
        "mental health",
        "therapy, psychiatry, hospitalisation, diagnoses",
    ),
    Category("death-grief", "death and grief", "death, dying, bereavement"),
    Category("other", "other", "anything else, in the author's or moderator's words"),
)

BY_ID: dict[str, Category] = {c.id: c for c in CATEGORIES}
CATEGORY_IDS: tuple[str, ...] = tuple(c.id for c in CATEGORIES)
# Canonical order: labels list categories in this order whatever order they were found in.
ORDER: dict[str, int] = {c.id: i for i, c in enumerate(CATEGORIES)}
# Who noted a category, the most deliberate first: when several did, that one speaks, and
# a label lists them in this order.
ORIGIN_ORDER: dict[str, int] = {"moderator": 0, "author": 1, "auto": 2}

# Short forms authors write in their own warnings. Only trusted inside a warning
# ("CW: sh"), never in running text, where "sh", "ed" and "mh" mean other things.
ABBREVIATIONS: dict[str, str] = {
    "sui": "suicide",
    "suic": "suicide",
    "suicide": "suicide",
    "si": "suicide",
    "unalive": "suicide",
    "sh": "self-harm",
    "selfharm": "self-harm",
    "self harm": "self-harm",
    "si/sh": "self-harm",
    "ed": "eating-disorders",
    "eating disorder": "eating-disorders",
    "eating disorders": "eating-disorders",
    "disordered eating": "eating-disorders",
    "weight loss": "eating-disorders",
    "diet talk": "eating-disorders",
    "dieting": "eating-disorders",
    "calories": "eating-disorders",
    "calorie counting": "eating-disorders",
    "sa": "sexual-violence",
    "csa": "sexual-violence",
    "rape": "sexual-violence",
    "noncon": "sexual-violence",
    "sexual assault": "sexual-violence",
    "sexual violence": "sexual-violence",
    "abuse": "abuse",
    "dv": "abuse",
    "ipv": "abuse",
    "domestic violence": "abuse",
    "child abuse": "abuse",
    "ptsd": "trauma",
    "cptsd": "trauma",
    "c ptsd": "trauma",
    "trauma": "trauma",
    "flashbacks": "trauma",
    "drugs": "substance-use",
    "drug use": "substance-use",
    "alcohol": "substance-use",
    "addiction": "substance-use",
    "substance use": "substance-use",
    "substances": "substance-use",
    "mh": "mental-health",
    "mental health": "mental-health",
    "mental illness": "mental-health",
    "meds": "mental-health",
    "psych": "mental-health",
    "depression": "mental-health",
    "anxiety": "mental-health",
    "death": "death-grief",
    "dying": "death-grief",
    "grief": "death-grief",
    "loss": "death-grief",
    "bereavement": "death-grief",
    "child death": "death-grief",
    "pet death": "death-grief",
}


def display_name(category_id: str) -> str:
    cat = BY_ID.get(category_id)
    return cat.name if cat else category_id


def parse_category(word: str) -> str | None:
    """A category id from what a moderator typed: the id, the display name, or an
    abbreviation ("sh", "mh", "ed")."""
    key = " ".join(word.strip().lower().replace("_", " ").replace("-", " ").split())
    for cat in CATEGORIES:
        if key in (cat.id.replace("-", " "), cat.name.replace("-", " ")):
            return cat.id
    return ABBREVIATIONS.get(key)
