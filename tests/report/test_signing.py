"""Webhook signatures: the header format and every way verification fails."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from cxlist.errors import ConfigError, CxlistError
from cxlist.report.signing import (
    MalformedSignatureError,
    MissingSignatureError,
    SignatureError,
    SignatureExpiredError,
    SignatureMismatchError,
    sign,
    verify_signature,
)

BODY = b'{"event":"list_update_complete","eventId":"e-1"}'
SECRET = "whsec-test-0123456789"
T = 1_800_000_000


def test_sign_is_hmac_sha256_of_timestamp_dot_body() -> None:
    """The header is t=<t>,v1=<hex HMAC-SHA256 of "<t>.<body>">, checked independently."""
    expected = hmac.new(SECRET.encode(), f"{T}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert sign(BODY, SECRET, T) == f"t={T},v1={expected}"


def test_verify_accepts_own_signature_within_tolerance() -> None:
    """A fresh signature over the same body and secret verifies."""
    verify_signature(BODY, sign(BODY, SECRET, T), SECRET, now=T + 299)


def test_verify_accepts_any_matching_v1_for_rotation() -> None:
    """With several v1 values (secret rotation) one match is enough, wherever it is."""
    old = sign(BODY, "old-secret", T).split(",")[1]
    new = sign(BODY, SECRET, T).split(",")[1]
    verify_signature(BODY, f"t={T},{old},{new}", SECRET, now=T)
    verify_signature(BODY, f"t={T},{new},{old}", SECRET, now=T)


def test_unknown_schemes_are_ignored() -> None:
    """A v0 item beside a valid v1 does not break verification."""
    verify_signature(BODY, sign(BODY, SECRET, T) + ",v0=abc", SECRET, now=T)


@pytest.mark.parametrize(
    "header", [None, "", "   ", "garbage", "t=abc,v1=00", "v1=00", "t=1,t=2,v1=0"]
)
def test_malformed_headers(header: str | None) -> None:
    """A missing, unparsable, timestamp-less or doubly-timestamped header is malformed."""
    with pytest.raises(MalformedSignatureError):
        verify_signature(BODY, header, SECRET, now=T)


def test_header_without_v1_is_missing_signature() -> None:
    """A timestamp with no v1 value fails as a missing signature."""
    with pytest.raises(MissingSignatureError):
        verify_signature(BODY, f"t={T},v0=deadbeef", SECRET, now=T)


@pytest.mark.parametrize("skew", [-301, 301, 10_000])
def test_timestamp_outside_tolerance(skew: int) -> None:
    """A signature older or newer than the tolerance is refused even when it matches."""
    with pytest.raises(SignatureExpiredError):
        verify_signature(BODY, sign(BODY, SECRET, T), SECRET, now=T + skew)


def test_tolerance_none_skips_the_clock() -> None:
    """tolerance=None verifies an old but genuine signature."""
    verify_signature(BODY, sign(BODY, SECRET, T), SECRET, tolerance=None, now=T + 10**6)


@pytest.mark.parametrize(
    ("body", "secret"),
    [(BODY + b" ", SECRET), (BODY, SECRET + "x"), (b"", SECRET)],
)
def test_mismatch_on_changed_body_or_secret(body: bytes, secret: str) -> None:
    """A changed body or a wrong secret is a mismatch."""
    with pytest.raises(SignatureMismatchError):
        verify_signature(body, sign(BODY, SECRET, T), secret, now=T)


def test_mismatch_on_non_ascii_candidate() -> None:
    """A non-hex, non-ASCII v1 value is a mismatch, not a crash."""
    with pytest.raises(SignatureMismatchError):
        verify_signature(BODY, f"t={T},v1=é", SECRET, now=T)


@pytest.mark.parametrize(("secret", "now"), [(SECRET, T + 999), ("wrong", T)])
def test_errors_are_cxlist_errors_without_the_secret(secret: str, now: int) -> None:
    """Every failure is a CxlistError and its message names neither secret nor digest."""
    header = sign(BODY, SECRET, T)
    with pytest.raises(SignatureError) as caught:
        verify_signature(b"other", header, secret, now=now)
    assert isinstance(caught.value, CxlistError)
    assert SECRET not in str(caught.value)
    assert header.split("v1=")[1] not in str(caught.value)


def test_empty_secret_is_a_config_error() -> None:
    """Signing with an empty secret is refused rather than producing a guessable MAC."""
    with pytest.raises(ConfigError):
        sign(BODY, "", T)
