"""The quick check of the pipeline's sections (``cxlist.settings_pipeline``): its checks name
exactly the models' sections and keys, and whenever it calls a config certainly valid the
pipeline's models accept it too (every key against sample values, and generated configs)."""

from __future__ import annotations

import tomllib
from datetime import date, datetime
from importlib import resources
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from cxlist.errors import ConfigError
from cxlist.pipeline.calling import CallingConfig, CallingPolicy, federal_week
from cxlist.pipeline.config import (
    CapacityConfig,
    DedupeConfig,
    InputConfig,
    ListRule,
    NormalizeConfig,
    ScoreRule,
    ScoringConfig,
    SuppressConfig,
    ValidateConfig,
    ValidateRule,
    load_config,
    pipeline_sections,
)
from cxlist.settings_layers import PIPELINE_SECTIONS, Check
from cxlist.settings_pipeline import (
    ENTRY_CHECKS,
    PIPELINE_CHECKS,
    POLICY_CHECKS,
    REGIONS,
    _federal_week,
    pipeline_certain,
)

MODELS: dict[str, type[BaseModel]] = {
    "input": InputConfig,
    "normalize": NormalizeConfig,
    "validate": ValidateConfig,
    "suppress": SuppressConfig,
    "scoring": ScoringConfig,
    "dedupe": DedupeConfig,
    "capacity": CapacityConfig,
    "calling": CallingConfig,
}
ENTRY_MODELS: dict[str, type[BaseModel]] = {
    "validate": ValidateRule,
    "scoring": ScoreRule,
    "lists": ListRule,
}
#: A valid entry of each kind, for trying one key's values in.
ENTRIES: dict[str, dict[str, Any]] = {
    "validate": {"name": "r", "when": "x == 1"},
    "scoring": {"name": "r", "when": "x == 1", "add": 5},
    "lists": {"id": "L-1", "campaign": "C-1", "default": True},
}

#: Values of every kind a pipeline section can hold, good and bad for one key or another.
SAMPLES: list[Any] = [
    "",
    "x",
    "US",
    "us",
    "XX",
    "ZZ",
    ";",
    "\t",
    "é",
    ",,",
    "utf-8",
    "any_phone",
    "phone_number",
    "email",
    "newest",
    "highest_score",
    "first",
    "fail",
    "trim",
    "score >= 80",
    'state in ["AK", "HI"]',
    "score >=",
    "((x)",
    "Mon-Fri 09:00-20:00",
    "Mon-Sun 08:00-21:00",
    "Mon-Sun 07:00-21:00",
    "09:00-25:00",
    "Mon-Fri",
    "Sat,Sun",
    "Funday",
    "2026-12-25",
    0,
    1,
    -1,
    50,
    100,
    101,
    366,
    367,
    2**70,
    1.0,
    0.5,
    float("nan"),
    True,
    False,
    None,
    date(2026, 12, 25),
    datetime(2026, 12, 25, 10, 0),
    [],
    [""],
    ["x"],
    ["x", "y"],
    ["any_phone"],
    ["any_phone", "email"],
    ["phone_number", "email"],
    ["phone"],
    ["Mon-Fri", "Sat"],
    ["Funday"],
    [date(2026, 12, 25)],
    ["2026-12-25"],
    [1],
    [None],
    [{"name": "r", "when": "x == 1"}],
    [{"name": "r", "when": "x == 1", "add": 1}],
    [{"name": "r", "when": "x ==", "add": 1}],
    [{"name": "r", "add": 1}],
    {},
    {"L-1": {}},
    {"L-1": {"hours": "Mon-Fri 09:00-20:00"}},
    {"L-1": {"hours": "Mon-Fri 06:00-20:00"}},
    {"L-1": {"hour": "09:00-20:00"}},
    {"L-1": "x"},
    {"phones": ["Mobile", "Home"], "email": "E-mail"},
    {"email": 1},
]


def _accepted(data: dict[str, Any]) -> bool:
    """Whether the pipeline's models accept ``data``."""
    try:
        load_config(data)
    except ConfigError:
        return False
    return True


