"""Commands are declared once, in the cog, with typed parameters: the one registry.

One declaration drives the help text, text argument parsing (console, Matrix), the
Discord option schema, the ``unrollbot`` subcommand (``cli=True``) and a passive trigger
(``trigger="link"``: a message that is just a supported link runs the command). Handlers
receive a Context and keyword arguments.
"""

from __future__ import annotations

import shlex
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from bot.errors import UsageError, quoted

ParamKind = Literal["str", "url", "int", "bool", "choice", "rest"]
# What starts a command without its name: "link", a message holding a supported link.
Trigger = Literal["link"]
Handler = Callable[..., Awaitable[None]]


@dataclass(frozen=True)
class Param:
    name: str
    description: str
    kind: ParamKind = "str"
    required: bool = True
    choices: tuple[str, ...] = ()
    default: Any = None
    # Suggest values while typing (Discord autocomplete); names a Cog method.
    autocomplete: str | None = None
    # On the command line: ``--name VALUE`` rather than a positional argument. (A ``bool``
    # is always ``--name``; a ``rest`` parameter takes each remaining argument as one item.)
    option: bool = False


@dataclass(frozen=True)
class CommandSpec:
    name: str  # "unroll", or "cw add" for a subcommand of a group
    description: str
    params: tuple[Param, ...] = ()
    moderator: bool = False
    examples: tuple[str, ...] = ()
    # A message context menu (Discord) that runs this command on the message's first link.
    context_menu: str | None = None
    # Where it is offered: in chat, and/or as an ``unrollbot`` subcommand (run as the local
    # operator, a moderator, on the configured database).
    chat: bool = True
    cli: bool = False
    trigger: Trigger | None = None
    # Command line only: runs on the config alone, without opening the database.
    offline: bool = False
    handler: Handler | None = field(default=None, compare=False)

    @property
    def group(self) -> str | None:
        return self.name.split(" ", 1)[0] if " " in self.name else None

    @property
    def usage(self) -> str:
        parts = [self.name]
        for p in self.params:
            label = p.name if p.kind != "choice" else "|".join(p.choices)
            if p.kind == "rest":
                label += "..."
            if p.kind == "bool":
                label = f"{p.name}:true"
            parts.append(f"<{label}>" if p.required else f"[{label}]")
        return " ".join(parts)

    def bind(self, handler: Handler) -> CommandSpec:
        return replace(self, handler=handler)


_SPEC_ATTR = "__unrollbot_command__"


def command(
    name: str,
    description: str,
    *params: Param,
    moderator: bool = False,
    examples: tuple[str, ...] = (),
    context_menu: str | None = None,
    chat: bool = True,
    cli: bool = False,
    trigger: Trigger | None = None,
    offline: bool = False,
) -> Callable[[Handler], Handler]:
    """Mark a cog method as a command."""

    def mark(fn: Handler) -> Handler:
        spec = CommandSpec(
            name,
            description,
            params,
            moderator,
            examples,
            context_menu,
            chat=chat,
            cli=cli,
            trigger=trigger,
            offline=offline,
        )
        setattr(fn, _SPEC_ATTR, spec)
        return fn

    return mark


class Cog:
    """A feature: a plain class whose decorated methods are commands."""

    @classmethod
    def declared(cls) -> Iterator[tuple[str, CommandSpec]]:
        """(method name, declaration) of each command, unbound: the command line reads
        them before any bot exists."""
        for attr in dir(cls):
            spec = getattr(getattr(cls, attr, None), _SPEC_ATTR, None)
            if isinstance(spec, CommandSpec):
                yield attr, spec

    @classmethod
    def offline(cls, config: Any) -> Cog:
        """The cog built from the config alone, for its ``offline`` commands."""
        raise NotImplementedError(f"{cls.__name__} has no offline commands")

    def commands(self) -> Iterator[CommandSpec]:
        for attr, spec in self.declared():
            yield spec.bind(getattr(self, attr))

    async def start(self) -> None:
        """Called once the app is wired (background tasks start here)."""

    async def stop(self) -> None:
        """Called on shutdown; finish or record pending work."""


def _convert(param: Param, raw: str) -> Any:
    if param.kind == "int":
        try:
            return int(raw)
        except ValueError:
            raise UsageError(f"{param.name} must be a whole number, not {quoted(raw)}") from None
    if param.kind == "bool":
        low = raw.lower()
        if low in ("true", "yes", "1", "on"):
            return True
        if low in ("false", "no", "0", "off"):
            return False
        raise UsageError(f"{param.name} must be true or false, not {quoted(raw)}")
    if param.kind == "choice":
        low = raw.lower()
        if low not in param.choices:
            choices = ", ".join(param.choices)
            raise UsageError(f"{param.name} must be one of {choices}; got {quoted(raw)}")
        return low
    if param.kind == "url":
        # Chat clients wrap links in <...>; handles and bare words are the handler's to check.
        return raw.strip("<>")
    return raw


def parse_text_args(spec: CommandSpec, text: str) -> dict[str, Any]:
    """Parse the text after a command name: positional words in order, ``name:value``
    for any parameter by name, quotes for spaces; a ``rest`` parameter takes the remainder."""
    try:
        words = shlex.split(text)
    except ValueError as exc:
        raise UsageError(f"Could not read the arguments ({exc}).", spec.usage) from None
    by_name = {p.name: p for p in spec.params}
    values: dict[str, Any] = {}
    positional: list[str] = []
    for word in words:
        key, sep, value = word.partition(":")
        if sep and key in by_name and not value.startswith("//"):
            values[key] = _convert(by_name[key], value)
        else:
            positional.append(word)
    for param in spec.params:
        if param.name in values:
            continue
        if param.kind == "rest":
            if positional:
                values[param.name] = " ".join(positional)
                positional = []
            continue
        if param.kind == "bool":
            continue
        if positional:
            values[param.name] = _convert(param, positional.pop(0))
    if positional:
        raise UsageError(f"Too many arguments: {quoted(' '.join(positional))}.", spec.usage)
    for param in spec.params:
        if param.name not in values:
            if param.required:
                raise UsageError(f"Missing {param.name}.", spec.usage)
            values[param.name] = param.default
    return values


def check_args(spec: CommandSpec, args: dict[str, Any]) -> dict[str, Any]:
    """Validate already-typed arguments (e.g. from Discord options) the same way."""
    out: dict[str, Any] = {}
    for param in spec.params:
        raw = args.get(param.name)
        if raw is None:
            if param.required:
                raise UsageError(f"Missing {param.name}.", spec.usage)
            out[param.name] = param.default
        elif isinstance(raw, str):
            out[param.name] = _convert(param, raw)
        else:
            out[param.name] = raw
    return out


__all__ = [
    "Cog",
    "CommandSpec",
    "Param",
    "Trigger",
    "check_args",
    "command",
    "parse_text_args",
]
