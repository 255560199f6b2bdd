"""Settings: ``cxlist.toml``, then the environment, then command-line flags (flags win).

The three layers are merged here by hand, in a few lines, and validated once by pydantic
models. (pydantic-settings is not used: its environment parsing, which decodes JSON, matches
names case-insensitively and nests on delimiters, is more than the ten variables below need,
and an error must name the variable or the file a bad value came from, which is easiest when
the merge is ours.)

Every problem is one :class:`~cxlist.errors.ConfigError` line naming the file (or variable, or
flag), the section and key, what is wrong and the closest valid key; a section no layer knows
(``[scorng]``) is refused. The pipeline's sections are kept as data here and validated by
``cxlist.pipeline.load_config`` (the CLI does so as it loads the settings, so that a typo in
``[dedupe]`` stops every command before it starts).

Secrets (the client secret, webhook secrets) come from the environment or a file, never from
the TOML: a secret found there is a :class:`~cxlist.errors.ConfigError`. The pipeline's own
sections (``[columns]``, ``[scoring]``, ``[[lists]]``, ...) are kept as raw data here and
validated by the pipeline.
"""

from __future__ import annotations

import copy
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from cxlist.config_errors import describe_validation_error, did_you_mean, section_label
from cxlist.errors import ConfigError

__all__ = [
    "ENV_VARS",
    "PIPELINE_SECTIONS",
    "AdminSettings",
    "CxoneSettings",
    "RegistrySettings",
    "Settings",
    "UploadSettings",
    "WebhookSettings",
    "load_settings",
]

DEFAULT_SCOPES = ("lists:write", "lists:read", "campaigns:read", "compliance:read", "data:write")

#: Environment variables read, and the setting each fills.
ENV_VARS: dict[str, tuple[str, str]] = {
    "CXONE_DIALECT": ("cxone", "dialect"),
    "CXONE_REGION": ("cxone", "region"),
    "CXONE_BASE_URL": ("cxone", "base_url"),
    "CXONE_TOKEN_URL": ("cxone", "token_url"),
    "CXONE_CLIENT_ID": ("cxone", "client_id"),
    "CXONE_CLIENT_SECRET": ("cxone", "client_secret"),
    "CXONE_ACCESS_KEY_ID": ("cxone", "access_key_id"),
    "CXONE_ACCESS_KEY_SECRET": ("cxone", "access_key_secret"),
    "CXLIST_WORKSPACE": ("run", "workspace"),
}

_SECRET_NAMES = ("client_secret", "access_key_secret", "secret", "password", "token")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


def check_url(value: str | None) -> str | None:
    """``value`` when it is an absolute http(s) URL with a host; else a ValueError saying so."""
    if value is None:
        return None
    try:
        parts = urlsplit(value)
        port = parts.port  # raises on a port that is not a number
    except ValueError:
        parts, port = None, None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("not a URL: expected http://host[:port][/path] or https://...")
    del port
    return value


class CxoneSettings(_Section):
    """Where CXone is and how to sign in."""

    dialect: Literal["v2", "admin"] = "v2"
    region: str = "api-us-1"
    base_url: str | None = None
    token_url: str | None = None
    client_id: str | None = None
    client_secret: SecretStr | None = None
    access_key_id: str | None = None
    access_key_secret: SecretStr | None = None
    scopes: list[str] = Field(default_factory=lambda: list(DEFAULT_SCOPES))
    timeout: float = Field(default=30.0, gt=0)
    connect_timeout: float = Field(default=7.0, gt=0)
    token_refresh_margin: float = Field(default=60.0, ge=0)

    _urls = field_validator("base_url", "token_url")(check_url)

    def resolved_base_url(self) -> str:
        """The API base: the setting, else ``https://{region}.cxone.com``."""
        return (self.base_url or f"https://{self.region}.cxone.com").rstrip("/")

    def resolved_token_url(self) -> str:
        """The token URL: the setting; else, when only the base URL is set,
        ``{base_url}/as/token.oauth2`` (where the sandbox serves it); else the region's login
        host."""
        if self.token_url:
            return self.token_url
        if self.base_url:
            return f"{self.base_url.rstrip('/')}/as/token.oauth2"
        return f"https://login.{self.region}.cxone.com/as/token.oauth2"


class AdminSettings(_Section):
    """The Admin API dialect (``dialect = "admin"``): sign-in, tenant, skill, list columns,
    DNC groups and job polling. See ``docs/admin-dialect.md``."""

    auth_method: Literal["access_key", "application"] = "access_key"
    area: str = "na1"
    auth_url: str | None = None
    token_url: str | None = None
    discovery_url: str = "https://cxone.niceincontact.com"
    api_url: str | None = None
    api_version: str = "v34.0"
    skill_id: str | None = None
    dnc_group_ids: list[str] = Field(default_factory=list)
    dnc_region: str = "US"
    external_id_column: str = "ExternalId"
    phone_columns: list[str] = Field(default_factory=lambda: ["PhoneNumber"], min_length=1)
    score_column: str | None = "Score"
    priority_column: str | None = "Priority"
    first_name_column: str | None = "FirstName"
    last_name_column: str | None = "LastName"
    state_column: str | None = "State"
    zip_column: str | None = "ZIP"
    time_zone_column: str | None = "TimeZone"
    timezone_source_column: str | None = "TimeZoneSource"
    call_hours_column: str | None = "CallHours"
    call_rule_column: str | None = "CallRule"
    default_time_zone: str | None = None
    expiration_date: str | None = None
    poll_interval: float = Field(default=2.0, gt=0)
    poll_max_interval: float = Field(default=30.0, gt=0)
    poll_timeout: float = Field(default=3600.0, gt=0)
    max_records_per_job: int = Field(default=500_000, ge=1, le=500_000)

    _urls = field_validator("auth_url", "token_url", "discovery_url", "api_url")(check_url)

    def resolved_auth_url(self) -> str:
        """The host that exchanges access keys: the setting, else the area's."""
        return (self.auth_url or f"https://{self.area}.nice-incontact.com").rstrip("/")


