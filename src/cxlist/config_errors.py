"""Settings errors as one line a person can act on: where, which key, what is wrong, and the
closest valid key.

``cxlist.toml: [dedupe] polcy: unknown key; did you mean 'policy'?``

Used by :mod:`cxlist.settings` (the connection, upload, run and webhook sections) and by
:mod:`cxlist.pipeline.config` (the pipeline's sections), so both speak alike.
"""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pydantic is imported when an error is described, not before
    from pydantic import BaseModel, ValidationError

__all__ = ["closest", "describe_validation_error", "did_you_mean", "section_label"]

#: Sections written as arrays of tables (``[[lists]]``), not tables.
_ARRAY_SECTIONS = frozenset({"lists", "webhooks"})


def closest(word: str, choices: Sequence[str]) -> str | None:
    """The choice most like ``word`` (a typo's likely intent), or None when none is close."""
    found = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    if not found:
        found = difflib.get_close_matches(word.lower(), [c.lower() for c in choices], n=1)
        found = [c for c in choices if found and c.lower() == found[0]]
    return found[0] if found else None


def did_you_mean(word: str, choices: Sequence[str], *, template: str = "'{}'") -> str:
    """``"; did you mean 'x'?"`` when a choice is close to ``word``, else ``""``."""
    match = closest(word, choices)
    return f"; did you mean {template.format(match)}?" if match else ""


def section_label(name: str) -> str:
    """How a section is written in TOML: ``[scoring]`` or ``[[lists]]``."""
    return f"[[{name}]]" if name in _ARRAY_SECTIONS else f"[{name}]"


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    """The pydantic models an annotation can hold (``X``, ``X | None``, ``tuple[X, ...]``)."""
    from pydantic import BaseModel

    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    origin = typing.get_origin(annotation)
    if origin is None and not isinstance(annotation, types.UnionType):
        return []
    found: list[type[BaseModel]] = []
    for arg in typing.get_args(annotation):
        found.extend(_models_in(arg))
    return found


def _keys_of(model: type[BaseModel]) -> list[str]:
    return [field.alias or name for name, field in model.model_fields.items()]


def _model_at(root: type[BaseModel], loc: Sequence[int | str]) -> type[BaseModel] | None:
    """The model that holds the last key of ``loc`` (None when ``loc`` leaves the models)."""
    model: type[BaseModel] | None = root
    for part in loc[:-1]:
        if model is None:
            return None
        if isinstance(part, int):
            continue
        field = next(
            (f for n, f in model.model_fields.items() if part in (n, f.alias)),
            None,
        )
        models = _models_in(field.annotation) if field is not None else []
        model = models[0] if models else None
    return model


def _where(loc: Sequence[int | str]) -> tuple[str, str]:
    """``([section], key)`` for a location; entries of an array of tables are numbered from 1."""
    if not loc:
        return "", ""
    section = section_label(str(loc[0]))
    rest = list(loc[1:])
    if rest and isinstance(rest[0], int):
        section += f" #{int(rest.pop(0)) + 1}"
    key = ".".join(str(p + 1) if isinstance(p, int) else str(p) for p in rest)
    return section, key


def _problem(error: Mapping[str, Any]) -> str:
    message = str(error["msg"])
    for prefix in ("Value error, ", "Assertion failed, "):
        message = message.removeprefix(prefix)
    if error["type"] not in ("extra_forbidden", "missing") and "input" in error:
        shown = error["input"]
        if isinstance(shown, str | int | float | bool) and "@" not in str(shown):
            message += f" (got {shown!r})"
    return message


def describe_validation_error(
    err: ValidationError,
    root: type[BaseModel],
    *,
    source: str | None = None,
    origins: Mapping[tuple[str, str], str] | None = None,
) -> str:
    """One line for the first problem of ``err``: where it is, what is wrong, a likely fix.

    ``root`` is the model that was validated (to find the valid keys of a typo's section),
    ``source`` the file, and ``origins`` names where a ``(section, key)`` value came from when
    not the file (``CXONE_BASE_URL``, ``--concurrency``).
    """
    problems = err.errors()
    first = problems[0]
    loc = [p for p in first["loc"] if isinstance(p, int | str)]
    section, key = _where(loc)
    origin = (origins or {}).get((str(loc[0]), str(loc[-1]))) if len(loc) >= 2 else None
    head = origin or source
    place = " ".join(p for p in (section, key) if p)
    text = _problem(first)
    if first["type"] == "extra_forbidden":
        text = "unknown key"
        model = _model_at(root, loc)
        if model is not None:
            text += did_you_mean(str(loc[-1]), _keys_of(model))
    line = ": ".join(p for p in (head, place, text) if p)
    if len(problems) > 1:
        line += f" (and {len(problems) - 1} more problem{'s' if len(problems) > 2 else ''})"
    return line
