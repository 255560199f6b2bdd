"""Rewrite the shipped NANP pattern file for the installed phonenumbers (``make nanp-pattern``).

``cxlist.pipeline.phones.nanp_pattern`` reads ``src/cxlist/pipeline/data/nanp_pattern.json``
when it was made from the installed phonenumbers version, and otherwise builds the pattern at
start-up (about half a second). Run this after changing the phonenumbers pin to ship a fresh one.
"""

from __future__ import annotations

import json
from pathlib import Path

import phonenumbers

from cxlist.pipeline.phones import build_nanp_pattern

TARGET = Path(__file__).resolve().parents[1] / "src/cxlist/pipeline/data/nanp_pattern.json"


def main() -> None:
    """Write the pattern and the phonenumbers version it was built from."""
    data = {"phonenumbers": phonenumbers.__version__, "pattern": build_nanp_pattern()}
    TARGET.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {TARGET} (phonenumbers {phonenumbers.__version__})")


if __name__ == "__main__":
    main()