def _held(data: dict[str, Any]) -> bool:
    """Assert that ``data`` certain means ``data`` accepted; say whether it was certain."""
    certain = pipeline_certain(data)
    if certain:
        assert _accepted(data), data
    return certain


def _aliases(model: type[BaseModel]) -> set[str]:
    return {field.alias or name for name, field in model.model_fields.items()}


def test_the_checks_name_exactly_the_models_sections_and_keys() -> None:
    """Every pipeline section and key of the models has a check, and nothing else has one;
    entries must have exactly the keys the models require."""
    assert set(PIPELINE_SECTIONS) == set(pipeline_sections())
    assert set(PIPELINE_CHECKS) | {"columns", "lists"} == set(PIPELINE_SECTIONS)
    for name, model in MODELS.items():
        assert set(PIPELINE_CHECKS[name]) == _aliases(model), name
    for kind, model in ENTRY_MODELS.items():
        checks, required = ENTRY_CHECKS[kind]
        assert set(checks) == _aliases(model), kind
        assert required == {n for n, f in model.model_fields.items() if f.is_required()}, kind
    assert set(POLICY_CHECKS) == _aliases(CallingPolicy)


def test_the_tables_it_relies_on_are_the_libraries() -> None:
    """The regions are all phonenumbers', and the federal hours the calling module's."""
    import phonenumbers

    assert phonenumbers.SUPPORTED_REGIONS >= REGIONS
    assert _federal_week() == federal_week()


@pytest.mark.parametrize(
    ("section", "key"),
    [(s, k) for s, checks in PIPELINE_CHECKS.items() for k in checks],
    ids=[f"{s}.{k}" for s, checks in PIPELINE_CHECKS.items() for k in checks],
)
def test_a_value_called_certain_is_one_the_models_accept(section: str, key: str) -> None:
    """For every key of every section and every sample value: certain only when the
    models accept it."""
    for value in SAMPLES:
        _held({section: {key: value}})


@pytest.mark.parametrize(
    ("kind", "key"),
    [(k, key) for k, (checks, _) in ENTRY_CHECKS.items() for key in checks],
    ids=[f"{k}.{key}" for k, (checks, _) in ENTRY_CHECKS.items() for key in checks],
)
def test_an_entry_called_certain_is_one_the_models_accept(kind: str, key: str) -> None:
    """For every key of a rule or a list, and every sample value (and the key left out):
    certain only when the models accept the entry."""
    for value in [*SAMPLES, "left out"]:
        entry = {**ENTRIES[kind], key: value}
        if value == "left out":
            del entry[key]
        data = {"lists": [entry]} if kind == "lists" else {kind: {"rules": [entry]}}
        _held(data)


def test_columns_and_lists_called_certain_are_ones_the_models_accept() -> None:
    """``[columns]`` and ``[[lists]]`` (a mapping and a list, not tables of known keys)
    against every sample value, and lists with zero, one or two defaults."""
    for value in SAMPLES:
        _held({"columns": value})
        _held({"lists": value})
        _held({"columns": {"email": value}})
    hot = {"id": "L-HOT", "campaign": "C-1", "when": "score >= 80"}
    main = {"id": "L-1", "campaign": "C-1", "default": True}
    assert not _held({"lists": [hot]})
    assert not _held({"lists": [main, {**hot, "default": True}]})
    assert _held({"lists": [hot, main]})
    assert _held({"lists": []})


def _template() -> dict[str, Any]:
    """The config ``cxlist init`` writes, as data."""
    text = resources.files("cxlist").joinpath("templates/cxlist.toml").read_text()
    return tomllib.loads(text)


