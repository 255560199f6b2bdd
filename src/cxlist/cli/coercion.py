"""Command-line values converted without pydantic when that is certainly what typer would do.

typer (0.29 and later) converts every non-flag parameter through a pydantic ``TypeAdapter``,
built on first use: importing pydantic and building the adapters took longer than a short
command's own work (``cxlist runs list``). The groups here (:class:`QuickGroup`, the ``cls`` of
every cxlist group) give each parameter of the command being run a converter that handles
the plain cases itself: a ``str``, a ``Path`` that passes its checks, a decimal ``int`` or
``float`` within its bounds, an enum member named exactly, lists of those, and a missing
value. Anything else (a bad value, a bound crossed, a path that fails a check, a form
typer's adapter may read differently) goes to typer's own converter, built then as before, so
values and error messages stay typer's.

With a typer that converts values some other way (no ``type_descriptor`` on its
parameters), nothing is changed.
"""

from __future__ import annotations

import os
import re
import stat
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer.core

if TYPE_CHECKING:
    from typer._click import Command, Context, Parameter

__all__ = ["QuickGroup", "install_quick_coercion"]

#: "Not sure": the value goes to typer's own converter.
_UNSURE: Any = object()
_INT = re.compile(r"-?(?:0|[1-9][0-9]{0,17})")
_FLOAT = re.compile(r"-?(?:0|[1-9][0-9]{0,14})(?:\.[0-9]{1,15})?")


class QuickGroup(typer.core.TyperGroup):
    """A typer group whose own parameters, and those of the commands it runs, convert plain
    values without pydantic (help and behaviour unchanged)."""

    def parse_args(self, ctx: Context, args: list[str]) -> list[str]:
        """Install the quick converters on this group's options, then parse as typer does."""
        install_quick_coercion(self, ctx)
        return super().parse_args(ctx, args)

    def get_command(self, ctx: Context, cmd_name: str) -> Command | None:
        """The sub-command, its parameters given the quick converters."""
        command = super().get_command(ctx, cmd_name)
        if command is not None and not isinstance(command, QuickGroup):
            # its context will have this one's help option names unless it sets its own
            own_help = "help_option_names" in (command.context_settings or {})
            install_quick_coercion(command, None if own_help else ctx)
        return command


def install_quick_coercion(command: Command, ctx: Context | None) -> None:
    """Give each typer parameter of ``command`` (its help option too, given the context it
    is parsed in) that has no converter yet the quick one."""
    for param in command.params if ctx is None else command.get_params(ctx):
        if getattr(param, "_runtime_param", _UNSURE) is None and hasattr(param, "type_descriptor"):
            param.__dict__["_runtime_param"] = _QuickParam(param)


class _QuickParam:
    """Converts a parameter's plain values itself and hands the rest to typer's converter
    (the ``coerce`` typer's parameter calls)."""

    def __init__(self, param: Parameter) -> None:
        descriptor = param.type_descriptor  # type: ignore[attr-defined]
        self.annotation = descriptor.annotation
        self.info = descriptor.parameter_info
        self.plain = descriptor.file_annotation is None and self.info.parser is None

    def coerce(self, value: Any, param: Parameter, ctx: Context) -> Any:
        """The value as typer would convert it."""
        multiple = param.multiple or param.nargs == -1
        if value is None:
            return () if multiple else None
        if self.plain:
            if multiple:
                quick = self._many(value, ctx)
            else:
                quick = _one(value, self.annotation, self.info, ctx)
            if quick is not _UNSURE:
                return quick
        # typer's own converter, from now on (it raises typer's error for a bad value)
        param.__dict__["_runtime_param"] = None
        return param.get_runtime_param().coerce(value, param=param, ctx=ctx)  # type: ignore[attr-defined]

    def _many(self, value: Any, ctx: Context) -> Any:
        """A list option's or argument's values: a list of converted items."""
        args: tuple[Any, ...] = getattr(self.annotation, "__args__", ())
        if getattr(self.annotation, "__origin__", None) is not list or len(args) != 1:
            return _UNSURE
        if not isinstance(value, list | tuple):
            return _UNSURE
        items = [_one(item, args[0], self.info, ctx) for item in value]
        return _UNSURE if any(item is _UNSURE for item in items) else items


def _one(value: Any, annotation: Any, info: Any, ctx: Context) -> Any:
    """One value of a plain type, converted as typer's adapter would; else :data:`_UNSURE`."""
    if annotation is str:
        return value if type(value) is str else _UNSURE
    if annotation in (int, float) and not info.clamp:
        number = _number(value, annotation)
        return number if number is not None and _within(number, info) else _UNSURE
    if annotation is Path and info.path_type is None:
        return _path(value, info)
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return _choice(value, annotation, info, ctx)
    return _UNSURE


def _number(value: Any, kind: type[float]) -> float | None:
    """An ``int`` (or ``float``) as it is, or written plainly in decimal; else None."""
    if type(value) is kind:
        return value
    pattern = _INT if kind is int else _FLOAT
    if type(value) is str and pattern.fullmatch(value):
        return kind(value)
    return None


def _within(number: float, info: Any) -> bool:
    return (info.min is None or number >= info.min) and (info.max is None or number <= info.max)


def _path(value: Any, info: Any) -> Any:
    """A path that passes every check typer would make; else :data:`_UNSURE`."""
    if isinstance(value, Path):
        path = value
    elif type(value) is str and value and "\x00" not in value:
        path = Path(value)
    else:
        return _UNSURE
    if info.resolve_path or (info.allow_dash and value == "-"):
        return _UNSURE
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return _UNSURE if info.exists else path
    if (not info.file_okay and stat.S_ISREG(mode)) or (not info.dir_okay and stat.S_ISDIR(mode)):
        return _UNSURE
    if (info.readable and not os.access(path, os.R_OK)) or (
        info.writable and not os.access(path, os.W_OK)
    ):
        return _UNSURE
    return path


def _choice(value: Any, annotation: type[Enum], info: Any, ctx: Context) -> Any:
    """An enum member, given or named by its exact value; else :data:`_UNSURE`."""
    if isinstance(value, annotation):
        return value
    if type(value) is not str or not info.case_sensitive or ctx.token_normalize_func is not None:
        return _UNSURE
    for member in annotation:
        if str(member.value) == value:
            return member
    return _UNSURE