class UploadSettings(_Section):
    """How hard to push: request size, parallelism, retry budget."""

    chunk_size: int | None = Field(default=None, ge=1)
    concurrency: int = Field(default=8, ge=1, le=64)
    max_attempts: int = Field(default=8, ge=1)
    deadline: float = Field(default=300.0, gt=0)


class WebhookSettings(_Section):
    """One metrics webhook: its URL and where its signing secret comes from."""

    url: str
    secret_env: str | None = None
    secret_file: Path | None = None


class RunSettings(_Section):
    """Where runs are kept."""

    workspace: Path = Path(".cxlist")


class RegistrySettings(_Section):
    """The DNC registries every run scrubs against (see ``cxlist dnc import``)."""

    path: Path | None = None  # default: the workspace's registry/ folder
    names: list[str] | None = None  # default: every registry imported there
    max_age_days: int = Field(default=31, ge=1, le=31)  # the law allows 31 at most
    require_coverage: bool = False


class Settings(BaseModel):
    """Everything a run needs. ``pipeline`` is the raw TOML for the pipeline's sections."""

    model_config = ConfigDict(extra="forbid")

    cxone: CxoneSettings = Field(default_factory=CxoneSettings)
    admin: AdminSettings = Field(default_factory=AdminSettings)
    upload: UploadSettings = Field(default_factory=UploadSettings)
    run: RunSettings = Field(default_factory=RunSettings)
    registry: RegistrySettings = Field(default_factory=RegistrySettings)
    webhooks: list[WebhookSettings] = Field(default_factory=list)
    pipeline: dict[str, Any] = Field(default_factory=dict)

    def public(self) -> dict[str, Any]:
        """The settings as data fit to store or log, in the shape of cxlist.toml (so
        ``load_settings(base=...)`` reads them back): every secret left out."""
        data = self.model_dump(mode="json", exclude={"pipeline"}, exclude_none=True)
        for name in ("client_secret", "access_key_secret"):
            data["cxone"].pop(name, None)
        return {**copy.deepcopy(self.pipeline), **data}


_OWN_SECTIONS = ("cxone", "admin", "upload", "run", "registry", "webhooks")
#: The pipeline's top-level sections: kept here as data, validated by
#: ``cxlist.pipeline.load_config`` (a layer up); a test holds the two lists equal.
PIPELINE_SECTIONS = (
    "input",
    "columns",
    "normalize",
    "validate",
    "suppress",
    "scoring",
    "dedupe",
    "lists",
    "capacity",
    "calling",
)


def load_settings(
    path: Path | None = None,
    *,
    base: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, Mapping[str, Any]] | None = None,
) -> Settings:
    """Build settings from a TOML file (or ``base``, data of the same shape, when there is no
    file), then the environment, then ``overrides``.

    ``overrides`` maps section to values (``{"upload": {"concurrency": 4}}``); None values are
    ignored, so unset flags do not hide the file or the environment. Any problem, in any
    section, is a one-line :class:`~cxlist.errors.ConfigError`.
    """
    source = str(path) if path is not None else None
    data = _read_toml(path) if path is not None else copy.deepcopy(dict(base or {}))
    _refuse_secrets(data, source or "settings")
    sections: dict[str, Any] = {name: data.pop(name) for name in _OWN_SECTIONS if name in data}
    _check_pipeline(data, source)
    sections["pipeline"] = data
    origins: dict[tuple[str, str], str] = {}
    environ = os.environ if env is None else env
    for var, (section, key) in ENV_VARS.items():
        if environ.get(var):
            _table(sections, section, source)[key] = environ[var]
            origins[(section, key)] = var
    for section, values in (overrides or {}).items():
        for key, value in values.items():
            if value is not None:
                _table(sections, section, source)[key] = value
                origins[(section, key)] = "--" + key.replace("_", "-")
    try:
        return Settings.model_validate(sections)
    except ValidationError as err:
        raise ConfigError(
            describe_validation_error(err, Settings, source=source, origins=origins)
        ) from None


def _table(sections: dict[str, Any], name: str, source: str | None) -> dict[str, Any]:
    """The section ``name`` as a table to fill (a ConfigError when the file made it a value)."""
    table = sections.setdefault(name, {})
    if not isinstance(table, dict):
        where = f"{source}: " if source else ""
        raise ConfigError(f"{where}{section_label(name)}: expected a table of settings")
    return table


def _check_pipeline(data: Mapping[str, Any], source: str | None) -> None:
    """Refuse a section no layer reads. (The pipeline's sections are validated by
    ``cxlist.pipeline.load_config``: the CLI does it as it loads the settings.)"""
    known = [*_OWN_SECTIONS, *PIPELINE_SECTIONS]
    for name in data:
        if name not in known:
            where = f"{source}: " if source else ""
            hint = did_you_mean(name, known, template="[{}]")
            raise ConfigError(f"{where}[{name}]: unknown section{hint}")


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such config file") from None
    except IsADirectoryError:
        raise ConfigError(f"{path}: a folder, not a config file") from None
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{path}: not valid TOML: {err}") from None


def _refuse_secrets(data: Mapping[str, Any], where: str, trail: str = "") -> None:
    for key, value in data.items():
        name = f"{trail}{key}"
        if isinstance(value, Mapping):
            _refuse_secrets(value, where, f"{name}.")
        elif key.lower() in _SECRET_NAMES:
            raise ConfigError(
                f"{where}: {name} is a secret; set it in the environment or a file, not in the TOML"
            )
