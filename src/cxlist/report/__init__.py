"""cxlist.report: what a run leaves behind besides the list.

The metrics webhook (payload, outbox, signed delivery), webhook signatures for receivers, and the
hash-chained audit log with masking of contacts and secrets.
"""

from __future__ import annotations

from cxlist.report.audit import (
    GENESIS,
    AuditLog,
    VerifyResult,
    describe_event,
    events_for_run,
    verify_chain,
)
from cxlist.report.masking import ContactMasker, SecretRedactor, mask_email, mask_phone, mask_text
from cxlist.report.outbox import OutboxEntry, enqueue, list_outbox
from cxlist.report.signing import (
    SIGNATURE_HEADER,
    MalformedSignatureError,
    MissingSignatureError,
    SignatureError,
    SignatureExpiredError,
    SignatureMismatchError,
    sign,
    verify_signature,
)
from cxlist.report.webhook import (
    EVENT_ID_HEADER,
    DeliveryOutcome,
    DeliveryPolicy,
    DeliveryReport,
    audit_delivery,
    build_metrics_payload,
    deliver_pending,
    flush_outbox,
    queue_for_endpoints,
)
from cxlist.report.webhook_endpoints import (
    WEBHOOK_SECRET_ENV,
    WebhookEndpoint,
    display_url,
    endpoint_from_flag,
    endpoints_from_config,
)

__all__ = [
    "EVENT_ID_HEADER",
    "GENESIS",
    "SIGNATURE_HEADER",
    "WEBHOOK_SECRET_ENV",
    "AuditLog",
    "ContactMasker",
    "DeliveryOutcome",
    "DeliveryPolicy",
    "DeliveryReport",
    "MalformedSignatureError",
    "MissingSignatureError",
    "OutboxEntry",
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
