"""Masking of phone numbers and emails, and redaction of secrets, in audit events."""

from __future__ import annotations

from typing import Any

import pytest

from cxlist.report.masking import (
    REDACTED,
    ContactMasker,
    SecretRedactor,
    is_secret_key,
    mask_email,
    mask_phone,
    mask_text,
)


def test_mask_phone_keeps_prefix_and_last_two() -> None:
    """An E.164 number keeps '+', four digits and the last two."""
    assert mask_phone("+12015550123") == "+1201*****23"


def test_mask_email_keeps_first_letter_and_domain() -> None:
    """An email keeps the first letter of the local part and the domain."""
    assert mask_email("alice@example.com") == "a***@example.com"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("dup of +12015550123.", "dup of +1201*****23."),
        ("call (201) 555-0123 now", "call 2015****23 now"),
        ("raw 2015550123", "raw 2015****23"),
        ("+44 20 7946 0958", "+4420******58"),
        ("to alice@example.com, bob.x@mail.co.uk", "to a***@example.com, b***@mail.co.uk"),
    ],
)
def test_mask_text_finds_contacts_inside_text(text: str, expected: str) -> None:
    """Phones in several written forms and emails inside free text are masked."""
    assert mask_text(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "2026-11-27T10:27:30.000Z",
        "550e8400-e29b-41d4-a716-446655440000",
        "rows 1234567",
        "rate 3.14159265358",
        "chunk 12 of 40",
    ],
)
def test_mask_text_leaves_dates_ids_and_numbers(text: str) -> None:
    """Timestamps, UUIDs, short counts and decimals are not mistaken for phone numbers."""
    assert mask_text(text) == text


def test_contact_masker_masks_nested_values_but_not_identifiers() -> None:
    """Every nested string is masked; run_id and hash keys are left alone."""
    event: dict[str, Any] = {
        "event": "suppress",
        "run_id": "2015550123",
        "rows": [{"phone": "+12015550123", "email": "ann@example.org"}],
        "reason": "suppressed ann@example.org",
    }
    out = ContactMasker()(None, "msg", event)
    assert out["run_id"] == "2015550123"
    assert out["rows"] == [{"phone": "+1201*****23", "email": "a***@example.org"}]
    assert out["reason"] == "suppressed a***@example.org"


@pytest.mark.parametrize(
    "key",
    ["client_secret", "access_token", "password", "Authorization", "api_key", "webhookSecret"],
)
def test_secret_key_names(key: str) -> None:
    """Keys named like secrets are recognised whatever their case."""
    assert is_secret_key(key)


def test_secret_redactor_drops_secret_keys_and_known_values() -> None:
    """Secret-named keys at any depth and known secret values anywhere are replaced."""
    event: dict[str, Any] = {
        "event": "auth",
        "client_secret": "s3cr3t-value",
        "headers": [{"Authorization": "Bearer abc.def"}],
        "reason": "token s3cr3t-value rejected; sent Bearer eyJhbGciOi",
        "count": 3,
    }
    out = SecretRedactor(["s3cr3t-value"])(None, "msg", event)
    assert out["client_secret"] == REDACTED
    assert out["headers"] == [{"Authorization": REDACTED}]
    assert "s3cr3t-value" not in out["reason"]
    assert "eyJhbGciOi" not in out["reason"]
    assert out["count"] == 3
