"""One retryability rule for the client, the engine and the webhook: 429, 500, 502, 503, 504
and no answer at all; a 501, 505 or 507 is final (a row FAILED, not left UNCONFIRMED)."""

from __future__ import annotations

import pytest

from cxlist.api.retry import is_retryable
from cxlist.errors import (
    RETRYABLE_STATUSES,
    ServerError,
    TransportError,
    error_from_response,
    retryable_status,
)


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
def test_transient_statuses_are_retryable_everywhere(status: int) -> None:
    """The error, the retrier and the shared rule agree that these may be sent again."""
    error = error_from_response(status, {})
    assert error.retryable
    assert retryable_status(status)
    assert is_retryable(error, method="POST", has_idempotency_key=True)


@pytest.mark.parametrize("status", [400, 401, 404, 409, 413, 422, 501, 505, 507])
def test_other_statuses_are_final_everywhere(status: int) -> None:
    """Every other status is final for the error, the retrier and the rule alike."""
    error = error_from_response(status, {})
    assert not error.retryable
    assert not retryable_status(status)
    assert not is_retryable(error, method="GET", has_idempotency_key=True)


def test_no_answer_is_retryable_and_the_status_set_is_pinned() -> None:
    """A transport failure or a 5xx without a status is retryable; the set is exactly this."""
    assert TransportError("reset").retryable
    assert ServerError("job stuck").retryable
    assert frozenset({429, 500, 502, 503, 504}) == RETRYABLE_STATUSES
