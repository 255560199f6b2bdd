"""The add-items rules as pure functions: parsing, validation details, duplicate plans."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cxlist.errors import ConfigError
from cxlist.sandbox import load_seed
from cxlist.sandbox.items import BodyError, parse_items, plan_add
from tests.sandbox.tenant import item


def _parsed(*phones: str):
    items, details = parse_items({"items": [item(p) for p in phones]})
    assert details == []
    return items


def test_default_priority_is_five() -> None:
    """An item without priority gets 5."""
    entry = item("+12015550001")
    del entry["priority"]
    assert parse_items({"items": [entry]})[0][0].priority == 5


def test_every_bad_item_is_reported() -> None:
    """Details cover every failing item, by index, not only the first."""
    body = {"items": [item("555"), item("+12015550001"), {"fields": []}, "x"]}
    _, details = parse_items(body)
    assert sorted({d["index"] for d in details}) == [0, 2, 3]


def test_not_an_object_is_a_body_error() -> None:
    """A body that is not an object with items raises BodyError."""
    with pytest.raises(BodyError):
        parse_items([item("+12015550001")])


def test_key_is_the_first_dedup_key() -> None:
    """The item's key is its first deduplicationKeys entry."""
    entry = item("+12015550001")
    entry["deduplicationKeys"].insert(0, {"name": "email", "value": "a@b.c"})
    assert parse_items({"items": [entry]})[0][0].key == ("email", "a@b.c")


def test_reject_plan_marks_later_copies() -> None:
    """REJECT: the first copy would be created, the later copies conflict."""
    plan = plan_add(_parsed("+12015550001", "+12015550001", "+12015550002"), "REJECT", set())
    assert [c["index"] for c in plan.conflicts] == [1]
    assert len(plan.creates) == 2


def test_keys_compare_as_exact_pairs() -> None:
    """A stored key with another name is not a duplicate."""
    plan = plan_add(_parsed("+12015550001"), "REJECT", {("email", "+12015550001")})
    assert plan.conflicts == []


def test_demo_seed_matches_the_brief() -> None:
    """The demo seed has the client, C-100 (50000), L-1 REJECT, L-2 UPSERT and an expired
    suppression."""
    seed = load_seed("demo")
    assert [(c.id, len(c.scopes)) for c in seed.clients] == [("demo-client", 5)]
    assert [(c.id, c.name, c.max_list_size) for c in seed.campaigns] == [
        ("C-100", "Spring renewals", 50000)
    ]
    assert [(x.id, x.duplicate_policy) for x in seed.lists] == [
        ("L-1", "REJECT"),
        ("L-2", "UPSERT"),
    ]
    assert "EXPIRED" in {s.status for s in seed.suppressions}
    assert any(s.email_address for s in seed.suppressions)


def test_toml_seed_file(tmp_path) -> None:
    """A TOML seed in the documented shape loads."""
    path = tmp_path / "seed.toml"
    path.write_text(
        '[[clients]]\nid = "c"\nsecret = "s"\nscopes = ["lists:read"]\n'
        '[[campaigns]]\nid = "C-1"\nmaxListSize = 3\n'
        '[[lists]]\nid = "L-1"\ncampaignId = "C-1"\nduplicatePolicy = "SKIP"\n'
        '[[suppressions]]\nphoneNumber = "+12015550107"\n'
    )
    seed = load_seed(path)
    assert seed.lists[0].duplicate_policy == "SKIP"
    assert seed.suppressions[0].phone_number == "+12015550107"


@pytest.mark.parametrize(
    "bad",
    [
        {"lists": [{"id": "L", "campaignId": "nope"}]},
        {
            "lists": [{"id": "L", "campaignId": "C", "duplicatePolicy": "MERGE"}],
            "campaigns": [{"id": "C"}],
        },
        {"clients": [{"id": "c", "secret": "s", "scopes": ["root"]}]},
        {"suppressions": [{"status": "ACTIVE"}]},
        {"campaigns": "C-1"},
    ],
)
def test_malformed_seeds_are_config_errors(bad: dict) -> None:
    """Unknown campaigns, policies, scopes, or empty suppressions raise ConfigError."""
    with pytest.raises(ConfigError):
        load_seed(bad)


def test_client_repr_hides_the_secret() -> None:
    """A seed client's repr never shows its secret."""
    assert "demo-secret" not in repr(load_seed("demo").clients[0])


_keys = st.lists(st.sampled_from([f"+1201555{n:04d}" for n in range(8)]), min_size=1, max_size=20)


@given(
    request=_keys,
    stored=st.sets(st.sampled_from([f"+1201555{n:04d}" for n in range(8)])),
    policy=st.sampled_from(["REJECT", "UPSERT", "SKIP"]),
)
def test_plan_accounts_for_every_item_once(
    request: list[str], stored: set[str], policy: str
) -> None:
    """Each index is exactly one outcome or conflict; creates are the distinct new keys."""
    plan = plan_add(_parsed(*request), policy, {("phone_number", p) for p in stored})
    indices = [i for i, _, _ in plan.outcomes] + [c["index"] for c in plan.conflicts]
    assert sorted(indices) == list(range(len(request)))
    new_keys = {p for p in request if p not in stored}
    assert {k[1] for k in plan.creates} == new_keys
    if policy == "REJECT":
        assert len(plan.conflicts) == len(request) - len(new_keys)
    else:
        assert plan.conflicts == []
