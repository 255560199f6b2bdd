"""The token endpoint: where parameters come from, scopes, errors, TTL."""

from __future__ import annotations

import base64
import json

import httpx

from cxlist.sandbox import Faults, RunningSandbox, Seed
from cxlist.sandbox.seed import ClientSeed
from cxlist.sandbox.store import SandboxStore
from cxlist.sandbox.tokens import TokenAuthority
from tests.conftest import DEMO_SECRET
from tests.sandbox.tenant import fetch_token

ALL = "lists:write lists:read campaigns:read compliance:read data:write"


def _grant(sb: RunningSandbox, **params: str) -> httpx.Response:
    return httpx.post(sb.token_url, data={"grant_type": "client_credentials", **params})


def test_form_body_grant_without_scope_gets_all_allowed(sandbox: RunningSandbox) -> None:
    """No scope parameter grants every scope the client may have."""
    r = _grant(sandbox, client_id="demo-client", client_secret=DEMO_SECRET)
    body = r.json()
    assert r.status_code == 200
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    assert set(body["scope"].split()) == set(ALL.split())
    assert r.headers["cache-control"] == "no-store"


def test_basic_auth_grant(sandbox: RunningSandbox) -> None:
    """Client credentials in HTTP Basic auth are accepted."""
    r = httpx.post(
        sandbox.token_url,
        data={"grant_type": "client_credentials", "scope": "lists:read"},
        auth=("demo-client", DEMO_SECRET),
    )
    assert r.status_code == 200
    assert r.json()["scope"] == "lists:read"


def test_query_string_grant_like_the_tutorial_client(sandbox: RunningSandbox) -> None:
    """Parameters in the query string with an empty form body are accepted."""
    r = httpx.post(
        sandbox.token_url,
        params={
            "grant_type": "client_credentials",
            "client_id": "demo-client",
            "client_secret": DEMO_SECRET,
            "scope": ALL,
        },
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert r.status_code == 200
    assert r.json()["access_token"]


def test_granted_scopes_are_requested_intersect_allowed(sandbox_factory) -> None:
    """Requested scopes the client may not have are left out of the grant."""
    seed = Seed(clients=(ClientSeed("reader", "s3cret", ("lists:read",)),))
    sb = sandbox_factory(seed=seed)
    r = _grant(sb, client_id="reader", client_secret="s3cret", scope="lists:read lists:write")
    assert r.status_code == 200
    assert r.json()["scope"] == "lists:read"


def test_invalid_scope_only_when_nothing_is_left(sandbox_factory) -> None:
    """A request for only disallowed scopes is 400 invalid_scope."""
    seed = Seed(clients=(ClientSeed("reader", "s3cret", ("lists:read",)),))
    sb = sandbox_factory(seed=seed)
    r = _grant(sb, client_id="reader", client_secret="s3cret", scope="data:write")
    assert r.status_code == 400
    assert r.json()["error"] == "invalid_scope"
    assert "error_description" in r.json()


def test_wrong_secret_and_unknown_client_are_invalid_client(sandbox: RunningSandbox) -> None:
    """Bad credentials are 401 invalid_client and the answer never echoes the secret."""
    for cid, secret in (("demo-client", "nope-secret"), ("ghost", DEMO_SECRET)):
        r = _grant(sandbox, client_id=cid, client_secret=secret)
        assert r.status_code == 401
        assert r.json()["error"] == "invalid_client"
        assert secret not in r.text


def test_basic_auth_failure_asks_for_basic(sandbox: RunningSandbox) -> None:
    """A failed Basic authentication carries WWW-Authenticate: Basic."""
    r = httpx.post(
        sandbox.token_url, data={"grant_type": "client_credentials"}, auth=("demo-client", "wrong")
    )
    assert r.status_code == 401
    assert r.headers["www-authenticate"].startswith("Basic")


def test_malformed_basic_header_is_invalid_request(sandbox: RunningSandbox) -> None:
    """An undecodable Basic header is 400 invalid_request."""
    r = httpx.post(
        sandbox.token_url,
        data={"grant_type": "client_credentials"},
        headers={"Authorization": "Basic " + base64.b64encode(b"nocolon").decode()},
    )
    assert r.status_code == 400
    assert r.json()["error"] == "invalid_request"


def test_grant_type_errors(sandbox: RunningSandbox) -> None:
    """Missing grant_type is invalid_request; another grant is unsupported_grant_type."""
    r = httpx.post(
        sandbox.token_url, data={"client_id": "demo-client", "client_secret": DEMO_SECRET}
    )
    assert (r.status_code, r.json()["error"]) == (400, "invalid_request")
    r = httpx.post(
        sandbox.token_url,
        data={"grant_type": "password", "client_id": "demo-client", "client_secret": DEMO_SECRET},
    )
    assert (r.status_code, r.json()["error"]) == (400, "unsupported_grant_type")


def test_token_ttl_is_configurable(sandbox_factory) -> None:
    """expires_in follows the token_ttl setting, at start and at run time."""
    sb = sandbox_factory(faults=Faults(token_ttl=120))
    assert (
        _grant(sb, client_id="demo-client", client_secret=DEMO_SECRET).json()["expires_in"] == 120
    )
    sb.set_faults(token_ttl=7)
    assert _grant(sb, client_id="demo-client", client_secret=DEMO_SECRET).json()["expires_in"] == 7


def test_expired_token_is_refused_by_the_api(sandbox: RunningSandbox) -> None:
    """A token past its expiry gets 401 invalid_token from the API."""
    token = fetch_token(sandbox)
    tokens = sandbox.state.tokens
    issued = tokens.check(token)
    assert issued is not None
    tokens.clock = lambda: issued.expires_at + 1
    r = httpx.get(
        f"{sandbox.base_url}/api/v2/lists/L-1", headers={"Authorization": f"Bearer {token}"}
    )
    assert r.status_code == 401
    assert r.json()["error"] == "invalid_token"


def test_token_authority_expiry_with_injected_clock() -> None:
    """check() accepts a token until its expiry instant and refuses it from then on."""
    now = [1000.0]
    store = SandboxStore()
    store.apply_seed(Seed(clients=(ClientSeed("c", "s"),)))
    authority = TokenAuthority(store, clock=lambda: now[0])
    response = authority._issue("c", ["lists:read"], ttl=60)
    token = json.loads(response.body)["access_token"]
    now[0] = 1059.9
    assert authority.check(token) is not None
    now[0] = 1060.0
    assert authority.check(token) is None
    store.close()
