"""Normalize (phones, emails, time zones) and validate: the rows the API would refuse are REJECTED.

A reason names the column and the value: ``invalid phone_number '555-01' (column 'Mobile')``.
Checks in order: a header that cannot be an API field name, a value over 1,024 characters,
no phone and no email, an invalid phone, an invalid email, then the config's own rules.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor

import polars as pl

from cxlist.model import Disposition
from cxlist.pipeline.config import NormalizeConfig, ValidateRule
from cxlist.pipeline.emails import normalize_emails
from cxlist.pipeline.expressions import compile_expression, parse_expression
from cxlist.pipeline.mapping import ColumnMapping
from cxlist.pipeline.phones import normalize_phones
from cxlist.pipeline.stages import dispose, nulls
from cxlist.pipeline.timezones import place_zones, resolve_timezones

__all__ = ["MAX_VALUE", "NormalizeStage", "ValidateStage"]

MAX_VALUE = 1024


def _shown(value: str, limit: int = 60) -> str:
    return value if len(value) <= limit else value[: limit - 3] + "..."


class NormalizeStage:
    """Phones to E.164, emails cleaned, a time zone per row; raw values kept for the reasons."""

    name = "normalize"

    def __init__(self, config: NormalizeConfig) -> None:
        self.config = config

    @staticmethod
    def _emails_and_places(
        raw_email: pl.Series, frame: pl.DataFrame
    ) -> tuple[pl.DataFrame, dict[str, pl.Series]]:
        return normalize_emails(raw_email, trimmed_already=True), place_zones(frame)

    def __call__(self, frame: pl.DataFrame) -> pl.DataFrame:
        """The frame with normalized phone/email, ``timezone`` and ``timezone_source``.

        Three pieces of work share the machine's cores on two threads (polars releases the
        GIL): the first half of the phones, emails with the ZIP/state zones, and the second
        half of the phones. (Phones are normalized value by value, so halves change nothing.)
        """
        empty = nulls("", frame.height, pl.String)
        raw_phone = frame["phone_number"] if "phone_number" in frame.columns else empty
        raw_email = frame["email"] if "email" in frame.columns else empty
        region = self.config.default_region
        half = frame.height // 2
        # run_pipeline has trimmed every value already
        with ThreadPoolExecutor(max_workers=2) as pool:
            first = pool.submit(
                normalize_phones, raw_phone.slice(0, half), region, trimmed_already=True
            )
            side = pool.submit(self._emails_and_places, raw_email, frame)
            second = normalize_phones(raw_phone.slice(half), region, trimmed_already=True)
            phones = pl.concat([first.result(), second], rechunk=True)
            frame = frame.with_columns(
                raw_phone.alias("_phone_raw"),
                phones["valid"].alias("_phone_ok"),
                phones["e164"].alias("phone_number"),
                phones["extension"].alias("phone_extension"),
            )
            emails, places = side.result()
        zones = resolve_timezones(frame, self.config.default_timezone, places=places)
        return frame.with_columns(
            raw_email.alias("_email_raw"),
            emails["valid"].alias("_email_ok"),
            emails["email"].alias("email"),
            zones["timezone"],
            zones["timezone_source"],
        )


class ValidateStage:
    """REJECTED, with a reason naming column and value, for rows the API would refuse."""

    name = "validate"

    def __init__(
        self,
        mapping: ColumnMapping,
        send_fields: Sequence[str],
        rules: Sequence[ValidateRule] = (),
    ) -> None:
        self.mapping = mapping
        self.send_fields = tuple(send_fields)
        self.rules = tuple(rules)
        self.header_of: Mapping[str, str] = {v: k for k, v in mapping.fields.items()}

    def _column(self, field: str) -> str:
        return self.header_of.get(field, field)

    def _checks(self, frame: pl.DataFrame) -> list[tuple[pl.Expr, pl.Expr]]:
        """(fails, reason) pairs in the order they are tried."""
        checks: list[tuple[pl.Expr, pl.Expr]] = []
        for header in self.mapping.invalid:
            text = (
                f"column {_shown(header)!r}: not a valid API field name (A-Z, a-z, 0-9, _; 1..64)"
            )
            checks.append((pl.col(self.mapping.fields[header]).is_not_null(), pl.lit(text)))
        for field in self._long_fields(frame):
            size = pl.col(field).str.len_chars()
            text = f"column {self._column(field)!r}: value over 1,024 characters ({{}})"
            checks.append((size > MAX_VALUE, pl.format(text, size)))
        neither = pl.col("_phone_ok").is_null() & pl.col("_email_ok").is_null()
        checks.append((neither, pl.lit("no phone_number and no email")))
        checks.append(self._invalid("phone_number", "_phone_ok", "_phone_raw"))
        checks.append(self._invalid("email", "_email_ok", "_email_raw"))
        for rule in self.rules:
            expression = parse_expression(rule.when, rule=f"validate.rules {rule.name!r}")
            matched = compile_expression(expression, frame.schema)
            checks.append((matched, pl.lit(rule.reason or f"rule {rule.name}")))
        return checks

    def _long_fields(self, frame: pl.DataFrame) -> list[str]:
        """The text fields holding a value of over 1,024 bytes (only they can be too long)."""
        text = [f for f in self.send_fields if frame.schema.get(f) == pl.String]
        if not text or frame.height == 0:
            return []
        longest = (
            frame.lazy().select(pl.col(f).str.len_bytes().max() for f in text).collect().row(0)
        )
        return [f for f, size in zip(text, longest, strict=True) if (size or 0) > MAX_VALUE]

    def _invalid(self, field: str, ok: str, raw: str) -> tuple[pl.Expr, pl.Expr]:
        column = repr(self._column(field))
        text = pl.format(f"invalid {field} {{}} (column {column})", _quoted(pl.col(raw)))
        return pl.col(ok).not_(), text

    def __call__(self, frame: pl.DataFrame) -> pl.DataFrame:
        """The frame with the first failing check's reason on each REJECTED row."""
        checks = self._checks(frame)
        fails = [condition.fill_null(False) for condition, _ in checks]
        first: pl.Expr = pl.lit(None, dtype=pl.String)
        for condition, reason in reversed(checks):
            first = pl.when(condition.fill_null(False)).then(reason).otherwise(first)
        checked = dispose(frame, Disposition.REJECTED, pl.any_horizontal(fails), first)
        return checked.drop("_phone_raw", "_phone_ok", "_email_raw", "_email_ok")


def _quoted(value: pl.Expr) -> pl.Expr:
    clipped = (
        pl.when(value.str.len_chars() > 60).then(value.str.slice(0, 57) + "...").otherwise(value)
    )
    return pl.lit("'") + clipped + pl.lit("'")
