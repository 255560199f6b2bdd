"""The public surface of cxlist.report."""

from __future__ import annotations

import cxlist.report


def test_report_all_is_pinned() -> None:
    """cxlist.report exports exactly these names, each importable."""
    assert sorted(cxlist.report.__all__) == sorted(
        [
            "EVENT_ID_HEADER",
            "GENESIS",
            "SIGNATURE_HEADER",
            "WEBHOOK_SECRET_ENV",
            "AuditLog",
            "ContactMasker",
            "DeliveryOutcome",
            "DeliveryReport",
            "MalformedSignatureError",
            "MissingSignatureError",
            "OutboxEntry",
            "DeliveryPolicy",
            "SecretRedactor",
            "SignatureError",
            "SignatureExpiredError",
            "SignatureMismatchError",
            "VerifyResult",
            "WebhookEndpoint",
            "audit_delivery",
            "build_metrics_payload",
            "deliver_pending",
            "describe_event",
            "display_url",
            "endpoint_from_flag",
            "endpoints_from_config",
            "enqueue",
            "events_for_run",
            "flush_outbox",
            "list_outbox",
            "mask_email",
            "mask_phone",
            "mask_text",
            "queue_for_endpoints",
            "sign",
            "verify_chain",
            "verify_signature",
        ]
    )
    for name in cxlist.report.__all__:
        assert getattr(cxlist.report, name) is not None