@pytest.mark.parametrize(
    "data",
    [
        {},
        {key: value for key, value in _template().items() if key in PIPELINE_SECTIONS},
        {
            "dedupe": {"recency_field": "updated"},
            "capacity": {"policy": "trim"},
            "lists": [{"id": "L-1", "campaign": "C-100", "default": True}],
        },
        {
            "columns": {"phones": ["Mobile Phone", "Home Phone"], "email": "E-mail"},
            "normalize": {"default_region": "gb", "default_timezone": "Europe/London"},
            "validate": {"rules": [{"name": "s", "when": 'state in ["AK"]', "reason": "no"}]},
            "scoring": {"rules": [{"name": "hot", "group": "g", "when": "x > 1", "add": 5}]},
            "dedupe": {"key": "any_phone", "policy": "newest", "recency_field": "updated"},
            "calling": {
                "hours": "Mon-Fri 09:00-20:00",
                "days": ["Mon-Fri"],
                "blackout_dates": [date(2026, 12, 25)],
                "skip_uncallable_days": 7,
                "lists": {"L-1": {"hours": "Mon-Fri 10:00-18:00"}},
            },
            "lists": [
                {"id": "L-HOT", "campaign": "C-1", "when": "score >= 80"},
                {"id": "L-1", "campaign": "C-1", "default": True},
            ],
        },
    ],
    ids=["none", "cxlist init's", "a plan's", "every section"],
)
def test_usual_pipeline_sections_are_checked_without_the_models(data: dict[str, Any]) -> None:
    """Usual configs are certain (the models are not needed), and the models agree."""
    assert _held(data)


@pytest.mark.parametrize(
    "data",
    [
        {"dedupe": {"polcy": "first"}},
        {"dedupe": {"policy": "newest"}},
        {"dedupe": {"key": ["any_phone", "email"]}},
        {"scoring": {"min": 60, "max": 40}},
        {"scoring": {"rules": [{"name": "r", "when": "score >> 1", "add": 1}]}},
        {"normalize": {"default_region": "XX"}},
        {"input": {"delimiter": ";;"}},
        {"calling": {"hours": "Mon-Sun 07:00-22:00"}},
        {"calling": {"days": ["Funday"]}},
        {"lists": [{"id": "L-1", "campaign": "C-1"}]},
        {"capacity": "trim"},
    ],
)
def test_a_doubtful_section_goes_to_the_models(data: dict[str, Any]) -> None:
    """A section the models refuse is never called certain: the models report it."""
    assert not pipeline_certain(data)
    assert not _accepted(data)


def test_an_expression_too_deep_to_parse_is_not_certain() -> None:
    """A rule the parser cannot take (it runs out of stack) is left to the models."""
    deep = "(" * 400 + "x" + ")" * 400
    assert not pipeline_certain({"lists": [{"id": "L", "campaign": "C", "when": deep}]})


#: Generated pipeline sections: known keys, each with a sample value, half of the time one
#: its own check takes (so that whole configs the quick check calls certain are common, and
#: the rules between keys and sections are tried).
_VALUES = st.sampled_from(SAMPLES)


def _value(check: Check) -> st.SearchStrategy[Any]:
    return st.one_of(st.sampled_from([v for v in SAMPLES if check(v)]), _VALUES)


def _section(checks: dict[str, Check]) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries({}, optional={k: _value(c) for k, c in checks.items()})


def _entry(kind: str) -> st.SearchStrategy[dict[str, Any]]:
    checks, _ = ENTRY_CHECKS[kind]
    return st.fixed_dictionaries({}, optional={k: _value(c) for k, c in checks.items()})


_CONFIGS = st.fixed_dictionaries(
    {},
    optional={
        **{name: _section(checks) for name, checks in PIPELINE_CHECKS.items() if name != "scoring"},
        "scoring": st.builds(
            lambda table, rules: {**table, "rules": rules} if rules is not None else table,
            _section({k: c for k, c in PIPELINE_CHECKS["scoring"].items() if k != "rules"}),
            st.none() | st.lists(_entry("scoring"), max_size=3),
        ),
        "columns": st.dictionaries(st.sampled_from(["email", "phones", "x"]), _VALUES),
        "lists": st.lists(_entry("lists"), max_size=3),
    },
)


@settings(max_examples=400, deadline=None)
@given(_CONFIGS)
def test_a_generated_config_called_certain_is_one_the_models_accept(data: dict[str, Any]) -> None:
    """Whenever the quick check calls a generated config certain, the models accept it."""
    _held(data)
