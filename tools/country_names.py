"""Rewrite the shipped country-name table for the installed phonenumbers (``make country-names``).

``cxlist.pipeline.countries.region_names`` reads ``src/cxlist/pipeline/data/country_names.json``
when it was made from the installed phonenumbers version, and otherwise builds the table at
start-up (seconds: libphonenumber's locale data is large). Run this after changing the
phonenumbers pin to ship a fresh one.
"""

from __future__ import annotations

import json
from pathlib import Path

import phonenumbers

from cxlist.pipeline.countries import build_country_names

TARGET = Path(__file__).resolve().parents[1] / "src/cxlist/pipeline/data/country_names.json"


def main() -> None:
    """Write the table and the phonenumbers version it was built from."""
    data = {"phonenumbers": phonenumbers.__version__, "names": build_country_names()}
    TARGET.write_text(json.dumps(data, indent=0, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {TARGET} (phonenumbers {phonenumbers.__version__})")


if __name__ == "__main__":
    main()
