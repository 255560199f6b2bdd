"""PipelineConfig: defaults, unknown sections, typos and bad rules."""

from __future__ import annotations

import tomllib
from importlib import resources

import pytest
from pydantic import ValidationError

from cxlist.errors import ConfigError
from cxlist.pipeline import PipelineConfig, load_config


def test_empty_config_has_the_tutorial_defaults() -> None:
    """No config at all: region US, dedupe on phone, tutorial scoring, capacity fail."""
    config = PipelineConfig()
    assert config.normalize.default_region == "US"
    assert config.dedupe.key == ("phone_number",)
    assert config.dedupe.policy == "highest_score"
    assert config.scoring.base == 50
    assert [r.add for r in config.scoring.rules] == [20, -15, 25, -20, 15]
    assert config.capacity.policy == "fail"
    assert config.lists == ()


def test_with_target_gives_one_default_list() -> None:
    """with_target is the CLI's --list/--campaign path: one default list."""
    config = PipelineConfig().with_target("L-1", "C-100")
    assert len(config.lists) == 1
    assert config.lists[0].id == "L-1"
    assert config.lists[0].campaign == "C-100"
    assert config.lists[0].default


def test_other_layers_sections_are_ignored() -> None:
    """[cxone], [upload], [webhook] belong to others and do not break the pipeline config."""
    config = load_config({"cxone": {"region": "na1"}, "upload": {"x": 1}, "normalize": {}})
    assert config.normalize.default_region == "US"


def test_typo_inside_a_pipeline_section_is_caught() -> None:
    """An unknown key inside [dedupe] is a ConfigError naming section, key and the likely fix."""
    with pytest.raises(ConfigError, match=r"\[dedupe\] polcy: unknown key; did you mean 'policy'"):
        load_config({"dedupe": {"polcy": "first"}})


def test_model_validate_raises_for_typos_too() -> None:
    """model_validate (the contract's entry) refuses typos with pydantic's error."""
    with pytest.raises(ValidationError):
        PipelineConfig.model_validate({"capacity": {"policy": "maybe"}})


def test_bad_expression_is_a_config_error_with_rule_and_position() -> None:
    """A syntax error in a scoring rule names the rule and the position."""
    data = {"scoring": {"rules": [{"name": "hot", "when": "score >> 3", "add": 1}]}}
    with pytest.raises(ConfigError, match=r"scoring.rules 'hot'.*position 8"):
        load_config(data)


def test_lists_need_exactly_one_default() -> None:
    """Lists without a default, or with two, are refused."""
    with pytest.raises(ConfigError, match="default"):
        load_config({"lists": [{"id": "A", "campaign": "C", "when": "score > 1"}]})
    two = [
        {"id": "A", "campaign": "C", "default": True},
        {"id": "B", "campaign": "C", "default": True},
    ]
    with pytest.raises(ConfigError, match="only one list"):
        load_config({"lists": two})


def test_newest_policy_needs_a_recency_field() -> None:
    """dedupe policy newest without recency_field is refused."""
    with pytest.raises(ConfigError, match="recency_field"):
        load_config({"dedupe": {"policy": "newest"}})


def test_unknown_region_is_refused() -> None:
    """default_region must be a region libphonenumber knows."""
    with pytest.raises(ConfigError, match="unknown region"):
        load_config({"normalize": {"default_region": "XX"}})


def test_example_config_loads_and_spells_out_the_defaults() -> None:
    """The `cxlist init` template is valid and its commented rules are the built-in ones."""
    text = (resources.files("cxlist.templates") / "cxlist.toml").read_text(encoding="utf-8")
    config = load_config(tomllib.loads(text))
    assert [rule.id for rule in config.lists] == ["L-1"]  # the hot list ships commented out
    assert config.scoring == PipelineConfig().scoring
    uncommented = "\n".join(
        line.removeprefix("# ") if line.startswith(("# rules", "#   ", "# ]")) else line
        for line in text.splitlines()
    )
    spelled = load_config(tomllib.loads(uncommented))
    assert spelled.scoring.rules == PipelineConfig().scoring.rules


def test_settings_know_every_pipeline_section() -> None:
    """cxlist.settings refuses unknown sections from its own list of the pipeline's: the same."""
    from cxlist.pipeline.config import pipeline_sections
    from cxlist.settings import PIPELINE_SECTIONS

    assert set(PIPELINE_SECTIONS) == set(pipeline_sections())
