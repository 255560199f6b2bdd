"""The sandbox tenant's phone rule: numbers kept as CXone keeps them."""

from __future__ import annotations

import phonenumbers

__all__ = ["national_digits"]


def national_digits(number: str) -> str | None:
    """A phone number as CXone keeps it: NANP numbers as 10 digits, others as digits with
    the country code; None when it is not a possible number."""
    text = number.strip()
    try:
        parsed = phonenumbers.parse(text, "US")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(parsed):
        return None
    if parsed.country_code == 1:
        return str(parsed.national_number)
    return f"{parsed.country_code}{parsed.national_number}"
