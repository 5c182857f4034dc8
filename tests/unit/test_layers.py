"""The layers only import downwards, and no modules import each other in a circle.

Every import counts, including ones inside functions and ``if TYPE_CHECKING:`` blocks:
those hide a dependency from the interpreter, not from a reader.

    base      bot.models, errors, codec, config, http, render, commands, context
    storage   storage.*: the database, threads, deliveries, the migration runner
    core      bot.sources.*, assemble, unroller, delivery, dispatcher, host, extensions
    features  cogs.*          (never discord or nio, never an adapter, never a site)
    platforms bot.adapters.*  (never a feature, never another platform)
    top       bot.app, bot.cli, bot.testing
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("bot", "cogs", "storage")

LAYERS = ("base", "storage", "core", "features", "platforms", "top")
_CORE = ("bot.sources", "bot.assemble", "bot.unroller", "bot.delivery", "bot.dispatcher")
_CORE += ("bot.host", "bot.extensions")
_TOP = ("bot.app", "bot.cli", "bot.testing")


def layer_of(module: str) -> str | None:
    def under(*prefixes: str) -> bool:
        return any(module == p or module.startswith(p + ".") for p in prefixes)

    if under("cogs"):
        return "features"
    if under("storage"):
        return "storage"
    if under("bot.adapters"):
        return "platforms"
    if under(*_TOP):
        return "top"
    if under(*_CORE):
        return "core"
    if under("bot"):
        return "base"
    return None  # the standard library and third parties


def modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def imports(module: str, path: Path) -> Iterator[str]:
    """Every module ``module`` names in an import statement, anywhere in the file."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            yield base
            yield from (f"{base}.{alias.name}" for alias in node.names)


def graph() -> dict[str, set[str]]:
    known = modules()
    edges: dict[str, set[str]] = {}
    for module, path in known.items():
        edges[module] = {name for name in imports(module, path) if name in known} - {module}
    return edges


def test_no_layer_imports_a_higher_one() -> None:
    known = modules()
    wrong = []
    for module, path in known.items():
        mine = LAYERS.index(layer_of(module) or "base")
        for name in imports(module, path):
            theirs = layer_of(name)
            if theirs is not None and LAYERS.index(theirs) > mine:
                wrong.append(f"{module} ({LAYERS[mine]}) imports {name} ({theirs})")
    assert not wrong, "\n".join(sorted(set(wrong)))


def sites() -> set[str]:
    return {p.parent.name for p in (ROOT / "bot" / "sources").glob("*/__init__.py")}


def test_features_use_no_platform_library_and_name_no_site() -> None:
    wrong = []
    site_names = sites()
    assert {"bluesky", "mastodon", "x"} <= site_names
    for module, path in modules().items():
        if not module.startswith("cogs"):
            continue
        for name in imports(module, path):
            top = name.split(".")[0]
            site = name.startswith("bot.sources.") and name.split(".")[2] in site_names
            if top in ("discord", "nio") or name.startswith("bot.adapters") or site:
                wrong.append(f"{module} imports {name}")
    assert not wrong, "\n".join(sorted(set(wrong)))


def test_platforms_and_sites_keep_to_their_own_package() -> None:
    wrong = []
    for module, path in modules().items():
        for kind in ("bot.adapters.", "bot.sources."):
            if not module.startswith(kind) or module.count(".") < 2:
                continue
            own = module.split(".")[2]
            for name in imports(module, path):
                if name.startswith(kind) and name.count(".") >= 2:
                    other = name.split(".")[2]
                    shared = other in ("base", "html_text", "registry")
                    if other != own and not shared and own != "registry":
                        wrong.append(f"{module} imports {name}")
    assert not wrong, "\n".join(sorted(set(wrong)))


def test_no_import_cycles() -> None:
    edges = graph()
    cycles: list[list[str]] = []
    state: dict[str, int] = {}  # 1 visiting, 2 done
    stack: list[str] = []

    def visit(module: str) -> None:
        state[module] = 1
        stack.append(module)
        for name in sorted(edges[module]):
            if state.get(name) == 1:
                cycles.append([*stack[stack.index(name) :], name])
            elif name not in state:
                visit(name)
        stack.pop()
        state[module] = 2

    for module in sorted(edges):
        if module not in state:
            visit(module)
    assert not cycles, "\n".join(" -> ".join(c) for c in cycles)


def test_the_checks_see_what_they_check() -> None:
    """Guards the guard: the walk finds the code, and a lazy import counts."""
    found = modules()
    assert {"bot.app", "cogs.links.repo", "storage.db", "bot.adapters.matrix"} <= set(found)
    assert "bot.extensions" in set(imports("bot.app", found["bot.app"]))
    assert layer_of("cogs.links.repo") == "features" and layer_of("bot.models") == "base"
    # Every module the layer lists name exists: a renamed one would fall silently to "base".
    stale = [m for m in (*_CORE, *_TOP) if m not in found]
    assert not stale, f"the layer lists name modules that do not exist: {stale}"
