"""`cxlist sandbox ...`: the local CXone emulator."""

# No `from __future__ import annotations` here: see the docstring of cxlist.cli.

from pathlib import Path
from typing import Annotated

import typer

from cxlist.cli.coercion import QuickGroup
from cxlist.errors import CxlistError

#: What to tell a user whose install lacks the sandbox's web server.
MISSING_EXTRA = (
    "the sandbox needs the optional web server packages (starlette, uvicorn):"
    " pip install 'cxlist[sandbox]'"
)


def require_sandbox_extra() -> None:
    """Exit with a one-line hint (code 2) when starlette or uvicorn is not installed. They
    are looked up, not imported: importing them is most of the time before the server is up."""
    from importlib.util import find_spec

    if find_spec("starlette") is None or find_spec("uvicorn") is None:
        typer.echo(f"error: {MISSING_EXTRA}", err=True)
        raise typer.Exit(2)


sandbox_app = typer.Typer(
    cls=QuickGroup, rich_markup_mode=None, help="The local CXone emulator.", no_args_is_help=True
)


@sandbox_app.callback()
def sandbox() -> None:
    """The local CXone emulator (v2 dialect) over loopback HTTP."""


@sandbox_app.command("serve")
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind (loopback).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port; 0 picks a free one.")] = 0,
    seed: Annotated[str, typer.Option(help="'demo', a JSON/TOML seed file, or 'none'.")] = "demo",
    db: Annotated[Path | None, typer.Option(help="SQLite file kept across restarts.")] = None,
    token_ttl: Annotated[int, typer.Option(help="Lifetime of issued tokens, seconds.")] = 3600,
    latency_ms: Annotated[int, typer.Option(help="Delay added to every call, ms.")] = 0,
    rate_limit: Annotated[
        float | None, typer.Option(help="Requests per second per OAuth client.")
    ] = None,
    rate_burst: Annotated[int | None, typer.Option(help="Token bucket size.")] = None,
    fail_429: Annotated[float, typer.Option(help="Fraction of API calls answered 429.")] = 0.0,
    fail_500: Annotated[float, typer.Option(help="Fraction of API calls answered 500.")] = 0.0,
    fail_503: Annotated[float, typer.Option(help="Fraction of API calls answered 503.")] = 0.0,
    drop_before: Annotated[float, typer.Option(help="Fraction dropped before applying.")] = 0.0,
    drop_after: Annotated[float, typer.Option(help="Fraction dropped after applying.")] = 0.0,
    retry_after: Annotated[int, typer.Option(help="Retry-After of injected 429/503, s.")] = 1,
    fault_seed: Annotated[int, typer.Option(help="Seed of the fault random source.")] = 0,
    fault: Annotated[
        list[str] | None,
        typer.Option(help="Scripted fault ENDPOINT:CALL:ACTION, e.g. add_items:3:drop_after."),
    ] = None,
    max_items: Annotated[
        int | None, typer.Option(help="Items per request at most (below the contract's 1,000).")
    ] = None,
    reject_key: Annotated[
        list[str] | None, typer.Option(help="A dedup key value the server refuses (400).")
    ] = None,
    control: Annotated[bool, typer.Option(help="Serve the /_sandbox control endpoints.")] = True,
    admin_shapes: Annotated[
        str | None,
        typer.Option(help="Admin answer shapes: 'public' (the seed's default) or 'alternate'."),
    ] = None,
    admin_page_cap: Annotated[
        int | None, typer.Option(help="Admin records per page at most, whatever top asks.")
    ] = None,
    webhook_secret: Annotated[
        str | None,
        typer.Option(
            envvar="CXLIST_SANDBOX_WEBHOOK_SECRET",
            help="Webhook sink signing secret (from this environment variable).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Serve the v2 API on HOST:PORT; print the base URL first, then `export` lines to paste
    into a shell (with the demo seed, its client id and secret); stop on Ctrl-C/SIGTERM."""
    require_sandbox_extra()
    # on stderr, before the server's modules are imported: stdout's first line stays the URL
    typer.echo(f"starting the sandbox on {host}:{port or 'a free port'}", err=True)
    from cxlist.sandbox import Faults, ScriptedFault, serve_forever
    from cxlist.sandbox.admin.modes import with_admin_shapes

    try:
        faults = Faults(
            latency_ms=latency_ms,
            rate_limit=rate_limit,
            rate_burst=rate_burst,
            fail_429=fail_429,
            fail_500=fail_500,
            fail_503=fail_503,
            drop_before=drop_before,
            drop_after=drop_after,
            retry_after=retry_after,
            token_ttl=token_ttl,
            seed=fault_seed,
            script=tuple(ScriptedFault.parse(f) for f in fault or []),
            max_items=max_items,
            reject_keys=tuple(reject_key or ()),
        )
        serve_forever(
            with_admin_shapes(None if seed == "none" else seed, admin_shapes, admin_page_cap),
            faults,
            db,
            host=host,
            port=port,
            control=control,
            webhook_secret=webhook_secret,
            on_listening=lambda base_url: _announce(base_url, seed),
        )
    except CxlistError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    except OSError as exc:
        typer.echo(f"error: cannot listen on {host}:{port}: {exc.strerror}", err=True)
        raise typer.Exit(2) from None
    typer.echo("sandbox stopped", err=True)


def _announce(base_url: str, seed: str) -> None:
    """The base URL on the first line, then what a shell needs to point cxlist here."""
    typer.echo(base_url)
    typer.echo("# paste into a shell to point cxlist at this sandbox:")
    for line in export_lines(base_url, seed):
        typer.echo(line)
    typer.echo(f"token endpoint: {base_url}/as/token.oauth2", err=True)


def export_lines(base_url: str, seed: str) -> list[str]:
    """``export`` lines for the sandbox's URLs and, with the demo seed, its published client
    id and secret (the sandbox's own test credential, not a real one)."""
    from cxlist.demo import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET

    lines = [
        f"export CXONE_BASE_URL={base_url}",
        f"export CXONE_TOKEN_URL={base_url}/as/token.oauth2",
    ]
    if seed == "demo":
        lines += [
            f"export CXONE_CLIENT_ID={DEMO_CLIENT_ID}",
            f"export CXONE_CLIENT_SECRET={DEMO_CLIENT_SECRET}",
        ]
    else:
        lines.append("# and CXONE_CLIENT_ID / CXONE_CLIENT_SECRET: a client of your seed")
    return lines
