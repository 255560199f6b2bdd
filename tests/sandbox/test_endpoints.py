"""Campaign, list, suppressions: shapes, paging, auth, scopes, routing, request ids."""

from __future__ import annotations

import httpx
import pytest

from cxlist.sandbox import RunningSandbox, Seed, load_seed
from cxlist.sandbox.seed import ClientSeed
from tests.sandbox.tenant import api, fetch_token, item, phones


def test_campaign_shows_lists_and_live_size(sandbox: RunningSandbox) -> None:
    """currentListSize counts the items of all the campaign's lists."""
    with api(sandbox) as c:
        before = c.get("/api/v2/campaigns/C-100").json()
        c.post("/api/v2/lists/L-1/items", json={"items": [item(p) for p in phones(3)]})
        c.post("/api/v2/lists/L-2/items", json={"items": [item(p) for p in phones(2, 50)]})
        after = c.get("/api/v2/campaigns/C-100").json()
    assert before == {
        "id": "C-100",
        "name": "Spring renewals",
        "status": "ACTIVE",
        "currentListSize": 0,
        "maxListSize": 50000,
        "listIds": ["L-1", "L-2"],
    }
    assert after["currentListSize"] == 5


def test_unknown_campaign_and_list_are_404(sandbox: RunningSandbox) -> None:
    """Unknown ids are 404 not_found."""
    with api(sandbox) as c:
        for path in ("/api/v2/campaigns/C-9", "/api/v2/lists/L-9", "/api/v2/lists/L-9/items"):
            r = c.get(path)
            assert (r.status_code, r.json()["error"]) == (404, "not_found")


def test_list_info(sandbox: RunningSandbox) -> None:
    """GET list shows campaign, size, policy and dedup key."""
    with api(sandbox) as c:
        c.post("/api/v2/lists/L-2/items", json={"items": [item(p) for p in phones(4)]})
        body = c.get("/api/v2/lists/L-2").json()
    assert body == {
        "id": "L-2",
        "campaignId": "C-100",
        "name": "Callbacks",
        "size": 4,
        "duplicatePolicy": "UPSERT",
        "dedupKey": "phone_number",
    }


def test_suppressions_first_page_is_a_json_array_with_total(sandbox: RunningSandbox) -> None:
    """The body is an array; X-Total-Count counts all matches; expired ones filtered."""
    with api(sandbox) as c:
        active = c.get("/api/v2/compliance/suppressions", params={"status": "ACTIVE"})
        expired = c.get("/api/v2/compliance/suppressions", params={"status": "EXPIRED"})
        everything = c.get("/api/v2/compliance/suppressions")
    assert isinstance(active.json(), list)
    assert {s["status"] for s in active.json()} == {"ACTIVE"}
    assert active.headers["x-total-count"] == str(len(active.json())) == "4"
    assert [s["phoneNumber"] for s in expired.json()] == ["+12015550142"]
    assert len(everything.json()) == 5
    assert "link" not in active.headers
    assert any("emailAddress" in s and "phoneNumber" not in s for s in active.json())


def _seed_with_suppressions(n: int) -> Seed:
    demo = load_seed("demo")
    from cxlist.sandbox.seed import SuppressionSeed

    extra = tuple(SuppressionSeed(phone_number=p, source="INTERNAL_DNC") for p in phones(n))
    return Seed(demo.clients, demo.campaigns, demo.lists, extra)


def test_suppressions_follow_link_next_to_the_end(sandbox_factory) -> None:
    """Following Link rel=next yields every entry exactly once, in order."""
    sb = sandbox_factory(seed=_seed_with_suppressions(23))
    seen: list[str] = []
    with api(sb) as c:
        url: str | None = f"{sb.base_url}/api/v2/compliance/suppressions?status=ACTIVE&pageSize=5"
        pages = 0
        while url:
            r = c.get(url)
            assert r.headers["x-total-count"] == "23"
            seen += [s["phoneNumber"] for s in r.json()]
            url = r.links.get("next", {}).get("url")
            pages += 1
    assert pages == 5
    assert seen == phones(23)


