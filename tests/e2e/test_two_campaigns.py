"""A plan whose lists belong to two campaigns reads the tenant's suppressions once."""

from __future__ import annotations

from pathlib import Path

from cxlist.sandbox import RunningSandbox, Seed, load_seed
from cxlist.sandbox.seed import CampaignSeed, ListSeed, SuppressionSeed
from tests.conftest import SandboxFactory
from tests.e2e.helpers import invoke, last_results, sandbox_env, write_contacts

CONFIG = """
[[lists]]
id = "L-9"
campaign = "C-200"
when = "priority >= 5"

[[lists]]
id = "L-1"
campaign = "C-100"
default = true
"""


def _two_campaigns(sandbox_factory: SandboxFactory) -> RunningSandbox:
    demo = load_seed("demo")
    return sandbox_factory(
        seed=Seed(
            demo.clients,
            (*demo.campaigns, CampaignSeed("C-200", max_list_size=50_000)),
            (*demo.lists, ListSeed("L-9", "C-200")),
            (
                SuppressionSeed(phone_number="+12013000003", source="INTERNAL_DNC"),
                SuppressionSeed(phone_number="+12013000004", source="INTERNAL_DNC"),
            ),
        )
    )


def test_suppressions_shared_by_two_campaigns_are_read_once(
    sandbox_factory: SandboxFactory, tmp_path: Path
) -> None:
    """v2 keeps suppressions tenant-wide: two campaigns cost one read of them, not two, and
    each listed number is SUPPRESSED once, whichever campaign its row was meant for."""
    sandbox = _two_campaigns(sandbox_factory)
    config = tmp_path / "cxlist.toml"
    config.write_text(CONFIG, encoding="utf-8")
    contacts = write_contacts(tmp_path / "contacts.csv", 12)
    ws = tmp_path / "ws"
    code, output = invoke(
        sandbox_env(sandbox), "plan", str(contacts), "--config", str(config),
        "--workspace", str(ws), "-q",
    )  # fmt: skip
    assert code == 0, output
    assert sandbox.calls["suppressions"] == 1
    results = last_results(ws)
    suppressed = results.filter(results["disposition"] == "SUPPRESSED")
    assert sorted(suppressed["row"].to_list()) == ["4", "5"]
    assert results.height == 12
