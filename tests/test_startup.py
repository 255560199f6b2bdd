"""Start-up: the package and the CLI import nothing heavy until a command needs it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = ("polars", "httpx", "starlette", "uvicorn", "cxlist.sandbox.server", "cxlist.run")
#: What the help and the first line do not wait for either: rich (tables, progress bars),
#: structlog (the -v formatter) and the pipeline's settings.
DISPLAY = ("rich", "structlog", "cxlist.pipeline.config")
#: Nor pydantic: not for typer's conversion of the command line (``typer._adapters``), nor
#: for the settings models (``cxlist.settings``).
VALIDATION = ("pydantic", "typer._adapters", "cxlist.settings")


def _loaded_after(code: str, watched: tuple[str, ...] = HEAVY) -> set[str]:
    """The ``watched`` modules present in ``sys.modules`` after running ``code`` in a fresh
    child."""
    probe = f"{code}\nimport sys\nprint('LOADED:', *(m for m in {watched!r} if m in sys.modules))"
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
    assert _loaded_after(code, HEAVY + DISPLAY + VALIDATION) == set()


def _runs_list(tmp_path: Path, config: str | None) -> str:
    """Code running ``cxlist runs list`` in ``tmp_path`` (with ``config`` as its cxlist.toml)."""
    if config is not None:
        (tmp_path / "cxlist.toml").write_text(config, encoding="utf-8")
    return (
        f"import os\nos.chdir({str(tmp_path)!r})\n"
        "from cxlist.cli import app\n"
        "try:\n"
        "    app(['--log-format', 'text', 'runs', 'list', '-w', 'ws'], prog_name='cxlist')\n"
        "except SystemExit as done:\n"
        "    assert not done.code, done.code"
    )


@pytest.mark.parametrize(
    "config",
    [
        None,
        '[cxone]\nbase_url = "http://127.0.0.1:1"\n[upload]\nconcurrency = 4\n'
        '[run]\nworkspace = "elsewhere"\n[[webhooks]]\nurl = "https://h/x"\n',
    ],
    ids=["no config", "config without pipeline sections"],
)
def test_runs_list_loads_no_table_library(tmp_path: Path, config: str | None) -> None:
    """``cxlist runs list`` (no pipeline section to check) reads the journal without polars,
    httpx, rich, pydantic or any settings model."""
    assert _loaded_after(_runs_list(tmp_path, config), HEAVY + DISPLAY + VALIDATION) == set()


def _template() -> str:
    """The config ``cxlist init`` writes."""
    from importlib import resources

    return resources.files("cxlist").joinpath("templates/cxlist.toml").read_text()


@pytest.mark.parametrize(
    "config",
    [
        '[[lists]]\nid = "L-1"\ncampaign = "C-1"\ndefault = true\n',
        '[dedupe]\nrecency_field = "updated"\n[capacity]\npolicy = "trim"\n'
        '[[lists]]\nid = "L-1"\ncampaign = "C-100"\ndefault = true\n',
        _template(),
    ],
    ids=["one list", "a plan's sections", "cxlist init's config"],
)
def test_runs_list_checks_usual_pipeline_sections_without_any_model(
    tmp_path: Path, config: str
) -> None:
    """With usual pipeline sections in the config, ``runs list`` checks them without
    pydantic, the pipeline's models or the settings models."""
    assert _loaded_after(_runs_list(tmp_path, config), HEAVY + DISPLAY + VALIDATION) == set()


def test_runs_list_leaves_a_doubtful_pipeline_section_to_the_models(tmp_path: Path) -> None:
    """A pipeline value the quick check is not sure of (a float where an int goes: the
    models take 50.0) is checked by the pipeline's models, with no settings model."""
    config = "[scoring]\nbase = 50.0\n"
    loaded = _loaded_after(_runs_list(tmp_path, config), HEAVY + DISPLAY + VALIDATION)
    assert loaded == {"pydantic", "cxlist.pipeline.config"}


def test_dnc_status_reads_the_manifests_without_polars(tmp_path: Path) -> None:
    """``cxlist dnc status`` reads each registry's manifest without the importer's polars or
    the store's numpy, and says there is none without rich."""
    code = (
        "from cxlist.cli import app\n"
        "try:\n"
        f"    app(['dnc', 'status', '-w', {str(tmp_path / 'ws')!r}], prog_name='cxlist')\n"
        "except SystemExit as done:\n"
        "    assert not done.code, done.code"
    )
    assert _loaded_after(code, (*HEAVY, *DISPLAY, *VALIDATION, "numpy")) == set()


