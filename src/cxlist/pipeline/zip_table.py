"""US ZIP codes → time zone and state, from the ``zipcodes`` package's shipped data.

``zipcodes`` embeds the USPS/GeoNames dataset (one record per ZIP5, with its IANA zone, state,
city and area codes) and is refreshed monthly upstream. Turning its 42,000 records into Python
objects takes a second or two, so the lookup tables built from them are kept as one small
Parquet file per ``zipcodes`` version in the user's cache folder (``$CXLIST_CACHE_DIR``, else
``$XDG_CACHE_HOME/cxlist``, else ``~/.cache/cxlist``); a folder that cannot be written only
means the tables are built again in the next process.

Tables (each a polars frame, every key a string):

- ``zip5``: ZIP5 → ``zone`` and ``state``;
- ``zip3``: the first three digits → every zone of its ZIPs (``zones``, sorted, ``;``-joined),
  the most common one (``zone``) and the most common state, for ZIPs the data lacks;
- ``city``: ``CITY|ST`` (upper case) → ``zones``, ``zone``;
- ``npa``: ``1`` + area code → the state most of its ZIPs are in.
"""

from __future__ import annotations

import os
import zoneinfo
from collections import Counter, defaultdict
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # imported where the tables are built or read: naming the cache folder
    import polars as pl  # (calling settings do) does not load polars

__all__ = ["ZipTables", "cache_folder", "zip_tables"]

_FORMAT = 2  # bump when the cached file's layout changes
_US_STATES = frozenset([
    "AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "DC", "FL", "GA", "HI", "ID", "IL", "IN",
    "IA", "KS", "KY", "LA", "ME", "MD", "MA", "MI", "MN", "MS", "MO", "MT", "NE", "NV", "NH",
    "NJ", "NM", "NY", "NC", "ND", "OH", "OK", "OR", "PA", "RI", "SC", "SD", "TN", "TX", "UT",
    "VT", "VA", "WA", "WV", "WI", "WY", "PR", "GU", "VI", "AS", "MP",
])  # fmt: skip


class ZipTables:
    """The four lookup tables, as polars frames (see the module docstring)."""

    def __init__(self, tables: dict[str, pl.DataFrame]) -> None:
        self.zip5 = tables["zip5"]
        self.zip3 = tables["zip3"]
        self.city = tables["city"]
        self.npa = tables["npa"]


def cache_folder() -> Path:
    """Where derived data is cached: ``$CXLIST_CACHE_DIR``, else the XDG cache folder."""
    explicit = os.environ.get("CXLIST_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "cxlist"


def _ranked(counts: Counter[str]) -> tuple[str, str]:
    """(every key sorted and ``;``-joined, the most common key; ties by name)."""
    common = min(counts, key=lambda k: (-counts[k], k))
    return ";".join(sorted(counts)), common


def _records() -> Iterable[dict[str, Any]]:
    import zipcodes

    return zipcodes.list_all()  # type: ignore[no-untyped-call,no-any-return]


def build_tables(records: Iterable[dict[str, Any]]) -> dict[str, pl.DataFrame]:
    """The lookup tables from ``zipcodes``-shaped records (zones not known to zoneinfo dropped)."""
    import polars as pl

    known = zoneinfo.available_timezones()
    zip5: dict[str, tuple[str, str]] = {}
    zip3: dict[str, Counter[str]] = defaultdict(Counter)
    zip3_state: dict[str, Counter[str]] = defaultdict(Counter)
    city: dict[str, Counter[str]] = defaultdict(Counter)
    npa: dict[str, Counter[str]] = defaultdict(Counter)
    for record in records:
        code, state, zone = record["zip_code"], record["state"], record["timezone"]
        if state not in _US_STATES:
            continue
        for area in record.get("area_codes") or ():
            npa["1" + area][state] += 1
        zip3_state[code[:3]][state] += 1
        if zone not in known:
            continue
        zip5[code] = (zone, state)
        zip3[code[:3]][zone] += 1
        city[f"{str(record['city']).upper()}|{state}"][zone] += 1
    prefixes = sorted(zip3_state)
    zones3 = [_ranked(zip3[p]) if zip3[p] else (None, None) for p in prefixes]
    cities = sorted(city)
    ranked_cities = [_ranked(city[c]) for c in cities]
    return {
        "zip5": pl.DataFrame(
            {
                "key": list(zip5),
                "zone": [v[0] for v in zip5.values()],
                "state": [v[1] for v in zip5.values()],
            }
        ),
        "zip3": pl.DataFrame(
            {
                "key": prefixes,
                "zones": [z[0] for z in zones3],
                "zone": [z[1] for z in zones3],
                "state": [_ranked(zip3_state[p])[1] for p in prefixes],
            },
            schema={"key": pl.String, "zones": pl.String, "zone": pl.String, "state": pl.String},
        ),
        "city": pl.DataFrame(
            {
                "key": cities,
                "zones": [r[0] for r in ranked_cities],
                "zone": [r[1] for r in ranked_cities],
            }
        ),
        "npa": pl.DataFrame(
            {"key": sorted(npa), "state": [_npa_state(k, npa[k]) for k in sorted(npa)]}
        ),
    }


def _npa_state(prefix: str, states: Counter[str]) -> str | None:
    """The state most ZIPs listing area code ``prefix`` are in, if libphonenumber places the
    area code in the US or its territories (the data lists some Canadian codes by border ZIPs).
    """
    import phonenumbers

    region = phonenumbers.region_code_for_number(phonenumbers.parse(f"+{prefix}2345678"))
    if region not in {"US", "PR", "GU", "VI", "AS", "MP"}:
        return None
    return _ranked(states)[1]


def _cache_path() -> Path:
    import zipcodes

    return cache_folder() / f"zip-tables-{zipcodes.__version__}-{_FORMAT}.parquet"


def _load(path: Path) -> dict[str, pl.DataFrame] | None:
    import polars as pl

    try:
        stacked = pl.read_parquet(path)
    except (OSError, pl.exceptions.PolarsError):
        return None
    return {
        str(name): part.drop("table").select(
            [c for c in part.columns if c != "table" and part[c].null_count() < part.height]
        )
        for (name,), part in stacked.group_by("table", maintain_order=True)
    }


def _save(path: Path, tables: dict[str, pl.DataFrame]) -> None:
    import polars as pl

    stacked = pl.concat(
        [t.with_columns(pl.lit(name).alias("table")) for name, t in tables.items()],
        how="diagonal",
    )
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        scratch = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        stacked.write_parquet(scratch)
        scratch.replace(path)
    except OSError:
        return  # a read-only home: the tables are rebuilt next time


@cache
def zip_tables() -> ZipTables:
    """The tables, from the cache file when it is there, else built (and cached)."""
    path = _cache_path()
    tables = _load(path)
    if tables is None or set(tables) != {"zip5", "zip3", "city", "npa"}:
        tables = build_tables(_records())
        _save(path, tables)
    return ZipTables(tables)
