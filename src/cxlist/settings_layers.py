"""The settings' three layers merged (``cxlist.toml``, the environment, the flags), and a quick
answer for commands that only need to know where the workspace is.

:func:`merge_layers` is the first half of :func:`cxlist.settings.load_settings`: it reads the
file, refuses secrets and unknown sections, and lays the environment and the flags over it,
without pydantic. The second half, validating the result, is pydantic's; it took longer than
all the work of a command such as ``cxlist runs list``. :func:`quick_settings` reads the few
values such a command needs straight from the merged layers when every value there is
certainly one the models accept (known keys, exact types, values within their bounds), and
says None otherwise: the caller then loads the settings as usual, and a wrong value is
refused with the same message as before. The pipeline's sections are left to the caller to
check (:func:`cxlist.settings_pipeline.pipeline_certain` the same way, else
:func:`cxlist.pipeline.load_config`). (``tests/test_settings_layers.py`` holds these checks
equal to the models, key for key.)
"""

from __future__ import annotations

import copy
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from cxlist.config_errors import did_you_mean, section_label
from cxlist.errors import ConfigError

__all__ = [
    "DEFAULT_MAX_AGE_DAYS",
    "DEFAULT_WORKSPACE",
    "ENV_VARS",
    "OWN_SECTIONS",
    "PIPELINE_SECTIONS",
    "Layers",
    "QuickSettings",
    "check_url",
    "merge_layers",
    "quick_settings",
]

#: Where runs are kept unless a layer says otherwise.
DEFAULT_WORKSPACE = Path(".cxlist")
#: How old a registry's data may be, in days, unless ``[registry] max_age_days`` says less.
DEFAULT_MAX_AGE_DAYS = 31

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

#: The sections the settings models read.
OWN_SECTIONS = ("cxone", "admin", "upload", "run", "registry", "webhooks")
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


@dataclass(frozen=True)
class Layers:
    """The merged layers: the own sections by name (``"pipeline"`` holding the pipeline's
    sections as data), where flag and environment values came from, and the file read."""

    sections: dict[str, Any]
    origins: dict[tuple[str, str], str]
    source: str | None


def merge_layers(
    path: Path | None = None,
    *,
    base: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, Mapping[str, Any]] | None = None,
) -> Layers:
    """The TOML file (or ``base``, data of the same shape, when there is no file), then the
    environment, then ``overrides`` (None values ignored), merged but not validated.

    Raises :class:`~cxlist.errors.ConfigError` for a file that cannot be read, a secret in
    it, a section no layer knows, or a value where a table should be.
    """
    source = str(path) if path is not None else None
    data = _read_toml(path) if path is not None else copy.deepcopy(dict(base or {}))
    _refuse_secrets(data, source or "settings")
    sections: dict[str, Any] = {name: data.pop(name) for name in OWN_SECTIONS if name in data}
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
    return Layers(sections, origins, source)


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
    known = [*OWN_SECTIONS, *PIPELINE_SECTIONS]
    for name in data:
        if name not in known:
            where = f"{source}: " if source else ""
            hint = did_you_mean(name, known, template="[{}]")
            raise ConfigError(f"{where}[{name}]: unknown section{hint}")


def _read_toml(path: Path) -> dict[str, Any]:
    import tomllib  # here: most commands read no file

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


# ----- the quick answer ------------------------------------------------------------------


@dataclass(frozen=True)
class QuickSettings:
    """What a command that only reads the workspace needs of the settings."""

    workspace: Path
    registry_path: Path | None
    max_age_days: int

    @property
    def registry_root(self) -> Path:
        """Where the DNC registries are kept (``[registry] path``, else
        ``<workspace>/registry``), as :func:`cxlist.run.registry_root` says."""
        return self.registry_path or self.workspace / "registry"


Check = Callable[[Any], bool]


def _text(value: Any) -> bool:
    return type(value) is str


def _url(value: Any) -> bool:
    if type(value) is not str:
        return False
    try:
        check_url(value)
    except ValueError:
        return False
    return True


def _path(value: Any) -> bool:
    return (type(value) is str and value != "" and "\x00" not in value) or isinstance(value, Path)


