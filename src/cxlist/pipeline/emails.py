"""Email addresses: trimmed, domain lower-cased, syntax-checked (no DNS), vectorized.

ASCII addresses are settled by one regular expression over the column; addresses with
non-ASCII characters go to ``email-validator`` once per distinct value.
"""

from __future__ import annotations

import polars as pl
from email_validator import EmailNotValidError, validate_email

from cxlist.pipeline.stages import trimmed

__all__ = ["normalize_emails"]

_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
EMAIL = rf"^{_ATOM}(?:\.{_ATOM})*@(?:{_LABEL}\.)+[a-z]{{2,63}}$"
_MAX_LOCAL = 64
_MAX_TOTAL = 254


def _check_unicode(value: str) -> str | None:
    try:
        checked = validate_email(value, check_deliverability=False)
    except EmailNotValidError:
        return None
    return str(checked.normalized)


def normalize_emails(raw: pl.Series, *, trimmed_already: bool = False) -> pl.DataFrame:
    """One row per input value: ``email`` (normalized, null when missing or invalid), ``valid``.

    ``valid`` is null for a missing or blank value and false for an address that fails syntax.
    """
    text = raw.cast(pl.String) if trimmed_already else trimmed(raw)
    frame = pl.DataFrame({"_raw": text}).with_columns(
        pl.when(pl.col("_raw") != "").then(pl.col("_raw")).alias("_raw")
    )
    at = pl.col("_raw").str.find("@", literal=True)
    frame = frame.select(
        pl.col("_raw"),
        # the domain lower-cased; an address with a second "@" fails the syntax check anyway
        pl.when(at.is_not_null())
        .then(pl.col("_raw").str.slice(0, at) + pl.col("_raw").str.slice(at).str.to_lowercase())
        .alias("_email"),
        at.alias("_at"),
        pl.col("_raw").str.contains(r"[^\x00-\x7f]").alias("_unicode"),
    )
    ok = (
        pl.col("_email").str.contains(EMAIL)
        & (pl.col("_email").str.len_bytes() <= _MAX_TOTAL)
        & (pl.col("_at") <= _MAX_LOCAL)
    )
    frame = frame.with_columns(pl.when(ok).then(pl.col("_email")).alias("_ascii"))
    distinct = frame["_raw"].filter(frame["_unicode"].fill_null(False)).unique().to_list()
    if distinct:
        checked = pl.DataFrame(
            {"_raw": distinct, "_wide": [_check_unicode(v) for v in distinct]},
            schema={"_raw": pl.String, "_wide": pl.String},
        )
        frame = frame.join(checked, on="_raw", how="left", maintain_order="left")
    else:
        frame = frame.with_columns(pl.lit(None, dtype=pl.String).alias("_wide"))
    email = pl.when(pl.col("_unicode")).then(pl.col("_wide")).otherwise(pl.col("_ascii"))
    return frame.select(
        email.alias("email"),
        pl.when(pl.col("_raw").is_not_null()).then(email.is_not_null()).alias("valid"),
    )
