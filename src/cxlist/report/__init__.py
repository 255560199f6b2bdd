"""cxlist.report: what a run leaves behind besides the list.

The metrics webhook (payload, outbox, signed delivery), webhook signatures for receivers, and the
keyed, hash-chained audit log with masking of contacts and secrets.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cxlist.lazy import lazy_exports

if TYPE_CHECKING:
    from cxlist.report.audit import (
        GENESIS_LABEL,
        AuditLog,
        VerifyResult,
        describe_event,
        events_for_run,
        verify_chain,
    )
    from cxlist.report.masking import (
        ContactMasker,
        SecretRedactor,
        mask_email,
        mask_phone,
        mask_text,
    )
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

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "GENESIS_LABEL": "cxlist.report.audit",
        "AuditLog": "cxlist.report.audit",
        "VerifyResult": "cxlist.report.audit",
        "describe_event": "cxlist.report.audit",
        "events_for_run": "cxlist.report.audit",
        "verify_chain": "cxlist.report.audit",
        "ContactMasker": "cxlist.report.masking",
        "SecretRedactor": "cxlist.report.masking",
        "mask_email": "cxlist.report.masking",
        "mask_phone": "cxlist.report.masking",
        "mask_text": "cxlist.report.masking",
        "OutboxEntry": "cxlist.report.outbox",
        "enqueue": "cxlist.report.outbox",
        "list_outbox": "cxlist.report.outbox",
        "SIGNATURE_HEADER": "cxlist.report.signing",
        "MalformedSignatureError": "cxlist.report.signing",
        "MissingSignatureError": "cxlist.report.signing",
        "SignatureError": "cxlist.report.signing",
        "SignatureExpiredError": "cxlist.report.signing",
        "SignatureMismatchError": "cxlist.report.signing",
        "sign": "cxlist.report.signing",
        "verify_signature": "cxlist.report.signing",
        "EVENT_ID_HEADER": "cxlist.report.webhook",
        "DeliveryOutcome": "cxlist.report.webhook",
        "DeliveryPolicy": "cxlist.report.webhook",
        "DeliveryReport": "cxlist.report.webhook",
        "audit_delivery": "cxlist.report.webhook",
        "build_metrics_payload": "cxlist.report.webhook",
        "deliver_pending": "cxlist.report.webhook",
        "flush_outbox": "cxlist.report.webhook",
        "queue_for_endpoints": "cxlist.report.webhook",
        "WEBHOOK_SECRET_ENV": "cxlist.report.webhook_endpoints",
        "WebhookEndpoint": "cxlist.report.webhook_endpoints",
        "display_url": "cxlist.report.webhook_endpoints",
        "endpoint_from_flag": "cxlist.report.webhook_endpoints",
        "endpoints_from_config": "cxlist.report.webhook_endpoints",
    },
)

__all__ = [
    "EVENT_ID_HEADER",
    "GENESIS_LABEL",
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
