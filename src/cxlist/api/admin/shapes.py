"""Where the Admin API's answer shapes are tolerated: the one place that unwraps them.

Public clients of the Admin API disagree on shapes (``api-admin.md``, "Variants seen in
public client code"): an answer may be flat or wrapped in ``resultSet`` (or, for one job,
in ``uploadJobs: [{...}]``); a collection may come under any of several names; ids and
phone numbers may be text or integers; an empty collection may be a 204 with no body.
Every reader of an answer goes through :func:`entry` or :func:`collection` here.

An answer in a shape nobody documented raises :class:`ShapeError`; the client turns it
into an :class:`~cxlist.errors.ApiError` (code ``malformed_response``) naming the
endpoint, the ``CorrelationId`` and the top-level keys it saw. A shape is never read as
"nothing there": an empty DNC read that should not be empty is a compliance failure.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

__all__ = [
    "WRAPPERS",
    "Answer",
    "ShapeError",
    "as_int",
    "as_text",
    "as_time",
    "collection",
    "entry",
    "truthy",
]

#: The envelopes an answer's content may come in (``resultSet`` in the generated
#: TypeScript client ``AdminListsService``; the others for a single job or list).
WRAPPERS = ("resultSet",)


@dataclass(frozen=True, slots=True)
class Answer:
    """One decoded answer: its JSON body (None for 204 or an empty body), its HTTP
    status and the ``CorrelationId`` header, for error messages."""

    body: Any
    status: int = 200
    correlation_id: str | None = None

    @property
    def empty(self) -> bool:
        """True for a 204 or an answer without a body."""
        return self.body is None or self.status == 204

    def keys(self) -> list[str]:
        """The top-level keys of the body (empty when it is not an object)."""
        return sorted(self.body) if isinstance(self.body, dict) else []


class ShapeError(Exception):
    """An answer whose shape no public client documents (``detail`` says what was missing)."""

    def __init__(self, detail: str) -> None:
        self.detail = detail
        super().__init__(detail)


def as_text(value: Any) -> str | None:
    """An id or phone number the API may send as text or as an integer, as text."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def as_int(value: Any, default: int | None = 0) -> int | None:
    """A count sent as a number or as digits; ``default`` otherwise."""
    if isinstance(value, bool):
        return default
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return default


def truthy(value: Any) -> bool:
    """A flag sent as a boolean or as text (``"true"``, ``"1"``, ``"yes"``)."""
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes")
    return bool(value)


def as_time(value: Any) -> datetime | None:
    """An ISO 8601 moment (``Z`` or an offset; naive ones read as UTC), else None."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip().replace("Z", "+00:00").replace("z", "+00:00")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _body(answer: Answer) -> dict[str, Any] | None:
    if answer.empty:
        return None
    if not isinstance(answer.body, dict):
        raise ShapeError("the answer is not a JSON object")
    return answer.body


def _layers(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The body itself, then each wrapper it holds, innermost last."""
    layers = [body]
    for wrapper in WRAPPERS:
        inner = body.get(wrapper)
        if isinstance(inner, dict):
            layers.append(inner)
    return layers


def collection(answer: Answer, names: Sequence[str]) -> tuple[list[dict[str, Any]], int | None]:
    """The objects of a collection kept under any of ``names`` (at the top or in a
    wrapper), and the ``totalRecords`` the server reported, if any.

    A 204 (or an empty body) is an empty collection. A body holding none of ``names``
    raises :class:`ShapeError`; so does a collection that is not a list.
    """
    body = _body(answer)
    if body is None:
        return [], None
    for layer in reversed(_layers(body)):
        for name in names:
            if name in layer:
                raw = layer[name]
                if raw is None:
                    return [], _total(layer)
                if not isinstance(raw, list):
                    raise ShapeError(f"{name} is not a list")
                return [v for v in raw if isinstance(v, dict)], _total(layer)
    raise ShapeError(f"no {' / '.join(names)}")


def _total(layer: Mapping[str, Any]) -> int | None:
    return as_int(layer.get("totalRecords"), None)


def entry(
    answer: Answer, keys: Sequence[str], lists: Sequence[str] = (), *, required: bool = True
) -> dict[str, Any]:
    """One object: flat, in a wrapper, or the first of a one-item list under ``lists``
    (``uploadJobs``, ``callingLists``). It must hold at least one of ``keys``.

    A 204 gives ``{}`` unless ``required``; an object holding none of ``keys`` raises
    :class:`ShapeError`.
    """
    body = _body(answer)
    if body is None:
        if required:
            raise ShapeError("the answer is empty")
        return {}
    candidates = _layers(body)
    for layer in list(candidates):
        for name in lists:
            found = layer.get(name)
            if isinstance(found, list) and found and isinstance(found[0], dict):
                candidates.append(found[0])
    for candidate in reversed(candidates):
        if any(key in candidate for key in keys):
            return dict(candidate)
    raise ShapeError(f"no object with {' / '.join(keys)}")
