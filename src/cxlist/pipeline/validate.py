"""Normalize (phones, emails, time zones) and validate: the rows the API would refuse are REJECTED.

A reason names the column and the value: ``invalid phone_number '555-01' (column 'Mobile')``.
Checks in order: a header that cannot be an API field name, a value over 1,024 characters,
no dialable phone number (each dropped number's fate listed; with ``require_phone = false`` a
valid email will do), an invalid email on a contact without a dialable number, then the
config's own rules. An invalid number is dropped from a contact that has another; an invalid
email is dropped, with a ``warnings`` entry, from a contact with a dialable number.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor

import polars as pl

from cxlist.model import Disposition
from cxlist.pipeline.config import NormalizeConfig, ValidateRule
from cxlist.pipeline.countries import row_regions
from cxlist.pipeline.dialable import NO_PHONE, dropped_text, normalize_contact_phones
from cxlist.pipeline.emails import normalize_emails
from cxlist.pipeline.expressions import compile_expression, parse_expression
from cxlist.pipeline.mapping import ColumnMapping
from cxlist.pipeline.stages import dispose, nulls
from cxlist.pipeline.timezones import resolve_timezones

__all__ = ["MAX_VALUE", "NormalizeStage", "ValidateStage"]

MAX_VALUE = 1024


def _shown(value: str, limit: int = 60) -> str:
    return value if len(value) <= limit else value[: limit - 3] + "..."


class NormalizeStage:
    """Every phone to E.164 in its row's region, emails cleaned, a time zone per row."""

    name = "normalize"

    def __init__(self, config: NormalizeConfig, mapping: ColumnMapping | None = None) -> None:
        self.config = config
        self.phones = (mapping.phones if mapping is not None else ()) or ("phone_number",)
        self.headers = {name: mapping.header_of(name) for name in self.phones} if mapping else {}

    @staticmethod
    def _emails(raw_email: pl.Series) -> pl.DataFrame:
        return normalize_emails(raw_email, trimmed_already=True)

    def _phones(self, frame: pl.DataFrame) -> pl.DataFrame:
        phones = list(self.phones)
        country = frame["country"] if "country" in frame.columns else None
        regions = row_regions(country, self.config.default_region, frame.height)
        return normalize_contact_phones(
            frame, phones, regions, headers=self.headers, country=country
        )

    def __call__(self, frame: pl.DataFrame) -> pl.DataFrame:
        """The frame with each phone field in E.164 (null when blank or dropped, the reason in
        scratch columns), the email cleaned, and the time zone columns (``timezone``,
        ``timezone_source``, ``timezones``, ``_zone_key``).

        Emails run on a second thread beside the phones (polars releases the GIL). After the
        phones, every phone column's zones join the contact's set; the first dialable number
        stands as ``phone_number`` for the zone shown when the address gives none.
        """
        empty = nulls("", frame.height, pl.String)
        raw_email = frame["email"] if "email" in frame.columns else empty
        if "phone_number" not in frame.columns:  # a file without phones: the field stays empty
            frame = frame.with_columns(empty.alias("phone_number"))
        # run_pipeline has trimmed every value already
        with ThreadPoolExecutor(max_workers=1) as pool:
            side = pool.submit(self._emails, raw_email)
            frame = frame.with_columns(self._phones(frame))
            emails = side.result()
        zoned = frame.with_columns(pl.coalesce(self.phones).alias("phone_number"))
        zones = resolve_timezones(zoned, self.config.default_timezone)
        return frame.with_columns(
            raw_email.alias("_email_raw"),
            emails["valid"].alias("_email_ok"),
            emails["email"].alias("email"),
            *zones.iter_columns(),
        )


class ValidateStage:
    """REJECTED, with a reason naming column and value, for rows the API would refuse or that
    have no number to dial; an invalid email beside a dialable number is dropped with a warning."""

    name = "validate"

    def __init__(
        self,
        mapping: ColumnMapping,
        send_fields: Sequence[str],
        rules: Sequence[ValidateRule] = (),
        *,
        require_phone: bool = True,
    ) -> None:
        self.mapping = mapping
        self.send_fields = tuple(send_fields)
        self.rules = tuple(rules)
        self.require_phone = require_phone
        self.header_of: Mapping[str, str] = {v: k for k, v in mapping.fields.items()}
        self.phones = mapping.phones or ("phone_number",)

    def _column(self, field: str) -> str:
        return self.header_of.get(field, field)

    def _dialable(self) -> pl.Expr:
        return pl.any_horizontal(pl.col(p).is_not_null() for p in self.phones)

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
        dialable = self._dialable()
        fates = dropped_text(self.phones, 1)
        email_ok = pl.col("_email_ok").fill_null(False)
        keeps_email = pl.lit(not self.require_phone) & email_ok
        none_left = fates.is_not_null() & ~dialable & ~keeps_email
        checks.append((none_left, pl.lit(f"{NO_PHONE}: ") + fates))
        if self.require_phone:
            checks.append((~dialable, pl.lit(NO_PHONE)))
        else:
            neither = ~dialable & pl.col("_email_ok").is_null()
            checks.append((neither, pl.lit("no phone_number and no email")))
        column = repr(self._column("email"))
        invalid_email = pl.format(
            f"invalid email {{}} (column {column})", _quoted(pl.col("_email_raw"))
        )
        checks.append((pl.col("_email_ok").not_() & ~dialable, invalid_email))
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

    def _warnings(self) -> pl.Expr:
        column = repr(self._column("email"))
        text = pl.format(
            f"invalid email {{}} (column {column}) dropped", _quoted(pl.col("_email_raw"))
        )
        return pl.when(pl.col("_email_ok").not_() & self._dialable()).then(text).alias("warnings")

    def __call__(self, frame: pl.DataFrame) -> pl.DataFrame:
        """The frame with the first failing check's reason on each REJECTED row, and
        ``warnings`` on the rows kept without their invalid email."""
        checks = self._checks(frame)
        fails = [condition.fill_null(False) for condition, _ in checks]
        first: pl.Expr = pl.lit(None, dtype=pl.String)
        for condition, reason in reversed(checks):
            first = pl.when(condition.fill_null(False)).then(reason).otherwise(first)
        checked = dispose(frame, Disposition.REJECTED, pl.any_horizontal(fails), first)
        warned = checked.lazy().select(self._warnings()).collect()
        return checked.with_columns(warned["warnings"]).drop("_email_raw", "_email_ok")


def _quoted(value: pl.Expr) -> pl.Expr:
    clipped = (
        pl.when(value.str.len_chars() > 60).then(value.str.slice(0, 57) + "...").otherwise(value)
    )
    return pl.lit("'") + clipped + pl.lit("'")
