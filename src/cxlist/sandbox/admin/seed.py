"""The Admin dialect's part of a sandbox seed: the ``"admin"`` object of a seed file.

::

    "admin": {
      "tenantId": "11ee0000-demo",
      "accessKeys": [{"id": "...", "secret": "..."}],
      "applications": [{"clientId": "...", "clientSecret": "..."}],
      "skills": [{"id": "4242", "name": "Renewals outbound"}],
      "dncGroups": [{"id": "7", "name": "Internal DNC", "scrubbedSkills": ["4242"],
                     "records": ["+12015550107",
                                 {"phoneNumber": "+12015550142",
                                  "expiredDate": "2025-01-01T00:00:00Z"}]}],
      "jobDelayMs": 200,
      "systemLimit": 1000000,
      "shapes": "public",
      "maxPageSize": 1000
    }

``shapes`` picks how answers are shaped: ``"public"`` (the default: the shapes of the
public clients, ``api-admin.md``) or ``"alternate"`` (the other documented variants).
``maxPageSize`` caps every page whatever ``top`` asks, without saying so.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cxlist.errors import ConfigError

__all__ = [
    "AccessKeySeed",
    "AdminSeed",
    "ApplicationSeed",
    "DncGroupSeed",
    "DncRecordSeed",
    "SkillSeed",
    "parse_admin_seed",
]

SYSTEM_LIMIT = 1_000_000
#: Answer shape modes: the public clients' shapes first (the default).
SHAPES = ("public", "alternate")
DEFAULT_PAGE_CAP = 1000


@dataclass(frozen=True, slots=True)
class AccessKeySeed:
    """An access key pair."""

    id: str
    secret: str

    def __repr__(self) -> str:
        return f"AccessKeySeed(id={self.id!r})"


@dataclass(frozen=True, slots=True)
class ApplicationSeed:
    """A registered application (for the password grant)."""

    client_id: str
    client_secret: str

    def __repr__(self) -> str:
        return f"ApplicationSeed(client_id={self.client_id!r})"


@dataclass(frozen=True, slots=True)
class SkillSeed:
    """An outbound skill."""

    id: str
    name: str = ""


#: A DNC number and its ``expiredDate`` (None: it never expires).
DncRecordSeed = tuple[str, str | None]


@dataclass(frozen=True, slots=True)
class DncGroupSeed:
    """A DNC group, the skills it scrubs and its numbers."""

    id: str
    name: str = ""
    active: bool = True
    scrubbed_skills: tuple[str, ...] = ()
    records: tuple[DncRecordSeed, ...] = ()


@dataclass(frozen=True, slots=True)
class AdminSeed:
    """The Admin dialect's tenant."""

    tenant_id: str = "11ee0000-sandbox"
    access_keys: tuple[AccessKeySeed, ...] = ()
    applications: tuple[ApplicationSeed, ...] = ()
    skills: tuple[SkillSeed, ...] = ()
    dnc_groups: tuple[DncGroupSeed, ...] = ()
    job_delay_ms: int = 200
    system_limit: int = SYSTEM_LIMIT
    shapes: str = SHAPES[0]
    page_cap: int = DEFAULT_PAGE_CAP


def _entries(data: Mapping[str, Any], name: str) -> list[Mapping[str, Any]]:
    raw = data.get(name, [])
    if not isinstance(raw, list) or not all(isinstance(e, Mapping) for e in raw):
        raise ConfigError(f"seed admin.{name} must be a list of objects")
    return raw


def _text(entry: Mapping[str, Any], key: str, what: str, default: str | None = None) -> str:
    value = entry.get(key, default)
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or (default is None and not value):
        raise ConfigError(f"seed admin {what} needs a string {key!r}")
    return value


def _texts(entry: Mapping[str, Any], key: str, what: str) -> tuple[str, ...]:
    raw = entry.get(key, [])
    if not isinstance(raw, list) or not all(isinstance(v, str | int) for v in raw):
        raise ConfigError(f"seed admin {what} {key!r} must be a list of strings")
    return tuple(str(v) for v in raw)


def _dnc_records(entry: Mapping[str, Any]) -> tuple[DncRecordSeed, ...]:
    raw = entry.get("records", [])
    if not isinstance(raw, list):
        raise ConfigError("seed admin DNC group 'records' must be a list")
    found: list[DncRecordSeed] = []
    for record in raw:
        if isinstance(record, str | int) and not isinstance(record, bool):
            found.append((str(record), None))
        elif isinstance(record, Mapping):
            expired = record.get("expiredDate")
            if expired is not None and not isinstance(expired, str):
                raise ConfigError("seed admin DNC record 'expiredDate' must be a string")
            found.append((_text(record, "phoneNumber", "DNC record"), expired))
        else:
            raise ConfigError("seed admin DNC records must be numbers or objects")
    return tuple(found)


def _shapes(data: Mapping[str, Any]) -> str:
    value = data.get("shapes", SHAPES[0])
    if value not in SHAPES:
        raise ConfigError(f"seed admin 'shapes' must be one of {SHAPES}")
    return str(value)


def _count(data: Mapping[str, Any], key: str, default: int) -> int:
    value = data.get(key, default)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ConfigError(f"seed admin {key!r} must be a non-negative integer")
    return value


def parse_admin_seed(data: Any) -> AdminSeed | None:
    """The ``"admin"`` object of a seed (None when absent), every entry checked."""
    if data is None:
        return None
    if not isinstance(data, Mapping):
        raise ConfigError("seed 'admin' must be an object")
    return AdminSeed(
        tenant_id=_text(data, "tenantId", "tenant", "11ee0000-sandbox"),
        access_keys=tuple(
            AccessKeySeed(_text(e, "id", "access key"), _text(e, "secret", "access key"))
            for e in _entries(data, "accessKeys")
        ),
        applications=tuple(
            ApplicationSeed(
                _text(e, "clientId", "application"), _text(e, "clientSecret", "application")
            )
            for e in _entries(data, "applications")
        ),
        skills=tuple(
            SkillSeed(_text(e, "id", "skill"), _text(e, "name", "skill", ""))
            for e in _entries(data, "skills")
        ),
        dnc_groups=tuple(
            DncGroupSeed(
                id=_text(e, "id", "DNC group"),
                name=_text(e, "name", "DNC group", ""),
                active=bool(e.get("isActive", True)),
                scrubbed_skills=_texts(e, "scrubbedSkills", "DNC group"),
                records=_dnc_records(e),
            )
            for e in _entries(data, "dncGroups")
        ),
        job_delay_ms=_count(data, "jobDelayMs", 200),
        system_limit=_count(data, "systemLimit", SYSTEM_LIMIT),
        shapes=_shapes(data),
        page_cap=max(1, _count(data, "maxPageSize", DEFAULT_PAGE_CAP)),
    )
