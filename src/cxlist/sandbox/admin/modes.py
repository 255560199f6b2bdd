"""The Admin tenant's answer mode and page cap, set over a seed (``cxlist sandbox serve
--admin-shapes`` / ``--admin-page-cap``)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from cxlist.errors import ConfigError
from cxlist.sandbox.admin.seed import SHAPES, AdminSeed
from cxlist.sandbox.seed import Seed, load_seed

__all__ = ["with_admin_shapes"]


def with_admin_shapes(
    seed: str | Path | Seed | None, shapes: str | None, page_cap: int | None
) -> str | Path | Seed | None:
    """``seed`` with its Admin tenant answering in ``shapes`` and capping pages at
    ``page_cap`` (either None: as the seed says). Raises ConfigError for an unknown mode."""
    if shapes is None and page_cap is None:
        return seed
    if shapes is not None and shapes not in SHAPES:
        raise ConfigError(f"--admin-shapes must be one of {', '.join(SHAPES)}")
    if page_cap is not None and page_cap < 1:
        raise ConfigError("--admin-page-cap must be at least 1")
    loaded = load_seed(seed)
    admin = loaded.admin or AdminSeed()
    admin = replace(
        admin,
        shapes=shapes or admin.shapes,
        page_cap=page_cap or admin.page_cap,
    )
    return replace(loaded, admin=admin)
