"""Start-up: the package and the CLI import nothing heavy until a command needs it."""

from __future__ import annotations

import subprocess
import sys

import pytest

HEAVY = ("polars", "httpx", "starlette", "uvicorn", "cxlist.sandbox.server", "cxlist.run")


def _loaded_after(code: str) -> set[str]:
    """The heavy modules present in ``sys.modules`` after running ``code`` in a fresh child."""
    probe = f"{code}\nimport sys\nprint('LOADED:', *(m for m in {HEAVY!r} if m in sys.modules))"
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    return set(done.stdout.splitlines()[-1].split()[1:])


@pytest.mark.parametrize(
    "code",
    [
        "import cxlist",
        "import cxlist.cli",
        "import cxlist.api, cxlist.pipeline, cxlist.report, cxlist.sandbox.faults",
        "from cxlist.api.backend import PlannedItem",
    ],
)
def test_imports_stay_light(code: str) -> None:
    """Importing the package, the CLI or a package's light module loads no heavy module."""
    assert _loaded_after(code) == set()


def test_help_loads_nothing_heavy() -> None:
    """``cxlist --help`` and ``cxlist runs --help`` print help without polars, httpx or the
    sandbox."""
    code = (
        "import sys\nfrom cxlist.cli import app\n"
        "for argv in (['--help'], ['runs', '--help'], ['sandbox', 'serve', '--help']):\n"
        "    try:\n"
        "        app(argv, prog_name='cxlist')\n"
        "    except SystemExit:\n"
        "        pass"
    )
    assert _loaded_after(code) == set()


def test_public_names_resolve_on_first_use() -> None:
    """A lazily exported name is the very object of the module that defines it."""
    import cxlist
    from cxlist import run
    from cxlist.api import backend

    assert cxlist.start_run is run.start_run
    assert cxlist.PlannedItem is backend.PlannedItem
    assert "start_run" in dir(cxlist)
    with pytest.raises(AttributeError):
        _ = cxlist.no_such_name  # type: ignore[attr-defined]


def test_sandbox_without_its_extra_says_how_to_install_it() -> None:
    """Without starlette/uvicorn, ``cxlist sandbox serve`` exits 2 with a one-line pip hint."""
    code = (
        "import sys\nsys.modules['starlette'] = None\n"
        "from cxlist.cli import app\n"
        "app(['sandbox', 'serve'], prog_name='cxlist')"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 2
    assert "pip install 'cxlist[sandbox]'" in done.stderr
    assert "Traceback" not in done.stderr
