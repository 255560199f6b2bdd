"""The quick settings path (``cxlist.settings_layers``): its checks name exactly the models'
keys, and whenever it calls the layers certainly valid the models accept them too and give the
same workspace and registry settings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from cxlist.errors import ConfigError
from cxlist.settings import (
    AdminSettings,
    CxoneSettings,
    RegistrySettings,
    RunSettings,
    Settings,
    UploadSettings,
    WebhookSettings,
    load_settings,
)
from cxlist.settings_layers import (
    OWN_SECTIONS,
    QUICK_CHECKS,
    WEBHOOK_CHECKS,
    QuickSettings,
    merge_layers,
    quick_settings,
)

MODELS = {
    "cxone": CxoneSettings,
    "admin": AdminSettings,
    "upload": UploadSettings,
    "run": RunSettings,
    "registry": RegistrySettings,
}

#: Values of every kind a layer can hold, good and bad for one key or another.
SAMPLES: list[Any] = [
    "",
    "x",
    "v2",
    "admin",
    "application",
    "http://127.0.0.1:8080/api",
    "https://h",
    "ftp://h",
    "http://h:port",
    "ws\x00",
    0,
    1,
    -1,
    31,
    32,
    64,
    65,
    500_000,
    500_001,
    0.0,
    0.5,
    float("nan"),
    True,
    False,
    None,
    [],
    ["a"],
    [1],
    {},
    Path("ws"),
]


def test_the_checks_name_exactly_the_models_keys() -> None:
    """Every own section and key of the models has a check, and nothing else has one."""
    assert set(OWN_SECTIONS) == set(Settings.model_fields) - {"pipeline"}
    assert set(QUICK_CHECKS) == set(MODELS)
    for name, model in MODELS.items():
        assert set(QUICK_CHECKS[name]) == set(model.model_fields), name
    assert set(WEBHOOK_CHECKS) == set(WebhookSettings.model_fields)


def _both(data: dict[str, Any]) -> tuple[QuickSettings | None, Settings | None]:
    """The quick answer for ``data`` as a base layer, and the models' (None when refused)."""
    env: dict[str, str] = {}
    try:
        layers = merge_layers(base=data, env=env)
    except ConfigError:  # refused before any check (a secret in the data): both say so
        with pytest.raises(ConfigError):
            load_settings(base=data, env=env)
        return None, None
    quick = quick_settings(layers)
    try:
        full: Settings | None = load_settings(base=data, env=env)
    except ConfigError:
        full = None
    return quick, full


@pytest.mark.parametrize(
    ("section", "key"),
    [(s, k) for s, checks in QUICK_CHECKS.items() for k in checks],
    ids=[f"{s}.{k}" for s, checks in QUICK_CHECKS.items() for k in checks],
)
def test_a_value_called_certain_is_one_the_models_accept(section: str, key: str) -> None:
    """For every key and every sample value: quick says certain only when the models accept
    the value, and then gives the same workspace and registry settings."""
    for value in SAMPLES:
        quick, full = _both({section: {key: value}})
        if quick is None:
            continue
        assert full is not None, (section, key, value)
        assert quick.workspace == full.run.workspace
        assert quick.registry_path == full.registry.path
        assert quick.max_age_days == full.registry.max_age_days


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"run": {"workspace": "somewhere"}, "registry": {"path": "regs", "max_age_days": 7}},
        {"cxone": {"base_url": "http://127.0.0.1:1", "client_id": "c", "timeout": 5}},
        {"upload": {"concurrency": 4, "chunk_size": 500}, "admin": {"phone_columns": ["P"]}},
        {"webhooks": [{"url": "https://h/x", "secret_env": "S"}]},
        {"registry": {"names": ["national"], "require_coverage": True}},
    ],
)
def test_usual_settings_are_read_without_the_models(data: dict[str, Any]) -> None:
    """Usual settings are certain, and read as the models read them."""
    quick, full = _both(data)
    assert quick is not None
    assert full is not None
    assert (quick.workspace, quick.registry_path, quick.max_age_days) == (
        full.run.workspace,
        full.registry.path,
        full.registry.max_age_days,
    )


@pytest.mark.parametrize(
    "data",
    [
        {"cxone": {"dialect": "V2"}},
        {"cxone": {"base_url": "localhost:8080"}},
        {"upload": {"concurrency": 0}},
        {"upload": {"concurency": 4}},
        {"registry": {"max_age_days": 40}},
        {"run": "here"},
        {"webhooks": [{"secret_env": "S"}]},
        {"webhooks": {"url": "https://h"}},
    ],
)
def test_a_doubtful_value_goes_to_the_models(data: dict[str, Any]) -> None:
    """A value the models refuse is never called certain: the full path reports it."""
    quick, full = _both(data)
    assert quick is None
    assert full is None


def test_the_environment_and_flags_are_laid_over_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The file, then CXLIST_WORKSPACE, then the --workspace flag, as load_settings does."""
    config = tmp_path / "cxlist.toml"
    config.write_text('[run]\nworkspace = "from-file"\n', encoding="utf-8")
    layers = merge_layers(config, env={})
    assert quick_settings(layers) == QuickSettings(Path("from-file"), None, 31)
    env = {"CXLIST_WORKSPACE": "from-env"}
    assert quick_settings(merge_layers(config, env=env)) == QuickSettings(
        Path("from-env"), None, 31
    )
    flags = {"run": {"workspace": tmp_path / "flag"}}
    assert quick_settings(merge_layers(config, env=env, overrides=flags)) == QuickSettings(
        tmp_path / "flag", None, 31
    )


def test_the_registry_root_is_the_runs_own() -> None:
    """QuickSettings.registry_root is where a run looks for the registries."""
    from cxlist.run import registry_root

    for data in ({}, {"registry": {"path": "elsewhere"}}):
        quick, full = _both(data)
        assert quick is not None
        assert full is not None
        assert quick.registry_root == registry_root(full)
