"""A quick check of the pipeline's sections of cxlist.toml, for commands that do not run the
pipeline.

Every command checks the pipeline's sections as it loads the settings, so that a typo in
``[dedupe]`` stops ``cxlist runs list`` as it stops ``cxlist plan``. The check is
:func:`cxlist.pipeline.config.load_config`'s; importing pydantic and building the pipeline's
models took about as long as all the rest of such a command. :func:`pipeline_certain` says
True when every section holds only values those models certainly accept (known keys, exact
types, values within their bounds, rule expressions that parse, calling hours inside the
federal window), and False otherwise: the caller then runs the models, whose error (or
acceptance) is the answer, word for word as before. It never refuses anything itself.

``tests/test_settings_pipeline.py`` holds these checks to the models: the same sections and
keys, and whenever a check says certain, the models accept (every key against sample values,
and generated configs).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from functools import cache
from typing import TYPE_CHECKING, Any

from cxlist.settings_layers import (
    PIPELINE_SECTIONS,
    Check,
    _flag,
    _one_of,
    _text,
    _texts,
    _whole,
)

if TYPE_CHECKING:
    from cxlist.pipeline.schedule import Week

__all__ = ["ENTRY_CHECKS", "PIPELINE_CHECKS", "POLICY_CHECKS", "REGIONS", "pipeline_certain"]

#: The regions ``[normalize] default_region`` may name (phonenumbers' supported regions; a
#: test holds this list within the installed library's).
_REGION_CODES = """
    AC AD AE AF AG AI AL AM AO AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ
    BR BS BT BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO
    DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GT GU
    GW GY HK HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW
    KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT
    MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PR PS PT
    PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TA
    TC TD TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG US UY UZ VA VC VE VG VI VN VU WF WS XK
    YE YT ZA ZM ZW
"""
REGIONS = frozenset(_REGION_CODES.split())


def _integer(value: Any) -> bool:
    return type(value) is int


def _one_byte(value: Any) -> bool:
    if type(value) is not str:
        return False
    try:
        return len(value.encode()) == 1
    except UnicodeError:
        return False


def _region(value: Any) -> bool:
    return type(value) is str and value.upper() in REGIONS


def _expression(value: Any) -> bool:
    """A rule's ``when`` that parses (the models parse it the same way)."""
    if type(value) is not str:
        return False
    from cxlist.pipeline.expressions import parse_expression

    try:
        parse_expression(value, rule="quick check")
    except Exception:  # any doubt: the models decide, and say why
        return False
    return True


def _dedupe_key(value: Any) -> bool:
    return _text(value) or (_texts(1)(value) and ("any_phone" not in value or len(value) == 1))


def _days(value: Any) -> bool:
    if not _texts()(value):
        return False
    from cxlist.pipeline.schedule import parse_days

    try:
        for text in value:
            parse_days(text)
    except Exception:  # the same
        return False
    return True


def _dates(value: Any) -> bool:
    return type(value) is list and all(type(day) is date for day in value)


def _hours(value: Any) -> bool:
    """Weekly hours that parse and lie within the federal window."""
    if type(value) is not str:
        return False
    from cxlist.pipeline.schedule import Week

    try:
        return Week.parse(value) <= _federal_week()
    except Exception:  # the same
        return False


@cache
def _federal_week() -> Week:
    """The federal rule's hours, from the shipped table (as ``calling.federal_week`` reads
    it, without the calling module's models)."""
    import tomllib
    from importlib import resources

    from cxlist.pipeline.schedule import Week

    text = resources.files("cxlist.pipeline").joinpath("data/calling_rules.toml").read_text()
    return next(Week.parse(r["hours"]) for r in tomllib.loads(text)["rule"] if not r.get("states"))


#: The keys of a calling policy (``[calling]`` itself, and each of ``[calling.lists.ID]``).
POLICY_CHECKS: dict[str, Check] = {"hours": _hours, "days": _days, "blackout_dates": _dates}


def _policies(value: Any) -> bool:
    return type(value) is dict and all(
        type(name) is str and _table(policy, POLICY_CHECKS) for name, policy in value.items()
    )


