"""The demo: a real run of the bundled sample file against an embedded sandbox.

Everything is real but the tenant: the sandbox serves the v2 API over loopback HTTP, and the
run goes through the same pipeline, engine, journal and reports as any other.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from cxlist.sandbox import RunningSandbox, serve_in_thread
from cxlist.settings import Settings, WebhookSettings, load_settings

__all__ = ["DemoTenant", "demo_tenant", "sample_file"]

DEMO_CLIENT_ID = "demo-client"
DEMO_CLIENT_SECRET = "demo-secret"  # noqa: S105 (the sandbox's published demo credential)
#: The environment variable the demo keeps its webhook secret in (this process only).
DEMO_WEBHOOK_SECRET_ENV = "CXLIST_DEMO_WEBHOOK_SECRET"  # noqa: S105 (a variable's name)


def sample_file() -> Path:
    """The bundled sample contacts: duplicates, suppressed numbers, bad rows, many formats."""
    return Path(str(resources.files("cxlist.pipeline") / "data" / "sample_contacts.csv"))


def demo_config() -> Path:
    """The demo's cxlist.toml (two lists of campaign C-100)."""
    return Path(str(resources.files("cxlist.demo") / "demo.toml"))


@dataclass(frozen=True)
class DemoTenant:
    """A running demo sandbox and the settings that point a run at it."""

    sandbox: RunningSandbox
    settings: Settings
    webhook_secret: str


@contextmanager
def _forgotten(variable: str) -> Iterator[None]:
    """Remove ``variable`` from the environment when the block ends."""
    try:
        yield
    finally:
        os.environ.pop(variable, None)


@contextmanager
def demo_tenant(workspace: Path) -> Iterator[DemoTenant]:
    """Start the sandbox with the demo seed on a free loopback port, for the ``with`` block."""
    webhook_secret = secrets.token_hex(16)
    os.environ[DEMO_WEBHOOK_SECRET_ENV] = webhook_secret
    with (
        _forgotten(DEMO_WEBHOOK_SECRET_ENV),
        serve_in_thread(seed="demo", webhook_secret=webhook_secret) as sandbox,
    ):
        env = {
            "CXONE_BASE_URL": sandbox.base_url,
            "CXONE_TOKEN_URL": sandbox.token_url,
            "CXONE_CLIENT_ID": DEMO_CLIENT_ID,
            "CXONE_CLIENT_SECRET": DEMO_CLIENT_SECRET,
        }
        settings = load_settings(
            demo_config(), env=env, overrides={"run": {"workspace": workspace}}
        )
        settings.webhooks.append(
            WebhookSettings(
                url=f"{sandbox.base_url}/_sandbox/webhooks", secret_env=DEMO_WEBHOOK_SECRET_ENV
            )
        )
        yield DemoTenant(sandbox, settings, webhook_secret)
