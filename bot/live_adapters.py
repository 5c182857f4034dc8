"""The chat adapters of this process by name, as features see them: only the live ones.

An adapter may be running yet not live: a Matrix adapter whose session another bot process
holds stands by, and everything that would send through it (subscriptions, edits, resumed
deliveries) must leave that to the process that holds it. An adapter says so with a
``live`` attribute; one without it is always live.
"""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping
from typing import TypeVar

A = TypeVar("A")


def is_live(adapter: object) -> bool:
    return bool(getattr(adapter, "live", True))


class LiveAdapters(MutableMapping[str, A]):
    """Reads show the live adapters only; ``every()`` gives all of them (to close)."""

    def __init__(self) -> None:
        self._all: dict[str, A] = {}

    def __getitem__(self, name: str) -> A:
        adapter = self._all[name]
        if not is_live(adapter):
            raise KeyError(name)
        return adapter

    def __setitem__(self, name: str, adapter: A) -> None:
        self._all[name] = adapter

    def __delitem__(self, name: str) -> None:
        del self._all[name]

    def __iter__(self) -> Iterator[str]:
        return iter([name for name, adapter in self._all.items() if is_live(adapter)])

    def __len__(self) -> int:
        return sum(1 for adapter in self._all.values() if is_live(adapter))

    def every(self) -> list[A]:
        return list(self._all.values())