@pytest.mark.parametrize("argv", [["audit", "verify"], ["webhooks"]], ids=" ".join)
def test_workspace_reports_load_no_client_nor_logging_library(
    tmp_path: Path, argv: list[str]
) -> None:
    """``cxlist audit verify`` reads the chain without structlog (the writer's library), and
    ``cxlist webhooks`` lists an empty outbox without httpx or pydantic."""
    code = (
        "from cxlist.cli import app\n"
        "try:\n"
        f"    app({[*argv, '-w', str(tmp_path / 'ws')]!r}, prog_name='cxlist')\n"
        "except SystemExit:\n"
        "    pass"
    )
    assert _loaded_after(code, (*HEAVY, "structlog", *VALIDATION)) == set()


@pytest.mark.parametrize("command", ["plan", "run"])
def test_the_first_line_comes_before_the_heavy_imports(tmp_path: Path, command: str) -> None:
    """``plan`` and ``run`` say what they are reading before polars, httpx or the run
    module is imported (the command itself then fails: there is no target)."""
    contacts = tmp_path / "contacts.csv"
    contacts.write_text("phone\n2015550100\n", encoding="utf-8")
    argv = [command, str(contacts), "-w", str(tmp_path / "ws")]
    code = (
        "import sys\n"
        "seen = []\n"
        "class Watch:\n"
        "    def __init__(self, inner): self.inner = inner\n"
        "    def write(self, text):\n"
        f"        seen.append(seen or [m for m in {HEAVY + DISPLAY + VALIDATION!r}"
        " if m in sys.modules])\n"
        "        return self.inner.write(text)\n"
        "    def __getattr__(self, name): return getattr(self.inner, name)\n"
        "sys.stderr = Watch(sys.stderr)\n"
        "from cxlist.cli import app\n"
        "try:\n"
        f"    app({argv!r}, prog_name='cxlist')\n"
        "except SystemExit:\n"
        "    pass\n"
        "print('LOADED:', *seen[0])"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stderr.startswith(f"reading {contacts}\n"), done.stderr
    assert done.stdout.splitlines()[-1].split()[1:] == []


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


def test_sandbox_says_it_is_starting_before_importing_the_server() -> None:
    """``cxlist sandbox serve`` prints its first line (stderr) before starlette, uvicorn or
    the sandbox's server modules are imported (here the server cannot be imported at all)."""
    code = (
        "import sys\nsys.modules['cxlist.sandbox'] = None\n"
        "from cxlist.cli import app\n"
        "try:\n"
        "    app(['sandbox', 'serve', '--seed', 'none'], prog_name='cxlist')\n"
        "except ImportError:\n"
        "    pass\n"
        "print('LOADED:', *(m for m in ('starlette', 'uvicorn') if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.stderr.splitlines()[0] == "starting the sandbox on 127.0.0.1:a free port"
    assert done.stdout.splitlines()[-1] == "LOADED:"


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


def test_the_process_ends_at_once_with_its_output_and_code(tmp_path: Path) -> None:
    """The console entry ends the process without tearing the interpreter down, yet every
    line is written and the exit code is the command's."""
    done = subprocess.run(
        [sys.executable, "-m", "cxlist", "runs", "show", "nope", "-w", str(tmp_path / "ws")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 6
    assert done.stderr == "error: no run 'nope' in this workspace\n"
    helped = subprocess.run(
        [sys.executable, "-m", "cxlist", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert helped.stdout.rstrip().splitlines()[-1].split()[0] == "dnc"


def test_a_missing_dependency_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    """A broken install (here numpy cannot be imported) ends the command with exit 2 and one
    line naming the module and how to reinstall, never a traceback."""
    contacts = tmp_path / "contacts.csv"
    contacts.write_text("first_name,phone_number\nAda,+12025550123\n", encoding="utf-8")
    code = (
        "import sys\nsys.modules['numpy'] = None\n"
        "from cxlist.cli import main\n"
        f"sys.argv = ['cxlist', 'plan', {str(contacts)!r}, '--offline', '-q',"
        f" '-w', {str(tmp_path / 'ws')!r}]\n"
        "main()"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert done.stderr.startswith("error: cxlist cannot import numpy: ")
    assert len(done.stderr.strip().splitlines()) == 1
