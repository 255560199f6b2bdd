"""Package exports that are imported on first use, not when the package is.

``import cxlist`` (and so every ``cxlist`` command) would otherwise pay for polars, httpx and the
sandbox's web stack before doing anything. A package lists its public names and the module each
lives in; :func:`lazy_exports` gives it the module ``__getattr__`` and ``__dir__`` that import
the module the first time a name is asked for (PEP 562)::

    __getattr__, __dir__ = lazy_exports(__name__, {"Settings": "cxlist.settings"})

Type checkers see the names through imports under ``if TYPE_CHECKING:``.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping

__all__ = ["lazy_exports"]


def lazy_exports(
    package: str, where: Mapping[str, str]
) -> tuple[Callable[[str], object], Callable[[], list[str]]]:
    """``__getattr__`` and ``__dir__`` for ``package``, whose names live in ``where``'s modules.

    A name is imported once, then kept in the package's namespace like an ordinary import.
    """

    def __getattr__(name: str) -> object:
        module = where.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        setattr(sys.modules[package], name, value)
        return value

    def __dir__() -> list[str]:
        return sorted({*vars(sys.modules[package]), *where})

    return __getattr__, __dir__
