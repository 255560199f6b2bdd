"""`cxlist sandbox serve` as a process: the URL line, serving, stopping on signals."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.sandbox.tenant import item

SERVE = [sys.executable, "-m", "cxlist", "sandbox", "serve"]


def _start(*args: str) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [*SERVE, "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    line = proc.stdout.readline().strip() if proc.stdout else ""
    if not line.startswith("http://"):
        proc.kill()
        _, err = proc.communicate(timeout=10)
        pytest.fail(f"serve did not print its URL first: {line!r} {err[-2000:]}")
    return proc, line


def _stop(proc: subprocess.Popen[str], sig: int) -> tuple[int, str]:
    proc.send_signal(sig)
    try:
        _, err = proc.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        pytest.fail("serve did not stop on the signal")
    return proc.returncode, err


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_serve_prints_loopback_url_and_stops_on_signal(sig: int) -> None:
    """The first stdout line is http://127.0.0.1:PORT; the server answers; a signal stops it
    cleanly with exit code 0."""
    proc, url = _start()
    try:
        assert url.startswith("http://127.0.0.1:")
        r = httpx.post(
            f"{url}/as/token.oauth2",
            data={
                "grant_type": "client_credentials",
                "client_id": "demo-client",
                "client_secret": "demo-secret",
            },
        )
        assert r.status_code == 200
    finally:
        code, err = _stop(proc, sig)
    assert code == 0, err
    assert "sandbox stopped" in err
    assert "demo-secret" not in err


def test_serve_with_seed_file_db_and_fault_flags(tmp_path: Path) -> None:
    """--seed FILE, --db and --fault are honoured by the served process."""
    seed = tmp_path / "tenant.json"
    seed.write_text(
        json.dumps(
            {
                "clients": [{"id": "c1", "secret": "s1", "scopes": ["lists:write", "lists:read"]}],
                "campaigns": [{"id": "C-1", "maxListSize": 10}],
                "lists": [{"id": "L-9", "campaignId": "C-1", "duplicatePolicy": "REJECT"}],
            }
        )
    )
    db = tmp_path / "state.db"
    proc, url = _start(
        "--seed", str(seed), "--db", str(db), "--fault", "list:1:503", "--token-ttl", "99"
    )
    try:
        token = httpx.post(
            f"{url}/as/token.oauth2", data={"grant_type": "client_credentials"}, auth=("c1", "s1")
        ).json()
        assert token["expires_in"] == 99
        headers = {"Authorization": f"Bearer {token['access_token']}"}
        assert httpx.get(f"{url}/api/v2/lists/L-9", headers=headers).status_code == 503
        assert (
            httpx.post(
                f"{url}/api/v2/lists/L-9/items",
                headers=headers,
                json={"items": [item("+12015550100")]},
            ).status_code
            == 200
        )
    finally:
        assert _stop(proc, signal.SIGTERM)[0] == 0
    assert db.exists()


def test_bad_seed_file_is_a_one_line_error(tmp_path: Path) -> None:
    """A malformed seed exits 2 with a message naming the file, no traceback."""
    seed = tmp_path / "bad.json"
    seed.write_text("{nope")
    proc = subprocess.run(
        [*SERVE, "--seed", str(seed)], capture_output=True, text=True, timeout=30, check=False
    )
    assert proc.returncode == 2
    assert "bad.json" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_serve_prints_export_lines_that_work() -> None:
    """After the URL, serve prints `export` lines (base URL, token URL, the demo client) that
    get a token as they are; the README's quick start shows the same lines."""
    proc, url = _start()
    try:
        lines = [proc.stdout.readline().strip() for _ in range(5)] if proc.stdout else []
        exports = dict(
            line.removeprefix("export ").split("=", 1)
            for line in lines
            if line.startswith("export ")
        )
        assert exports == {
            "CXONE_BASE_URL": url,
            "CXONE_TOKEN_URL": f"{url}/as/token.oauth2",
            "CXONE_CLIENT_ID": "demo-client",
            "CXONE_CLIENT_SECRET": "demo-secret",
        }
        r = httpx.post(
            exports["CXONE_TOKEN_URL"],
            data={"grant_type": "client_credentials"},
            auth=(exports["CXONE_CLIENT_ID"], exports["CXONE_CLIENT_SECRET"]),
        )
        assert r.status_code == 200
    finally:
        assert _stop(proc, signal.SIGTERM)[0] == 0
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    for name in ("CXONE_BASE_URL=http://127.0.0.1:", "CXONE_CLIENT_ID=demo-client"):
        assert f"export {name}" in readme
