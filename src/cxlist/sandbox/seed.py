"""What a sandbox tenant starts with: OAuth clients, campaigns, lists and suppressions.

A seed is read from JSON or TOML in the shape of the last section of ``api-v2.md``, or is
the built-in ``demo`` seed (``demo_seed.json``, shipped in this package).
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from cxlist.errors import ConfigError
from cxlist.sandbox.admin.seed import AdminSeed, parse_admin_seed

__all__ = [
    "ALL_SCOPES",
    "CampaignSeed",
    "ClientSeed",
    "ListSeed",
    "Seed",
    "SuppressionSeed",
    "load_seed",
]

ALL_SCOPES = ("lists:write", "lists:read", "campaigns:read", "compliance:read", "data:write")
DUPLICATE_POLICIES = ("REJECT", "UPSERT", "SKIP")
SUPPRESSION_STATUSES = ("ACTIVE", "EXPIRED")


@dataclass(frozen=True, slots=True)
class ClientSeed:
    """An OAuth client: its credentials and the scopes it may be granted."""

    id: str
    secret: str
    scopes: tuple[str, ...] = ALL_SCOPES

    def __repr__(self) -> str:
        return f"ClientSeed(id={self.id!r}, scopes={self.scopes!r})"


@dataclass(frozen=True, slots=True)
class CampaignSeed:
    """A campaign and its capacity (``max_list_size`` None means 1,000,000 to clients)."""

    id: str
    name: str = ""
    status: str = "ACTIVE"
    max_list_size: int | None = None


@dataclass(frozen=True, slots=True)
class ListSeed:
    """A list of a campaign, with its duplicate policy and dedup key name."""

    id: str
    campaign_id: str
    name: str = ""
    duplicate_policy: str = "REJECT"
    dedup_key: str = "phone_number"


@dataclass(frozen=True, slots=True)
class SuppressionSeed:
    """One do-not-contact entry (a phone number, an email address, or both)."""

    phone_number: str | None = None
    email_address: str | None = None
    status: str = "ACTIVE"
    source: str = ""
    expires_at: str | None = None
    id: str | None = None


@dataclass(frozen=True, slots=True)
class Seed:
    """A whole tenant: what the sandbox serves before any request."""

    clients: tuple[ClientSeed, ...] = ()
    campaigns: tuple[CampaignSeed, ...] = ()
    lists: tuple[ListSeed, ...] = ()
    suppressions: tuple[SuppressionSeed, ...] = field(default=())
    admin: AdminSeed | None = None


def load_seed(source: str | Path | Mapping[str, Any] | Seed | None) -> Seed:
    """Return the seed named by ``source``.

    ``None`` is an empty tenant, ``"demo"`` the built-in demo seed, a mapping is parsed as
    it is, and anything else is a path to a ``.json`` or ``.toml`` file. Raises
    :class:`~cxlist.errors.ConfigError` naming the problem when the seed is malformed.
    """
    if source is None:
        return Seed()
    if isinstance(source, Seed):
        return source
    if isinstance(source, Mapping):
        return parse_seed(source)
    if str(source) == "demo":
        text = resources.files("cxlist.sandbox").joinpath("demo_seed.json").read_text("utf-8")
        return parse_seed(json.loads(text))
    path = Path(source)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read seed file {path}: {exc.strerror}") from None
    try:
        data = tomllib.loads(raw.decode()) if path.suffix == ".toml" else json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ConfigError(f"seed file {path} is not valid: {exc}") from None
    if not isinstance(data, Mapping):
        raise ConfigError(f"seed file {path} must hold an object at the top level")
    return parse_seed(data)


def parse_seed(data: Mapping[str, Any]) -> Seed:
    """Build a :class:`Seed` from decoded JSON/TOML, checking every entry."""
    seed = Seed(
        clients=tuple(_client(c) for c in _entries(data, "clients")),
        campaigns=tuple(_campaign(c) for c in _entries(data, "campaigns")),
        lists=tuple(_list(c) for c in _entries(data, "lists")),
        suppressions=tuple(_suppression(c) for c in _entries(data, "suppressions")),
        admin=parse_admin_seed(data.get("admin")),
    )
    campaign_ids = {c.id for c in seed.campaigns}
    for lst in seed.lists:
        if lst.campaign_id not in campaign_ids:
            raise ConfigError(f"seed list {lst.id!r} names unknown campaign {lst.campaign_id!r}")
    return seed


def _entries(data: Mapping[str, Any], name: str) -> list[Mapping[str, Any]]:
    raw = data.get(name, [])
    if not isinstance(raw, list) or not all(isinstance(e, Mapping) for e in raw):
        raise ConfigError(f"seed {name!r} must be a list of objects")
    return raw


def _text(entry: Mapping[str, Any], key: str, what: str, default: str | None = None) -> str:
    value = entry.get(key, default)
    if not isinstance(value, str) or (default is None and not value):
        raise ConfigError(f"seed {what} needs a string {key!r}")
    return value


def _optional_text(entry: Mapping[str, Any], key: str, what: str) -> str | None:
    value = entry.get(key)
    if value is not None and not isinstance(value, str):
        raise ConfigError(f"seed {what} has a non-string {key!r}")
    return value


def _client(entry: Mapping[str, Any]) -> ClientSeed:
    scopes = entry.get("scopes", list(ALL_SCOPES))
    if not isinstance(scopes, list) or not all(isinstance(s, str) for s in scopes):
        raise ConfigError("seed client 'scopes' must be a list of strings")
    unknown = sorted(set(scopes) - set(ALL_SCOPES))
    if unknown:
        raise ConfigError(f"seed client has unknown scopes {unknown}")
    return ClientSeed(
        id=_text(entry, "id", "client"),
        secret=_text(entry, "secret", "client"),
        scopes=tuple(scopes),
    )


def _campaign(entry: Mapping[str, Any]) -> CampaignSeed:
    size = entry.get("maxListSize", entry.get("listCapacity"))
    if size is not None and (not isinstance(size, int) or isinstance(size, bool) or size < 0):
        raise ConfigError("seed campaign 'maxListSize' must be a non-negative integer")
    return CampaignSeed(
        id=_text(entry, "id", "campaign"),
        name=_text(entry, "name", "campaign", ""),
        status=_text(entry, "status", "campaign", "ACTIVE"),
        max_list_size=size,
    )


def _list(entry: Mapping[str, Any]) -> ListSeed:
    policy = _text(entry, "duplicatePolicy", "list", "REJECT")
    if policy not in DUPLICATE_POLICIES:
        raise ConfigError(f"seed list 'duplicatePolicy' must be one of {DUPLICATE_POLICIES}")
    return ListSeed(
        id=_text(entry, "id", "list"),
        campaign_id=_text(entry, "campaignId", "list"),
        name=_text(entry, "name", "list", ""),
        duplicate_policy=policy,
        dedup_key=_text(entry, "dedupKey", "list", "phone_number") or "phone_number",
    )


def _suppression(entry: Mapping[str, Any]) -> SuppressionSeed:
    phone = _optional_text(entry, "phoneNumber", "suppression")
    email = _optional_text(entry, "emailAddress", "suppression")
    if not phone and not email:
        raise ConfigError("seed suppression needs 'phoneNumber' or 'emailAddress'")
    status = _text(entry, "status", "suppression", "ACTIVE")
    if status not in SUPPRESSION_STATUSES:
        raise ConfigError(f"seed suppression 'status' must be one of {SUPPRESSION_STATUSES}")
    return SuppressionSeed(
        phone_number=phone,
        email_address=email,
        status=status,
        source=_text(entry, "source", "suppression", ""),
        expires_at=_optional_text(entry, "expiresAt", "suppression"),
        id=_optional_text(entry, "id", "suppression"),
    )