@pytest.mark.parametrize(
    "query", ["pageSize=0", "pageSize=5001", "page=0", "page=x", "status=GONE"]
)
def test_bad_query_parameters_are_invalid_request(sandbox: RunningSandbox, query: str) -> None:
    """pageSize outside 1..5000, a bad page or status is 400 invalid_request."""
    with api(sandbox) as c:
        r = c.get(f"/api/v2/compliance/suppressions?{query}")
    assert (r.status_code, r.json()["error"]) == (400, "invalid_request")


def test_page_size_5000_is_allowed(sandbox: RunningSandbox) -> None:
    """pageSize=5000 is the largest accepted page."""
    with api(sandbox) as c:
        assert c.get("/api/v2/compliance/suppressions?pageSize=5000").status_code == 200


def test_missing_or_unknown_token_is_401(sandbox: RunningSandbox) -> None:
    """No bearer token, or an unknown one, is 401 invalid_token."""
    r = httpx.get(f"{sandbox.base_url}/api/v2/campaigns/C-100")
    assert (r.status_code, r.json()["error"]) == (401, "invalid_token")
    r = httpx.get(
        f"{sandbox.base_url}/api/v2/campaigns/C-100",
        headers={"Authorization": "Bearer not-a-token"},
    )
    assert (r.status_code, r.json()["error"]) == (401, "invalid_token")
    assert r.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    ("method", "path", "scope"),
    [
        ("GET", "/api/v2/campaigns/C-100", "campaigns:read"),
        ("GET", "/api/v2/compliance/suppressions", "compliance:read"),
        ("GET", "/api/v2/lists/L-1", "lists:read"),
        ("GET", "/api/v2/lists/L-1/items", "lists:read"),
        ("POST", "/api/v2/lists/L-1/items", "lists:write"),
        ("DELETE", "/api/v2/lists/L-1/items", "data:write"),
    ],
)
def test_each_endpoint_requires_its_scope(
    sandbox: RunningSandbox, method: str, path: str, scope: str
) -> None:
    """A token without the endpoint's scope is 403 insufficient_scope naming it."""
    others = " ".join(
        s
        for s in ("lists:write", "lists:read", "campaigns:read", "compliance:read", "data:write")
        if s != scope
    )
    token = fetch_token(sandbox, scope=others)
    with api(sandbox, token) as c:
        r = c.request(method, path, json={"items": [item(phones(1)[0])]})
    assert r.status_code == 403
    assert r.json()["error"] == "insufficient_scope"
    assert r.json()["required_scope"] == scope
    assert sandbox.store.items("L-1") == []


def test_scoped_client_gets_only_its_endpoints(sandbox_factory) -> None:
    """A client allowed only lists:read can read a list and not write it."""
    demo = load_seed("demo")
    sb = sandbox_factory(
        seed=Seed((ClientSeed("ro", "ro-secret", ("lists:read",)),), demo.campaigns, demo.lists)
    )
    with api(sb, fetch_token(sb, "ro", "ro-secret")) as c:
        assert c.get("/api/v2/lists/L-1").status_code == 200
        assert c.post("/api/v2/lists/L-1/items", json={"items": []}).status_code == 403


def test_unknown_route_404_and_wrong_method_405(sandbox: RunningSandbox) -> None:
    """Unknown routes are 404 not_found; a wrong method is 405 with Allow."""
    with api(sandbox) as c:
        r = c.get("/api/v2/nothing-here")
        assert (r.status_code, r.json()["error"]) == (404, "not_found")
        r = c.put("/api/v2/lists/L-1/items", json={})
        assert r.status_code == 405
        assert "POST" in r.headers["allow"]
        assert c.get("/as/token.oauth2").status_code == 405


def test_every_response_has_a_distinct_request_id(sandbox: RunningSandbox) -> None:
    """X-Request-Id is on successes, API errors, routing errors and token answers."""
    responses = [
        httpx.get(f"{sandbox.base_url}/nowhere"),
        httpx.get(f"{sandbox.base_url}/api/v2/lists/L-1"),
        httpx.post(sandbox.token_url, data={}),
    ]
    with api(sandbox) as c:
        responses.append(c.get("/api/v2/lists/L-1"))
    ids = [r.headers["x-request-id"] for r in responses]
    assert all(ids)
    assert len(set(ids)) == len(ids)
