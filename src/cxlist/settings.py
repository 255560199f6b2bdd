"""Settings: ``cxlist.toml``, then the environment, then command-line flags (flags win).

The three layers are merged by hand, in a few lines (:mod:`cxlist.settings_layers`), and
validated once by the pydantic models here. (pydantic-settings is not used: its environment
parsing, which decodes JSON, matches names case-insensitively and nests on delimiters, is more
than the ten variables there need, and an error must name the variable or the file a bad
value came from, which is easiest when the merge is ours.)

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
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from cxlist.config_errors import describe_validation_error
from cxlist.errors import ConfigError
from cxlist.settings_layers import (
    DEFAULT_MAX_AGE_DAYS,
    DEFAULT_WORKSPACE,
    ENV_VARS,
    PIPELINE_SECTIONS,
    check_url,
    merge_layers,
)

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


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


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

    workspace: Path = DEFAULT_WORKSPACE


class RegistrySettings(_Section):
    """The DNC registries every run scrubs against (see ``cxlist dnc import``)."""

    path: Path | None = None  # default: the workspace's registry/ folder
    names: list[str] | None = None  # default: every registry imported there
    max_age_days: int = Field(
        default=DEFAULT_MAX_AGE_DAYS, ge=1, le=31
    )  # the law allows 31 at most
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
    layers = merge_layers(path, base=base, env=env, overrides=overrides)
    try:
        return Settings.model_validate(layers.sections)
    except ValidationError as err:
        raise ConfigError(
            describe_validation_error(err, Settings, source=layers.source, origins=layers.origins)
        ) from None