def _columns(value: Any) -> bool:
    return type(value) is dict and all(
        type(name) is str and (_text(header) or _texts()(header)) for name, header in value.items()
    )


#: The keys of one entry of ``[validate] rules``, ``[scoring] rules`` and ``[[lists]]``, and
#: the keys each entry must have.
ENTRY_CHECKS: dict[str, tuple[dict[str, Check], frozenset[str]]] = {
    "validate": (
        {"name": _text, "when": _expression, "reason": _text},
        frozenset({"name", "when"}),
    ),
    "scoring": (
        {"name": _text, "when": _expression, "add": _integer, "group": _text},
        frozenset({"name", "when", "add"}),
    ),
    "lists": (
        {"id": _text, "campaign": _text, "when": _expression, "default": _flag},
        frozenset({"id", "campaign"}),
    ),
}


def _entries(kind: str) -> Check:
    checks, required = ENTRY_CHECKS[kind]
    return lambda value: (
        type(value) is list
        and all(_table(entry, checks) and required <= entry.keys() for entry in value)
    )


_MATCH_FIELDS = frozenset({"phone_number", "email"})

#: The keys of each pipeline section (a table) and what a value certainly accepted looks like
#: there (the models in :mod:`cxlist.pipeline.config` are the reference). ``[columns]`` and
#: ``[[lists]]`` are not tables of known keys: see :func:`pipeline_certain`.
PIPELINE_CHECKS: dict[str, dict[str, Check]] = {
    "input": {
        "encoding": _text,
        "delimiter": _one_byte,
        "sheet": _text,
        "missing_values": _texts(),
    },
    "normalize": {"default_region": _region, "default_timezone": _text},
    "validate": {"rules": _entries("validate"), "require_phone": _flag},
    "suppress": {"dnc_files": _texts(), "by": lambda v: _texts()(v) and set(v) <= _MATCH_FIELDS},
    "scoring": {"base": _integer, "min": _integer, "max": _integer, "rules": _entries("scoring")},
    "dedupe": {
        "key": _dedupe_key,
        "policy": _one_of("highest_score", "first", "last", "newest"),
        "recency_field": _text,
    },
    "capacity": {"policy": _one_of("fail", "trim")},
    "calling": {
        **POLICY_CHECKS,
        "skip_uncallable_days": _whole(1, 366),
        "lists": _policies,
    },
}


def pipeline_certain(sections: Mapping[str, Any]) -> bool:
    """True when every pipeline section in ``sections`` (top-level names as in cxlist.toml)
    holds only values :func:`cxlist.pipeline.config.load_config` certainly accepts; False
    when in any doubt (the models must then be asked)."""
    for name, value in sections.items():
        if name == "columns":
            certain = _columns(value)
        elif name == "lists":
            certain = _entries("lists")(value) and _one_default(value)
        elif name in PIPELINE_CHECKS:
            certain = _table(value, PIPELINE_CHECKS[name]) and _consistent(name, value)
        else:
            certain = False
        if not certain:
            return False
    return set(sections) <= set(PIPELINE_SECTIONS)


def _table(table: Any, checks: Mapping[str, Check]) -> bool:
    return type(table) is dict and all(
        type(key) is str and key in checks and checks[key](value) for key, value in table.items()
    )


def _consistent(name: str, table: dict[str, Any]) -> bool:
    """The rules between a section's keys that the models check."""
    if name == "scoring":
        return bool(0 <= table.get("min", 0) <= table.get("max", 100) <= 100)
    if name == "dedupe":
        return table.get("policy") != "newest" or bool(table.get("recency_field"))
    return True


def _one_default(lists: list[dict[str, Any]]) -> bool:
    """Exactly one default list (or no list at all); every other list has a ``when``."""
    defaults = [entry for entry in lists if entry.get("default") is True]
    without_when = [entry for entry in lists if "when" not in entry]
    return not lists or (len(defaults) == 1 and all(e.get("default") is True for e in without_when))
