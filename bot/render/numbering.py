"""Whether the author numbered a post themselves ("1/", "2/12", "(3/5)", "1/🧵", "🧵 4/"):
then the bot's own "3/12" label would say the same thing twice."""

from __future__ import annotations

import re

# What may follow the slash: a count, "n", "x", "?" or the thread emoji.
_TOTAL = r"(\d{1,4}|[nNxX?]|🧵)?"
_THREAD = r"(?:🧵|🪡|👇|⬇️?)"
_OPENING = re.compile(
    rf"^\s*(?:{_THREAD}\s*)?([(\[]?)\s*(\d{{1,4}})\s*/\s*{_TOTAL}\s*[)\]]?\s*(?:{_THREAD})?"
    r"(?=\s|$|[.:,)\]—–-])"
)
_CLOSING = re.compile(
    rf"(?:^|\s)([(\[]?)\s*(\d{{1,4}})\s*/\s*{_TOTAL}\s*[)\]]?\s*(?:{_THREAD})?\s*$"
)
# An author's count drifts from ours when a post was deleted or moved; allow a little.
_DRIFT = 3


def _plausible(number: int, of: str | None, index: int, total: int) -> bool:
    if abs(number - index) > _DRIFT or number < 1:
        return False
    if of is not None and of.isdigit():
        # "24/7", "2024/25": the count must not be below the number.
        return int(of) >= number and int(of) <= max(total, number) + 2 * _DRIFT
    return True


def author_number(text: str, index: int, total: int) -> int | None:
    """The number the author gave the post at ``index`` (1-based) of ``total``, if they
    numbered it. A fraction at the end of a post can be prose ("about 1/2"), so there it
    must match the post's own place."""
    m = _OPENING.match(text)
    if m and _plausible(int(m.group(2)), m.group(3), index, total):
        return int(m.group(2))
    m = _CLOSING.search(text)
    if m and int(m.group(2)) == index and _plausible(index, m.group(3), index, total):
        return index
    return None
