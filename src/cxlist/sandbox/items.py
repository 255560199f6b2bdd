"""The rules of ``POST /api/v2/lists/{id}/items``, as pure functions.

:func:`parse_items` turns a decoded body into checked items or per-item details;
:func:`plan_add` decides, for a list's duplicate policy and the keys already stored, what
each item becomes (created, updated, skipped) or which items conflict.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "MAX_BODY_BYTES",
    "MAX_ITEMS",
    "AddPlan",
    "BodyError",
    "Key",
    "ParsedItem",
    "parse_items",
    "plan_add",
]

MAX_ITEMS = 1000
MAX_BODY_BYTES = 1024 * 1024
MAX_VALUE_CHARS = 1024
DEFAULT_PRIORITY = 5

_E164 = re.compile(r"^\+[1-9][0-9]{7,14}$")
_FIELD_NAME = re.compile(r"^[A-Za-z0-9_]{1,64}$")

Key = tuple[str, str]
Detail = dict[str, Any]


class BodyError(Exception):
    """The request as a whole is malformed (``invalid_request``)."""


@dataclass(frozen=True, slots=True)
class ParsedItem:
    """One checked item: its key (first dedup key), what to store, and its index."""

    index: int
    key: Key
    deduplication_keys: list[dict[str, Any]]
    fields: list[dict[str, Any]]
    priority: int


def parse_items(body: Any) -> tuple[list[ParsedItem], list[Detail]]:
    """Check every item of ``body``; return the parsed items and the per-item details.

    Raises :class:`BodyError` when ``body`` is not an object with a non-empty ``items``
    list. A non-empty details list means the whole request must be refused.
    """
    if not isinstance(body, dict):
        raise BodyError("the body must be a JSON object")
    raw = body.get("items")
    if not isinstance(raw, list) or not raw:
        raise BodyError("'items' must be a non-empty array")
    parsed: list[ParsedItem] = []
    details: list[Detail] = []
    for index, item in enumerate(raw):
        problems = _check_item(item)
        if problems:
            details.extend({"index": index, "field": f, "message": m} for f, m in problems)
        else:
            parsed.append(_parse_checked(index, item))
    return parsed, details


def _parse_checked(index: int, item: dict[str, Any]) -> ParsedItem:
    keys = [{"name": k["name"], "value": k["value"]} for k in item["deduplicationKeys"]]
    fields = [{"name": f["name"], "value": f.get("value")} for f in item.get("fields", [])]
    return ParsedItem(
        index=index,
        key=(keys[0]["name"], keys[0]["value"]),
        deduplication_keys=keys,
        fields=fields,
        priority=item.get("priority", DEFAULT_PRIORITY),
    )


def _check_item(item: Any) -> list[tuple[str, str]]:
    if not isinstance(item, dict):
        return [("item", "must be an object")]
    return [
        *_check_keys(item.get("deduplicationKeys")),
        *_check_fields(item.get("fields", [])),
        *_check_priority(item.get("priority", DEFAULT_PRIORITY)),
    ]


def _check_keys(keys: Any) -> list[tuple[str, str]]:
    if not isinstance(keys, list) or not keys:
        return [("deduplicationKeys", "must be a non-empty array of {name, value}")]
    for key in keys:
        if not isinstance(key, dict) or not isinstance(key.get("name"), str) or not key["name"]:
            return [("deduplicationKeys", "each key needs a non-empty 'name'")]
        if not isinstance(key.get("value"), str) or not key["value"]:
            return [("deduplicationKeys", f"key {key['name']!r} needs a non-empty string value")]
    return []


def _check_fields(fields: Any) -> list[tuple[str, str]]:
    if not isinstance(fields, list):
        return [("fields", "must be an array of {name, value}")]
    problems: list[tuple[str, str]] = []
    values: dict[str, Any] = {}
    for entry in fields:
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            problems.append(("fields", "each field must be an object with a string 'name'"))
            continue
        name, value = entry["name"], entry.get("value")
        problem = _field_problem(name, value, values)
        if problem:
            problems.append((name or "fields", problem))
        values[name] = value
    return problems or _check_contact(values)


def _field_problem(name: str, value: Any, seen: Mapping[str, Any]) -> str | None:
    if not _FIELD_NAME.match(name):
        return f"bad field name {name!r}: 1 to 64 characters of [A-Za-z0-9_]"
    if name in seen:
        return "field repeated in the item"
    if isinstance(value, bool) or not (value is None or isinstance(value, str | int | float)):
        return "value must be a string, a number or null"
    if isinstance(value, str) and len(value) > MAX_VALUE_CHARS:
        return f"value longer than {MAX_VALUE_CHARS} characters"
    return None


def _check_contact(values: Mapping[str, Any]) -> list[tuple[str, str]]:
    phone, email = values.get("phone_number"), values.get("email")
    if phone is None and email is None:
        return [("fields", "the item needs a phone_number or email field")]
    if phone is not None and not (isinstance(phone, str) and _E164.match(phone)):
        return [("phone_number", f"not E.164: {phone!r}")]
    return []


def _check_priority(priority: Any) -> list[tuple[str, str]]:
    if isinstance(priority, bool) or not isinstance(priority, int) or not 0 <= priority <= 10:
        return [("priority", f"must be an integer from 0 to 10, not {priority!r}")]
    return []


@dataclass(slots=True)
class AddPlan:
    """What one request does to a list.

    ``outcomes`` holds ``(index, status, key)`` in request order; ``creates`` and
    ``updates`` map each key to the item whose content it finally stores.
    """

    conflicts: list[Detail] = field(default_factory=list)
    outcomes: list[tuple[int, str, Key]] = field(default_factory=list)
    creates: dict[Key, ParsedItem] = field(default_factory=dict)
    updates: dict[Key, ParsedItem] = field(default_factory=dict)


def plan_add(items: list[ParsedItem], policy: str, stored: set[Key]) -> AddPlan:
    """Decide each item's fate under ``policy`` given the keys already ``stored``.

    REJECT: an item whose key is stored, or repeats an earlier item of the request, is a
    conflict (the later copies are the conflicts). UPSERT: the last copy's content wins.
    SKIP: the stored (or first) copy is kept.
    """
    plan = AddPlan()
    for item in items:
        key = item.key
        is_new = key not in stored and key not in plan.creates
        if policy == "REJECT" and not is_new:
            plan.conflicts.append({"index": item.index, "key": {"name": key[0], "value": key[1]}})
        elif is_new:
            plan.creates[key] = item
            plan.outcomes.append((item.index, "CREATED", key))
        elif policy == "UPSERT":
            target = plan.creates if key in plan.creates else plan.updates
            target[key] = item
            plan.outcomes.append((item.index, "UPDATED", key))
        else:
            plan.outcomes.append((item.index, "SKIPPED", key))
    return plan
