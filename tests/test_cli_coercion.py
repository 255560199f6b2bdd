"""Command-line values converted without pydantic (``cxlist.cli.coercion``) come out exactly as
typer's own converter gives them: the same values, and for a bad value the same message and
exit code."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import typer.core
from typer.testing import CliRunner

from cxlist.cli import app, coercion
from cxlist.cli.logs import LogFormat


def _invoke(args: list[str], *, quick: bool, monkeypatch: pytest.MonkeyPatch) -> tuple[int, str]:
    """Exit code and output of ``cxlist ARGS`` in-process, with or without the quick
    converters."""
    with monkeypatch.context() as patch:
        if not quick:
            patch.setattr(coercion, "install_quick_coercion", lambda command, ctx: None)
        result = CliRunner().invoke(app, args, prog_name="cxlist")
    return result.exit_code, result.output


@pytest.fixture
def places(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """A file, a folder and a path that does not exist (and a scratch working folder)."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "file.toml").write_text("", encoding="utf-8")
    (tmp_path / "folder").mkdir()
    return {
        "file": str(tmp_path / "file.toml"),
        "folder": str(tmp_path / "folder"),
        "missing": str(tmp_path / "missing"),
    }


BAD_VALUES = [
    ["run", "--plan", "x", "--concurrency", "0"],
    ["run", "--plan", "x", "--concurrency", "65"],
    ["run", "--plan", "x", "--concurrency", "four"],
    ["run", "--plan", "x", "--concurrency", "+4"],
    ["run", "--plan", "x", "--concurrency", " 4"],
    ["run", "--plan", "x", "--chunk-size", "1.5"],
    ["--log-format", "xml", "runs", "list"],
    ["--log-format", "JSON", "runs", "list"],
    ["runs", "list", "-w", "{file}"],
    ["runs", "list", "-c", "{folder}"],
    ["runs", "list", "-w", ""],
    ["dnc", "import", "{missing}"],
    ["dnc", "import", "{folder}"],
    ["sandbox", "serve", "--port", "x"],
    ["sandbox", "serve", "--fail-429", "abc"],
    ["sandbox", "serve", "--fail-429", "1e-1", "--port", "p"],
]


@pytest.mark.parametrize("args", BAD_VALUES, ids=" ".join)
def test_a_bad_value_is_refused_as_typer_refuses_it(
    args: list[str], places: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A value the quick converter is not sure of gets typer's own error, word for word."""
    argv = [a.format(**places) for a in args]
    assert _invoke(argv, quick=True, monkeypatch=monkeypatch) == _invoke(
        argv, quick=False, monkeypatch=monkeypatch
    )


def _converted(command: list[str], argv: list[str], *, quick: bool) -> dict[str, Any]:
    """The values typer hands the command ``command`` for ``argv`` (parsed, not run)."""
    group = typer.main.get_command(app)
    ctx = group.make_context("cxlist", [*command, *argv], resilient_parsing=False)
    sub: Any = group
    for name in command:
        sub = sub.get_command(ctx, name)
    if not quick:
        for param in sub.get_params(ctx):
            if hasattr(param, "_runtime_param"):
                param._runtime_param = None
    else:
        coercion.install_quick_coercion(sub, ctx)
    sub_ctx = sub.make_context(command[-1], list(argv), parent=ctx)
    return dict(sub_ctx.params)


GOOD_VALUES: list[tuple[list[str], list[str]]] = [
    (["run"], ["{file}", "--concurrency", "8", "--chunk-size", "1000", "-w", "{folder}"]),
    (["run"], ["--plan", "R", "--concurrency", "64", "-c", "{missing}", "--webhook", "http://h"]),
    (["plan"], ["{missing}", "--at", "2026-03-08T09:00:00-05:00", "--offline", "-q"]),
    (["resume"], ["R", "--retry-failed", "--json", "-w", "{missing}"]),
    (["runs", "list"], ["-w", "{folder}", "-c", "{file}"]),
    (["dnc", "import"], ["{file}", "{file}", "--name", "state-ny", "--date", "2026-01-02"]),
    (["sandbox", "serve"], ["--port", "0", "--fail-429", "0.25", "--fault", "a", "--fault", "b"]),
    (["sandbox", "serve"], ["--latency-ms", "20", "--rate-limit", "40", "--reject-key", "k"]),
]


@pytest.mark.parametrize(("command", "args"), GOOD_VALUES, ids=" ".join)
def test_plain_values_come_out_as_typer_gives_them(
    command: list[str], args: list[str], places: dict[str, str]
) -> None:
    """Paths, numbers, text, flags, lists and defaults: equal values of the same types."""
    argv = [a.format(**places) for a in args]
    quick = _converted(command, argv, quick=True)
    typer_own = _converted(command, argv, quick=False)
    assert quick == typer_own
    assert {k: type(v) for k, v in quick.items()} == {k: type(v) for k, v in typer_own.items()}


def test_the_global_options_are_converted_without_pydantic() -> None:
    """``--log-format json`` is the enum member itself, as typer gives it."""
    group = typer.main.get_command(app)
    ctx = group.make_context("cxlist", ["--log-format", "json", "runs", "list"])
    assert ctx.params["log_format"] is LogFormat.JSON