def _flag(value: Any) -> bool:
    return type(value) is bool


def _texts(least: int = 0) -> Check:
    return lambda v: type(v) is list and len(v) >= least and all(type(s) is str for s in v)


def _one_of(*choices: str) -> Check:
    return lambda v: type(v) is str and v in choices


def _whole(least: int, most: int | None = None) -> Check:
    return lambda v: type(v) is int and v >= least and (most is None or v <= most)


def _real(*, above: float | None = None, least: float | None = None) -> Check:
    def check(v: Any) -> bool:
        if type(v) not in (int, float):
            return False
        return (above is None or v > above) and (least is None or v >= least)

    return check


#: The keys of each own section and what a value certainly accepted looks like there (the
#: models in :mod:`cxlist.settings` are the reference; a test compares the two).
QUICK_CHECKS: dict[str, dict[str, Check]] = {
    "cxone": {
        "dialect": _one_of("v2", "admin"),
        "region": _text,
        "base_url": _url,
        "token_url": _url,
        "client_id": _text,
        "client_secret": _text,
        "access_key_id": _text,
        "access_key_secret": _text,
        "scopes": _texts(),
        "timeout": _real(above=0),
        "connect_timeout": _real(above=0),
        "token_refresh_margin": _real(least=0),
    },
    "admin": {
        "auth_method": _one_of("access_key", "application"),
        "area": _text,
        "auth_url": _url,
        "token_url": _url,
        "discovery_url": _url,
        "api_url": _url,
        "api_version": _text,
        "skill_id": _text,
        "dnc_group_ids": _texts(),
        "dnc_region": _text,
        "external_id_column": _text,
        "phone_columns": _texts(1),
        **dict.fromkeys(
            (
                "score_column",
                "priority_column",
                "first_name_column",
                "last_name_column",
                "state_column",
                "zip_column",
                "time_zone_column",
                "timezone_source_column",
                "call_hours_column",
                "call_rule_column",
                "default_time_zone",
                "expiration_date",
            ),
            _text,
        ),
        "poll_interval": _real(above=0),
        "poll_max_interval": _real(above=0),
        "poll_timeout": _real(above=0),
        "max_records_per_job": _whole(1, 500_000),
    },
    "upload": {
        "chunk_size": _whole(1),
        "concurrency": _whole(1, 64),
        "max_attempts": _whole(1),
        "deadline": _real(above=0),
    },
    "run": {"workspace": _path},
    "registry": {
        "path": _path,
        "names": _texts(),
        "max_age_days": _whole(1, 31),
        "require_coverage": _flag,
    },
}
#: The keys of one ``[[webhooks]]`` entry; ``url`` is required.
WEBHOOK_CHECKS: dict[str, Check] = {"url": _text, "secret_env": _text, "secret_file": _path}


def quick_settings(layers: Layers) -> QuickSettings | None:
    """The workspace and registry settings of ``layers`` when every value of the settings'
    own sections is certainly valid; None when the settings must be loaded (and validated) in
    full. (The pipeline's sections, ``layers.sections["pipeline"]``, are not looked at: they
    are the pipeline's to check.)"""
    sections = layers.sections
    if not all(_certain(n, v) for n, v in sections.items()):
        return None
    run = sections.get("run", {})
    registry = sections.get("registry", {})
    path = registry.get("path")
    return QuickSettings(
        workspace=Path(run.get("workspace", DEFAULT_WORKSPACE)),
        registry_path=Path(path) if path is not None else None,
        max_age_days=registry.get("max_age_days", DEFAULT_MAX_AGE_DAYS),
    )


def _certain(name: str, value: Any) -> bool:
    """True when section ``name`` holds only values the models certainly accept."""
    if name == "pipeline":
        return True
    if name == "webhooks":
        return type(value) is list and all(
            _certain_table(entry, WEBHOOK_CHECKS) and "url" in entry for entry in value
        )
    checks = QUICK_CHECKS.get(name)
    return checks is not None and _certain_table(value, checks)


def _certain_table(table: Any, checks: Mapping[str, Check]) -> bool:
    return type(table) is dict and all(
        key in checks and checks[key](value) for key, value in table.items()
    )
