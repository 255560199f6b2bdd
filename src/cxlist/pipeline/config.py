"""The pipeline's settings: the ``[input]`` ... ``[capacity]`` sections of cxlist.toml.

Every section is optional. Other top-level sections (``[cxone]``, ``[upload]``, ...) belong to
other layers and are ignored here (:func:`cxlist.settings.load_settings` refuses a section no
layer knows); unknown keys *inside* a pipeline section are an error, so that a typo is caught.
Expressions are checked for syntax here and for column names when the pipeline runs (only then
are the columns known).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from cxlist.config_errors import describe_validation_error
from cxlist.errors import ConfigError
from cxlist.pipeline.expressions import parse_expression

__all__ = [
    "CapacityConfig",
    "DedupeConfig",
    "InputConfig",
    "ListRule",
    "NormalizeConfig",
    "PipelineConfig",
    "ScoreRule",
    "ScoringConfig",
    "SuppressConfig",
    "ValidateConfig",
    "ValidateRule",
    "load_config",
    "pipeline_sections",
]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_expression(text: str, rule: str) -> str:
    parse_expression(text, rule=rule)
    return text


class InputConfig(_Section):
    """How to read the input file; everything is sniffed when left out."""

    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None

    @field_validator("delimiter")
    @classmethod
    def _one_char(cls, value: str | None) -> str | None:
        if value is not None and len(value.encode()) != 1:
            raise ValueError("delimiter must be a single one-byte character")
        return value


class NormalizeConfig(_Section):
    """Phone normalization: the region assumed for numbers written without ``+``."""

    default_region: str = "US"
    default_timezone: str | None = None

    @field_validator("default_region")
    @classmethod
    def _known_region(cls, value: str) -> str:
        import phonenumbers

        region = value.upper()
        if region not in phonenumbers.SUPPORTED_REGIONS:
            raise ValueError(f"unknown region {value!r}")
        return region


class ValidateRule(_Section):
    """An extra reject rule: rows where ``when`` holds are REJECTED with ``reason``."""

    name: str
    when: str
    reason: str = ""

    @model_validator(mode="after")
    def _parse(self) -> ValidateRule:
        _check_expression(self.when, f"validate.rules {self.name!r}")
        return self


class ValidateConfig(_Section):
    """Reject rules added to the built-in checks."""

    rules: tuple[ValidateRule, ...] = ()


class SuppressConfig(_Section):
    """Local do-not-call files and the fields suppressions match on."""

    dnc_files: tuple[str, ...] = ()
    by: tuple[Literal["phone_number", "email"], ...] = ("phone_number", "email")


class ScoreRule(_Section):
    """Add ``add`` where ``when`` holds; in a ``group`` only the first match counts."""

    name: str
    when: str
    add: int
    group: str | None = None

    @model_validator(mode="after")
    def _parse(self) -> ScoreRule:
        _check_expression(self.when, f"scoring.rules {self.name!r}")
        return self


def _tutorial_rules() -> tuple[ScoreRule, ...]:
    recency = "(last_contact_days ?? 30)"
    return (
        ScoreRule(name="recent", group="recency", when=f"{recency} < 14", add=20),
        ScoreRule(name="stale", group="recency", when=f"{recency} > 90", add=-15),
        ScoreRule(name="engaged", group="engagement", when='engagement_rating == "HIGH"', add=25),
        ScoreRule(
            name="disengaged", group="engagement", when='engagement_rating == "LOW"', add=-20
        ),
        ScoreRule(name="active_customer", when='customer_status == "ACTIVE"', add=15),
    )


class ScoringConfig(_Section):
    """Score = clamp(base + the adds of the matching rules, min, max); priority = score // 10."""

    base: int = 50
    min: int = 0
    max: int = 100
    rules: tuple[ScoreRule, ...] = Field(default_factory=_tutorial_rules)

    @model_validator(mode="after")
    def _bounds(self) -> ScoringConfig:
        if not 0 <= self.min <= self.max <= 100:
            raise ValueError("scoring needs 0 <= min <= max <= 100 (priority is score // 10)")
        return self


class DedupeConfig(_Section):
    """Which normalized fields make the key, and which record of a group wins."""

    key: tuple[str, ...] = ("phone_number",)
    policy: Literal["highest_score", "first", "last", "newest"] = "highest_score"
    recency_field: str | None = None

    @model_validator(mode="after")
    def _needs_recency(self) -> DedupeConfig:
        if not self.key:
            raise ValueError("dedupe.key needs at least one field")
        if self.policy == "newest" and not self.recency_field:
            raise ValueError('dedupe.policy "newest" needs dedupe.recency_field')
        return self


class ListRule(_Section):
    """A target list: rows where ``when`` holds (first match wins); one list is the default."""

    id: str
    campaign: str
    when: str | None = None
    default: bool = False

    @model_validator(mode="after")
    def _parse(self) -> ListRule:
        if self.when is not None:
            _check_expression(self.when, f"lists {self.id!r}")
        elif not self.default:
            raise ValueError(f"list {self.id!r} needs a `when` rule or `default = true`")
        return self


class CapacityConfig(_Section):
    """What to do when a campaign would overflow: stop (``fail``) or drop the lowest priorities."""

    policy: Literal["fail", "trim"] = "fail"


class PipelineConfig(BaseModel):
    """All pipeline settings; build with ``model_validate(toml_dict)`` or :func:`load_config`."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    input: InputConfig = Field(default_factory=InputConfig)
    columns: dict[str, str] = Field(default_factory=dict)
    normalize: NormalizeConfig = Field(default_factory=NormalizeConfig)
    validate_: ValidateConfig = Field(default_factory=ValidateConfig, alias="validate")
    suppress: SuppressConfig = Field(default_factory=SuppressConfig)
    scoring: ScoringConfig = Field(default_factory=ScoringConfig)
    dedupe: DedupeConfig = Field(default_factory=DedupeConfig)
    lists: tuple[ListRule, ...] = ()
    capacity: CapacityConfig = Field(default_factory=CapacityConfig)

    @model_validator(mode="after")
    def _one_default(self) -> PipelineConfig:
        defaults = [rule.id for rule in self.lists if rule.default]
        if len(defaults) > 1:
            raise ValueError(f"only one list may be the default, not {defaults}")
        if self.lists and not defaults:
            raise ValueError("one of [[lists]] needs `default = true`")
        return self

    def with_target(self, list_id: str, campaign_id: str) -> PipelineConfig:
        """This config with one default list instead of any ``[[lists]]`` (the CLI's --list)."""
        target = ListRule(id=list_id, campaign=campaign_id, default=True)
        return self.model_copy(update={"lists": (target,)})


def pipeline_sections() -> tuple[str, ...]:
    """The top-level TOML names the pipeline reads (``validate``, not ``validate_``)."""
    return tuple(f.alias or n for n, f in PipelineConfig.model_fields.items())


def load_config(
    data: Mapping[str, Any] | None = None, *, source: str | None = None
) -> PipelineConfig:
    """Build a :class:`PipelineConfig` from a parsed TOML mapping; errors become one-line
    ``ConfigError``s naming ``source`` (the file), the section and the key."""
    try:
        return PipelineConfig.model_validate(dict(data or {}))
    except ValidationError as exc:
        raise ConfigError(describe_validation_error(exc, PipelineConfig, source=source)) from None
    except ConfigError as exc:  # a rule's expression, checked while validating
        raise ConfigError(f"{source}: {exc}" if source else str(exc)) from None
