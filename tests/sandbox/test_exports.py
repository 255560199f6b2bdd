"""The public surface of cxlist.sandbox."""

from __future__ import annotations

import cxlist.sandbox


def test_public_names_are_pinned() -> None:
    """cxlist.sandbox exports exactly these names, each importable."""
    assert sorted(cxlist.sandbox.__all__) == [
        "Faults",
        "RunningSandbox",
        "SandboxApp",
        "SandboxState",
        "SandboxStore",
        "ScriptedFault",
        "Seed",
        "create_app",
        "load_seed",
        "serve_forever",
        "serve_in_thread",
    ]
    for name in cxlist.sandbox.__all__:
        assert getattr(cxlist.sandbox, name) is not None
