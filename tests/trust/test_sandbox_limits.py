"""The sandbox refuses oversized bodies before auth, answers deep JSON with a 400, and guards
its control endpoints when bound beyond loopback."""

from __future__ import annotations

import socket

import httpx
import pytest

from cxlist.errors import ConfigError
from cxlist.sandbox import RunningSandbox, serve_in_thread
from cxlist.sandbox.server import exposure
from tests.e2e.helpers import invoke
from tests.sandbox.tenant import api


def _raw(base_url: str, request: bytes) -> bytes:
    host, port = base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port))) as conn:
        conn.sendall(request)
        conn.shutdown(socket.SHUT_WR)
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk
    return answer


def test_huge_token_request_is_refused_before_it_is_read(sandbox: RunningSandbox) -> None:
    """A token request announcing 300 MB is answered 413 from its headers alone."""
    answer = _raw(
        sandbox.base_url,
        b"POST /as/token.oauth2 HTTP/1.1\r\nHost: x\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\n"
        b"Content-Length: 300000000\r\n\r\ngrant_type=client_credentials",
    )
    assert answer.startswith(b"HTTP/1.1 413")
    assert b"payload_too_large" in answer
    assert sandbox.calls.get("token", 0) == 0


def test_streamed_body_over_the_limit_is_cut_short(sandbox: RunningSandbox) -> None:
    """A chunked body without a length is read only up to the route's limit, then 413."""
    sent = 0

    def chunks() -> object:
        nonlocal sent
        for _ in range(4000):  # 4000 x 64 KiB = 250 MiB if it were all read
            sent += 1
            yield b"a" * 65536

    try:
        response = httpx.post(sandbox.token_url, content=chunks(), timeout=30)  # type: ignore[arg-type]
    except httpx.HTTPError:
        pass  # the server may hang up while we are still sending: also a refusal
    else:
        assert response.status_code == 413
    assert sent < 4000
    assert sandbox.calls.get("token", 0) == 0


@pytest.mark.parametrize("depth", [2000, 100_000])
def test_deeply_nested_json_is_a_400(sandbox: RunningSandbox, depth: int) -> None:
    """Nested arrays thousands deep: a 400 invalid_request on items, not a 500."""
    with api(sandbox) as client:
        body = b"[" * depth + b"]" * depth
        response = client.post(
            "/api/v2/lists/L-1/items",
            content=body,
            headers={"Content-Type": "application/json", "Idempotency-Key": "deep"},
        )
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "invalid_request"
    faults = httpx.put(f"{sandbox.base_url}/_sandbox/faults", content=b"[" * depth)
    assert faults.status_code == 400


def test_non_loopback_bind_needs_a_control_token() -> None:
    """Beyond loopback: refused without CXLIST_SANDBOX_CONTROL_TOKEN, warned with it; without
    control endpoints only warned; on loopback nothing."""
    with pytest.raises(ConfigError, match="CXLIST_SANDBOX_CONTROL_TOKEN"):
        exposure("0.0.0.0", True, environ={})
    warning, token = exposure("0.0.0.0", True, environ={"CXLIST_SANDBOX_CONTROL_TOKEN": "t0k"})
    assert warning is not None
    assert "not loopback" in warning
    assert token == "t0k"
    assert exposure("0.0.0.0", False, environ={})[1] is None
    assert exposure("127.0.0.1", True, environ={}) == (None, None)
    assert exposure("::1", True, environ={}) == (None, None)


def test_control_endpoints_need_the_token_beyond_loopback(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Bound to 0.0.0.0 with a token: control calls without it are 401, with it 200."""
    monkeypatch.setenv("CXLIST_SANDBOX_CONTROL_TOKEN", "t0k")
    with serve_in_thread(host="0.0.0.0") as sb:
        url = sb.base_url.replace("0.0.0.0", "127.0.0.1") + "/_sandbox/faults"
        assert httpx.get(url).status_code == 401
        assert httpx.get(url, headers={"X-Sandbox-Control-Token": "wrong"}).status_code == 401
        assert httpx.get(url, headers={"X-Sandbox-Control-Token": "t0k"}).status_code == 200


def test_cli_serve_beyond_loopback_without_token_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`sandbox serve --host 0.0.0.0` without a control token: exit 2, one line, no traceback."""
    monkeypatch.delenv("CXLIST_SANDBOX_CONTROL_TOKEN", raising=False)
    code, output = invoke({}, "sandbox", "serve", "--host", "0.0.0.0")
    assert code == 2
    assert "would expose the control endpoints" in output
    assert "Traceback" not in output


def test_body_cut_short_by_a_hangup_is_never_served(sandbox: RunningSandbox) -> None:
    """A client that hangs up halfway through its body leaves no idempotency record: the full
    request sent next under the same key is applied, not refused as a mismatch."""
    with api(sandbox) as client:
        bearer = client.headers["Authorization"]
    body = (
        b'{"items":[{"deduplicationKeys":[{"name":"phone_number","value":"+12015550100"}],'
        b'"fields":[{"name":"phone_number","value":"+12015550100"}]}]}'
    )
    head = (
        f"POST /api/v2/lists/L-1/items HTTP/1.1\r\nHost: x\r\nAuthorization: {bearer}\r\n"
        f"Content-Type: application/json\r\nIdempotency-Key: cut-1\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    assert _raw(sandbox.base_url, head + body[: len(body) // 2]) == b""
    with api(sandbox) as client:
        response = client.post(
            "/api/v2/lists/L-1/items",
            content=body,
            headers={"Content-Type": "application/json", "Idempotency-Key": "cut-1"},
        )
    assert response.status_code == 200, response.text
    assert len(sandbox.store.items("L-1")) == 1
