"""The CXone Admin API dialect (``dialect = "admin"``): access keys, calling-list upload
jobs, DNC groups. See ``docs/admin-dialect.md`` and ``api-admin.md``."""

from __future__ import annotations

from cxlist.api.admin.auth import (
    AccessKeyGrant,
    AdminAuth,
    PasswordGrant,
    jwt_claims,
    tenant_id_of,
)
from cxlist.api.admin.backend import ADMIN_LIMITS, AdminBackend, AdminBackendConfig, to_e164
from cxlist.api.admin.client import (
    AdminClient,
    AdminClientSettings,
    CallListDefinition,
    UploadRequest,
)
from cxlist.api.admin.listfile import ListColumns, build_list_file, phone_destinations
from cxlist.api.retry import RetryPolicy
from cxlist.errors import ConfigError
from cxlist.settings import Settings

__all__ = [
    "ADMIN_LIMITS",
    "AccessKeyGrant",
    "AdminAuth",
    "AdminBackend",
    "AdminBackendConfig",
    "AdminClient",
    "AdminClientSettings",
    "CallListDefinition",
    "ListColumns",
    "PasswordGrant",
    "UploadRequest",
    "admin_backend_config",
    "admin_client_settings",
    "build_list_file",
    "jwt_claims",
    "open_admin_backend",
    "tenant_id_of",
    "to_e164",
]


def admin_client_settings(settings: Settings) -> AdminClientSettings:
    """The client settings that ``[cxone]``, ``[admin]`` and ``[upload]`` call for.

    Raises :class:`~cxlist.errors.ConfigError` when the access key is missing.
    """
    cxone, admin, upload = settings.cxone, settings.admin, settings.upload
    if not cxone.access_key_id or cxone.access_key_secret is None:
        raise ConfigError("the admin dialect needs CXONE_ACCESS_KEY_ID and CXONE_ACCESS_KEY_SECRET")
    return AdminClientSettings(
        auth_method=admin.auth_method,
        access_key_id=cxone.access_key_id,
        access_key_secret=cxone.access_key_secret,
        client_id=cxone.client_id,
        client_secret=cxone.client_secret,
        auth_url=admin.resolved_auth_url(),
        discovery_url=admin.discovery_url,
        token_url=admin.token_url,
        api_url=admin.api_url or cxone.base_url,
        api_version=admin.api_version,
        timeout=max(cxone.timeout, 60.0),
        token_refresh_margin=max(cxone.token_refresh_margin, 60.0),
        max_concurrency=upload.concurrency,
        retry=RetryPolicy(max_attempts=upload.max_attempts, deadline=upload.deadline),
    )


def admin_backend_config(settings: Settings) -> AdminBackendConfig:
    """The backend's skill, columns, DNC groups and polling from ``[admin]``.

    Raises :class:`~cxlist.errors.ConfigError` when no skill id is set.
    """
    admin = settings.admin
    if not admin.skill_id:
        raise ConfigError("the admin dialect needs [admin] skill_id (the skill lists dial on)")
    columns = ListColumns(
        external_id=admin.external_id_column,
        phones=phone_destinations(admin.phone_columns),
        score=admin.score_column,
        priority=admin.priority_column,
        first_name=admin.first_name_column,
        last_name=admin.last_name_column,
        state=admin.state_column,
        zip=admin.zip_column,
        time_zone=admin.time_zone_column,
        timezone_source=admin.timezone_source_column,
        call_hours=admin.call_hours_column,
        call_rule=admin.call_rule_column,
    )
    return AdminBackendConfig(
        skill_id=admin.skill_id,
        columns=columns,
        dnc_group_ids=tuple(admin.dnc_group_ids),
        dnc_region=admin.dnc_region,
        default_time_zone=admin.default_time_zone,
        expiration_date=admin.expiration_date,
        poll_interval=admin.poll_interval,
        poll_max_interval=admin.poll_max_interval,
        poll_timeout=admin.poll_timeout,
        max_records_per_job=admin.max_records_per_job,
    )


def open_admin_backend(settings: Settings) -> AdminBackend:
    """An :class:`AdminBackend` over a fresh :class:`AdminClient` for the run's settings."""
    config = admin_backend_config(settings)
    return AdminBackend(AdminClient(admin_client_settings(settings)), config)
