"""The sandbox webhook sink over real loopback HTTP."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx

from cxlist.report.signing import SIGNATURE_HEADER, sign

SECRET = "sink-secret-7"
BODY = json.dumps({"event": "list_update_complete", "eventId": "e-1"}).encode()


def _post(url: str, body: bytes, headers: dict[str, str]) -> httpx.Response:
    with httpx.Client(trust_env=False, timeout=5) as client:
        return client.post(
            url, content=body, headers={"Content-Type": "application/json", **headers}
        )


def _signed(event_id: str, secret: str = SECRET, body: bytes = BODY) -> dict[str, str]:
    return {"X-Cxlist-Event-Id": event_id, SIGNATURE_HEADER: sign(body, secret, int(time.time()))}


def test_repeated_event_is_acknowledged_and_stored_once(receiver_factory: Any) -> None:
    """The same event id twice: both 200, the second marked duplicate, one receipt counted twice."""
    receiver = receiver_factory(SECRET)
    receiver.start()
    first = _post(receiver.url, BODY, _signed("e-1"))
    second = _post(receiver.url, BODY, _signed("e-1"))
    assert (first.status_code, first.json()["duplicate"]) == (200, False)
    assert (second.status_code, second.json()["duplicate"]) == (200, True)
    with httpx.Client(trust_env=False) as client:
        listing = client.get(receiver.url).json()
    assert listing == {
        "receipts": [
            {
                "eventId": "e-1",
                "verified": True,
                "receivedAt": listing["receipts"][0]["receivedAt"],
                "timesReceived": 2,
                "body": {"event": "list_update_complete", "eventId": "e-1"},
            }
        ]
    }


def test_bad_or_missing_signature_is_400_and_not_stored(receiver_factory: Any) -> None:
    """A wrong secret, a tampered body or no signature header gets 400 invalid_signature."""
    receiver = receiver_factory(SECRET)
    receiver.start()
    cases = [
        (BODY, _signed("e-2", secret="other")),
        (BODY + b" ", _signed("e-3")),
        (BODY, {"X-Cxlist-Event-Id": "e-4"}),
    ]
    for body, headers in cases:
        response = _post(receiver.url, body, headers)
        assert response.status_code == 400
        assert response.json()["error"] == "invalid_signature"
        assert SECRET not in response.text
    assert receiver.store.receipts() == []


def test_missing_event_id_is_400(receiver_factory: Any) -> None:
    """A POST without X-Cxlist-Event-Id is refused as invalid_request."""
    receiver = receiver_factory(None)
    receiver.start()
    response = _post(receiver.url, BODY, {})
    assert (response.status_code, response.json()["error"]) == (400, "invalid_request")


def test_unsigned_sink_records_unverified_receipts(receiver_factory: Any) -> None:
    """Without a secret the sink accepts any body and marks it unverified."""
    receiver = receiver_factory(None)
    receiver.start()
    assert _post(receiver.url, b"not json", {"X-Cxlist-Event-Id": "e-9"}).status_code == 200
    (receipt,) = receiver.store.receipts()
    assert (receipt.event_id, receipt.verified, receipt.body) == ("e-9", False, "not json")
