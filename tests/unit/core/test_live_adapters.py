"""Features see only the adapters live in this process: a Matrix adapter standing by
(another process holds the session) is not offered for sending, yet is still closed."""

from __future__ import annotations

from bot.live_adapters import LiveAdapters


class Adapter:
    def __init__(self, name: str, live: bool | None = None) -> None:
        self.name = name
        if live is not None:
            self.live = live


def test_only_live_adapters_are_offered() -> None:
    adapters: LiveAdapters[Adapter] = LiveAdapters()
    console, matrix = Adapter("console"), Adapter("matrix", live=False)
    adapters["console"] = console
    adapters["matrix"] = matrix
    assert adapters.get("matrix") is None and "matrix" not in adapters
    assert dict(adapters) == {"console": console} and len(adapters) == 1
    assert adapters.every() == [console, matrix]  # closed at shutdown all the same

    matrix.live = True  # took over the session
    assert adapters["matrix"] is matrix and list(adapters) == ["console", "matrix"]
    del adapters["matrix"]
    assert adapters.every() == [console]
