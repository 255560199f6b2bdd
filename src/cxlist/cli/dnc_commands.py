"""`cxlist dnc import` and `cxlist dnc status`: the workspace's do-not-call registries."""

# No `from __future__ import annotations` here: see the docstring of cxlist.cli.

from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from cxlist.cli.coercion import QuickGroup
from cxlist.cli.options import ConfigOpt, WorkspaceOpt, failing_cleanly, quick_settings_from
from cxlist.cli.render import console
from cxlist.errors import ConfigError

if TYPE_CHECKING:
    from cxlist.registry import FileReport, ImportReport
    from cxlist.settings_layers import QuickSettings

__all__ = ["dnc_app"]

dnc_app = typer.Typer(
    cls=QuickGroup,
    rich_markup_mode=None,
    help="Do-not-call registries (the National DNC Registry, state and internal lists).",
    no_args_is_help=True,
)

NameOpt = Annotated[
    str,
    typer.Option("--name", help="The registry: national, or a state or internal list's name."),
]
FilesArg = Annotated[
    list[Path],
    typer.Argument(
        help="Registry files: full or change files, one number a line, plain or zipped.",
        exists=True,
        dir_okay=False,
        readable=True,
    ),
]
DateOpt = Annotated[
    str | None,
    typer.Option("--date", help="Date of the data, YYYY-MM-DD (default: each file's mtime)."),
]


def _say(text: str) -> None:
    """One line as it is (a plain print: no console to build for ``dnc status``'s one line)."""
    print(text)


def _parse_date(text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ConfigError(f"--date {text!r}: expected YYYY-MM-DD") from None


def _check_name(name: str) -> str:
    if not name or not name.replace("-", "").replace("_", "").isalnum():
        raise ConfigError(f"--name {name!r}: use letters, digits, - and _ only")
    return name


@dnc_app.command("import")
def import_command(
    files: FilesArg,
    name: NameOpt = "national",
    on_date: DateOpt = None,
    workspace: WorkspaceOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Import registry files into the workspace's store (atomically: all or nothing).

    A full file replaces the area codes it holds; a change file (lines ending in A or D)
    adds and deletes numbers in the area codes it touches. Bad lines are reported by line
    number and skipped; the exit code is 0 when good lines were imported.
    """
    from cxlist.registry import import_files

    with failing_cleanly():
        settings = quick_settings_from(config, workspace=workspace)
        report = import_files(
            settings.registry_root, _check_name(name), files, on_date=_parse_date(on_date)
        )
        for file in report.files:
            _show_file(file)
        total = sum(a.count for a in report.areas.values())
        _say(
            f"{report.name}: version {report.version}, {len(report.areas)} area codes,"
            f" {total:,} numbers"
        )
        _audit(settings, report)


def _show_file(file: "FileReport") -> None:
    """One file's outcome, then its first bad lines and how many there were."""
    changes = f" (+{file.added:,} -{file.deleted:,})" if file.kind == "change" else ""
    _say(
        f"{file.path}: {file.kind} file of {file.date.isoformat()}, {file.lines:,} lines,"
        f" {file.numbers:,} numbers{changes} in {len(file.area_codes)} area codes,"
        f" {file.bad.count:,} bad lines"
    )
    for line, problem in file.bad.first:
        _say(f"  line {line}: {problem}")
    if file.bad.count > len(file.bad.first):
        _say(f"  ... and {file.bad.count - len(file.bad.first):,} more bad lines")


def _audit(settings: "QuickSettings", report: "ImportReport") -> None:
    from cxlist.report.audit import AuditLog
    from cxlist.workspace import Workspace

    log = AuditLog(Workspace(settings.workspace).audit_path)
    log.event(
        "registry_imported",
        registry=report.name,
        version=report.version,
        counts={"numbers": report.imported, "bad_lines": sum(f.bad.count for f in report.files)},
        files=[str(f.path) for f in report.files],
    )


@dnc_app.command("status")
def status_command(
    name: Annotated[str | None, typer.Option("--name", help="Only this registry.")] = None,
    workspace: WorkspaceOpt = None,
    config: ConfigOpt = None,
) -> None:
    """List each registry's area codes with their counts, the date of their data and age."""
    from cxlist.registry import RegistryStore

    with failing_cleanly():
        settings = quick_settings_from(config, workspace=workspace)
        root = settings.registry_root
        names = [name] if name else RegistryStore.names(root)
        limit = settings.max_age_days
        today = datetime.now(UTC).date()
        shown = False
        for each in names:
            manifest = RegistryStore(root, each).manifest()
            if manifest is None:
                continue
            shown = True
            from rich.table import Table  # here: with no registry there is no table

            table = Table(title=f"{each} (version {manifest.version}, {manifest.imported_at})")
            for column in ("area code", "numbers", "date", "age (days)", "state"):
                table.add_column(column)
            for code, area in sorted(manifest.areas.items()):
                age = (today - area.date).days
                state = "STALE" if age > limit else "fresh"
                table.add_row(str(code), f"{area.count:,}", area.date.isoformat(), str(age), state)
            console.print(table)
        if not shown:
            _say(f"no DNC registry imported in {root} (cxlist dnc import FILE)")
