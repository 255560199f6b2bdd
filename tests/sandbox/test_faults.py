"""Fault injection: drops before/after apply, statuses, rate limits, latency, scripts,
determinism from a seed, and the control endpoints."""

from __future__ import annotations

import time

import httpx
import pytest

from cxlist.errors import ConfigError
from cxlist.sandbox import Faults, RunningSandbox, ScriptedFault, Seed, load_seed
from cxlist.sandbox.seed import ClientSeed
from tests.sandbox.tenant import api, fetch_token, item, phones, stored_phones

ITEMS = "/api/v2/lists/L-1/items"


def _script(*text: str) -> Faults:
    return Faults(script=tuple(ScriptedFault.parse(t) for t in text))


def test_drop_before_apply_closes_the_connection_unanswered(sandbox_factory) -> None:
    """A drop before apply is a transport error in httpx and nothing is stored."""
    sb = sandbox_factory(faults=_script("add_items:1:drop_before"))
    with api(sb) as c:
        with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
            c.post(ITEMS, json={"items": [item(phones(1)[0])]})
        assert sb.store.list_size("L-1") == 0
        assert c.post(ITEMS, json={"items": [item(phones(1)[0])]}).status_code == 200
    assert sb.store.list_size("L-1") == 1


def test_third_post_dropped_after_apply_is_applied(sandbox_factory) -> None:
    """'add_items:3:drop_after' applies the third POST, then closes without an answer;
    the retry with the same key is replayed, not applied twice."""
    sb = sandbox_factory(faults=_script("add_items:3:drop_after"))
    batches = [[item(p) for p in phones(2, 10 * n)] for n in range(3)]
    with api(sb) as c:
        for n in range(2):
            assert c.post(ITEMS, json={"items": batches[n]}).status_code == 200
        with pytest.raises(httpx.TransportError):
            c.post(ITEMS, json={"items": batches[2]}, headers={"Idempotency-Key": "b3"})
        assert stored_phones(sb, "L-1")[-2:] == phones(2, 20)
        retry = c.post(ITEMS, json={"items": batches[2]}, headers={"Idempotency-Key": "b3"})
    assert retry.headers["idempotent-replayed"] == "true"
    assert [o["status"] for o in retry.json()["items"]] == ["CREATED", "CREATED"]
    assert sb.store.list_size("L-1") == 6
    assert sb.calls["add_items"] == 4


def test_random_drops_by_fraction(sandbox_factory) -> None:
    """drop_after=1 applies every call and answers none; drop_before=1 applies none."""
    sb = sandbox_factory()
    token = fetch_token(sb)
    sb.set_faults(Faults(drop_after=1.0))
    with api(sb, token) as c:
        for p in phones(3):
            with pytest.raises(httpx.TransportError):
                c.post(ITEMS, json={"items": [item(p)]})
    assert stored_phones(sb, "L-1") == phones(3)
    sb.set_faults(Faults(drop_before=1.0))
    with api(sb, token) as c, pytest.raises(httpx.TransportError):
        c.post(ITEMS, json={"items": [item(phones(1, 50)[0])]})
    assert sb.store.list_size("L-1") == 3


@pytest.mark.parametrize(
    ("setting", "status", "code"),
    [
        ("fail_429", 429, "rate_limited"),
        ("fail_500", 500, "server_error"),
        ("fail_503", 503, "unavailable"),
    ],
)
def test_status_faults_answer_without_applying(
    sandbox_factory, setting: str, status: int, code: str
) -> None:
    """A status fault answers with it (Retry-After on 429/503) and applies nothing."""
    sb = sandbox_factory()
    token = fetch_token(sb)
    sb.set_faults(Faults(**{setting: 1.0}, retry_after=4))
    with api(sb, token) as c:
        r = c.post(ITEMS, json={"items": [item(phones(1)[0])]})
    assert (r.status_code, r.json()["error"]) == (status, code)
    assert r.headers["x-request-id"]
    if status in (429, 503):
        assert r.headers["retry-after"] == "4"
    assert sb.store.list_size("L-1") == 0


def _statuses(sb: RunningSandbox, calls: int) -> list[int]:
    with api(sb) as c:
        return [c.get("/api/v2/lists/L-1").status_code for _ in range(calls)]


def test_faults_are_reproducible_from_the_seed(sandbox_factory) -> None:
    """The same seed gives the same fault sequence; another seed another one."""
    faults = Faults(fail_500=0.3, fail_429=0.2, seed=42)
    first = _statuses(sandbox_factory(faults=faults), 40)
    second = _statuses(sandbox_factory(faults=faults), 40)
    other = _statuses(sandbox_factory(faults=Faults(fail_500=0.3, fail_429=0.2, seed=7)), 40)
    assert first == second
    assert first != other
    assert {200, 429, 500} <= set(first)


def test_rate_limit_is_a_token_bucket_per_client(sandbox_factory) -> None:
    """Past the burst, a client gets 429 with Retry-After; another client is unaffected."""
    demo = load_seed("demo")
    seed = Seed((*demo.clients, ClientSeed("other", "other-secret")), demo.campaigns, demo.lists)
    sb = sandbox_factory(seed=seed, faults=Faults(rate_limit=0.01, rate_burst=2))
    with api(sb) as c:
        answers = [c.get("/api/v2/lists/L-1") for _ in range(3)]
    assert [r.status_code for r in answers] == [200, 200, 429]
    limited = answers[2]
    assert limited.json()["error"] == "rate_limited"
    assert int(limited.headers["retry-after"]) >= 1
    assert answers[0].headers["x-ratelimit-limit"] == "2"
    assert answers[0].headers["x-ratelimit-remaining"] == "1"
    assert int(limited.headers["x-ratelimit-reset"]) > time.time()
    with api(sb, fetch_token(sb, "other", "other-secret")) as c:
        assert c.get("/api/v2/lists/L-1").status_code == 200


