"""Fixtures shared by every test folder.

``sandbox``: a running sandbox (demo seed, in memory, no faults) for one test. It is a
:class:`cxlist.sandbox.RunningSandbox`: ``sandbox.base_url`` (``http://127.0.0.1:PORT``),
``sandbox.token_url``, ``sandbox.store`` (e.g. ``sandbox.store.items("L-1")``),
``sandbox.set_faults(...)``, ``sandbox.calls``, ``sandbox.webhook_url`` and
``sandbox.webhooks.receipts()`` (the metrics webhook sink), ``sandbox.reset()``.

``sandbox_factory``: start more, or differently set up, sandboxes; all stop at teardown::

    def test_x(sandbox_factory):
        sb = sandbox_factory(seed="demo", faults=Faults(fail_503=0.2, seed=7), db=tmp_path / "s.db")

The demo tenant: client ``demo-client`` / ``demo-secret`` with all five scopes (the
``DEMO_CLIENT`` and ``DEMO_SECRET`` constants below), campaign ``C-100`` (maxListSize
50000), lists ``L-1`` (REJECT) and ``L-2`` (UPSERT), dedup key ``phone_number``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from cxlist.sandbox import Faults, RunningSandbox, Seed, serve_in_thread

DEMO_CLIENT = "demo-client"
DEMO_SECRET = "demo-secret"

SandboxFactory = Callable[..., RunningSandbox]


@pytest.fixture
def sandbox_factory() -> Iterator[SandboxFactory]:
    """Start sandboxes on demand: ``factory(seed="demo", faults=None, db=None, **kw)``."""
    with contextlib.ExitStack() as stack:

        def start(
            seed: str | Path | Seed | None = "demo",
            faults: Faults | None = None,
            db: str | Path | None = None,
            **kw: Any,
        ) -> RunningSandbox:
            return stack.enter_context(serve_in_thread(seed=seed, faults=faults, db=db, **kw))

        yield start


@pytest.fixture
def sandbox(sandbox_factory: SandboxFactory) -> RunningSandbox:
    """A sandbox with the demo seed, in memory and without faults, for one test."""
    return sandbox_factory()