def test_latency_delays_each_call(sandbox_factory) -> None:
    """latency_ms holds each answer at least that long."""
    sb = sandbox_factory()
    with api(sb) as c:
        sb.set_faults(latency_ms=150)
        started = time.perf_counter()
        assert c.get("/api/v2/lists/L-1").status_code == 200
    assert time.perf_counter() - started >= 0.15


def test_scripted_401_revokes_the_token(sandbox_factory) -> None:
    """'campaign:2:401' answers invalid_token and the token stays dead; a new one works."""
    sb = sandbox_factory(faults=_script("campaign:2:401"))
    token = fetch_token(sb)
    with api(sb, token) as c:
        assert c.get("/api/v2/campaigns/C-100").status_code == 200
        r = c.get("/api/v2/campaigns/C-100")
        assert (r.status_code, r.json()["error"]) == (401, "invalid_token")
        assert c.get("/api/v2/lists/L-1").status_code == 401
    with api(sb) as c:
        assert c.get("/api/v2/campaigns/C-100").status_code == 200


def test_scripted_token_endpoint_fault(sandbox_factory) -> None:
    """The token endpoint obeys scripted faults: a 503 on its first call only."""
    sb = sandbox_factory(faults=_script("token:1:503"))
    data = {
        "grant_type": "client_credentials",
        "client_id": "demo-client",
        "client_secret": "demo-secret",
    }
    assert httpx.post(sb.token_url, data=data).status_code == 503
    assert httpx.post(sb.token_url, data=data).status_code == 200


def test_bad_fault_settings_are_refused() -> None:
    """Fractions over 1 in sum, unknown endpoints or actions raise ConfigError."""
    with pytest.raises(ConfigError):
        Faults(fail_500=0.6, fail_503=0.6)
    with pytest.raises(ConfigError):
        ScriptedFault.parse("nowhere:1:500")
    with pytest.raises(ConfigError):
        ScriptedFault.parse("add_items:1:explode")
    with pytest.raises(ConfigError):
        ScriptedFault.parse("add_items:x:500")


def test_control_endpoint_reads_and_sets_faults(sandbox: RunningSandbox) -> None:
    """GET shows settings and counters; PUT replaces; PATCH changes; bad input is 400."""
    base = f"{sandbox.base_url}/_sandbox/faults"
    r = httpx.put(
        base,
        json={
            "fail_503": 1.0,
            "retry_after": 2,
            "script": [{"endpoint": "list", "call": 1, "action": "500"}],
        },
    )
    assert r.status_code == 200
    assert r.json()["faults"]["fail_503"] == 1.0
    assert sandbox.faults.script == (ScriptedFault("list", 1, "500"),)
    with api(sandbox) as c:
        assert c.get("/api/v2/lists/L-1").status_code == 500
        assert c.get("/api/v2/lists/L-1").status_code == 503
    r = httpx.patch(base, json={"fail_503": 0.0})
    assert r.json()["faults"]["retry_after"] == 2
    assert httpx.get(base).json()["calls"]["list"] == 0
    assert httpx.put(base, json={"fail_503": 2}).status_code == 400
    assert httpx.put(base, json={"nonsense": 1}).status_code == 400


def test_reset_restores_the_seed(sandbox: RunningSandbox) -> None:
    """POST /_sandbox/reset empties the lists and forgets tokens."""
    token = fetch_token(sandbox)
    with api(sandbox, token) as c:
        c.post(ITEMS, json={"items": [item(phones(1)[0])]})
    assert httpx.post(f"{sandbox.base_url}/_sandbox/reset").status_code == 200
    assert sandbox.store.list_size("L-1") == 0
    with api(sandbox, token) as c:
        assert c.get("/api/v2/lists/L-1").status_code == 401
    with api(sandbox) as c:
        assert c.get("/api/v2/lists/L-1").json()["size"] == 0


def test_control_endpoints_absent_when_disabled(sandbox_factory) -> None:
    """With control=False the /_sandbox routes do not exist."""
    sb = sandbox_factory(control=False)
    assert httpx.get(f"{sb.base_url}/_sandbox/faults").status_code == 404
    assert httpx.post(f"{sb.base_url}/_sandbox/reset").status_code == 404


def test_webhook_sink_is_mounted_and_reset_clears_it(sandbox: RunningSandbox) -> None:
    """POSTs to sandbox.webhook_url are recorded; reset forgets them."""
    r = httpx.post(
        sandbox.webhook_url,
        json={"event": "list_update_complete"},
        headers={"X-Cxlist-Event-Id": "e-1"},
    )
    assert r.status_code == 200
    assert [w.event_id for w in sandbox.webhooks.receipts()] == ["e-1"]
    assert httpx.get(sandbox.webhook_url).json()["receipts"][0]["eventId"] == "e-1"
    sandbox.reset()
    assert sandbox.webhooks.receipts() == []


def test_webhook_sink_checks_signatures_when_given_a_secret(sandbox_factory) -> None:
    """With a webhook secret, an unsigned delivery is 400 invalid_signature."""
    sb = sandbox_factory(webhook_secret="whsec-test")
    r = httpx.post(sb.webhook_url, json={}, headers={"X-Cxlist-Event-Id": "e-2"})
    assert (r.status_code, r.json()["error"]) == (400, "invalid_signature")
    assert "whsec-test" not in r.text
