"""The tutorial's own Node.js client, run start to finish against the sandbox.

The script is not kept in this repository: it is cut at run time out of the tutorial
("Complete Working Example"), given the sandbox's two base URLs, the demo credentials and ids
and a local webhook receiver, and run with node. The tutorial is found by the ``tutorial``
fixture: ``$CXLIST_TUTORIAL`` if set, else ``<repo>/../shared/seed/`` (where CI puts it: a
fresh clone with ``shared/`` beside it), else beside the main checkout of a git worktree.
Without it, or without node and npm, the test is skipped and says which one is missing.
axios and winston are installed once under ``~/.cache/cxlist-node`` (override with
``CXLIST_NODE_CACHE``) and found through NODE_PATH.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from cxlist.sandbox import RunningSandbox

REPO = Path(__file__).resolve().parents[2]
TUTORIAL_IN_SHARED = Path("shared") / "seed" / "cxone-outbound-lists-tutorial.txt"
CACHE = Path(os.environ.get("CXLIST_NODE_CACHE", Path.home() / ".cache" / "cxlist-node"))
PACKAGES = ("axios", "winston")


def tutorial_candidates() -> list[Path]:
    """Where the tutorial may be, in the order tried."""
    found = [Path(os.environ["CXLIST_TUTORIAL"])] if os.environ.get("CXLIST_TUTORIAL") else []
    found.append(REPO.parent / TUTORIAL_IN_SHARED)
    git = shutil.which("git")
    if git is not None:
        common = subprocess.run(
            [git, "rev-parse", "--path-format=absolute", "--git-common-dir"],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
        if common:  # a worktree: the main checkout is the common .git's parent
            found.append(Path(common).parent.parent / TUTORIAL_IN_SHARED)
    return list(dict.fromkeys(found))


@pytest.fixture
def tutorial() -> Path:
    """The tutorial text file; skips, naming every place looked in, when it is not there."""
    candidates = tutorial_candidates()
    for path in candidates:
        if path.is_file():
            return path
    looked = ", ".join(str(p) for p in candidates)
    pytest.skip(
        f"the tutorial is not in this checkout's surroundings (looked in: {looked}); CI puts "
        "shared/ beside the clone, elsewhere set CXLIST_TUTORIAL to the file"
    )


def extract_example(text: str) -> str:
    """The lines of the "Complete Working Example" script, from its first require to main()."""
    lines = text.splitlines()
    start = lines.index("Complete Working Example")
    first = next(i for i in range(start, len(lines)) if lines[i].startswith("const axios"))
    last = next(i for i in range(first, len(lines)) if lines[i].strip() == "main();")
    return "\n".join(lines[first : last + 1]) + "\n"


def localize(script: str, token_url: str, base_url: str, webhook_url: str) -> str:
    """Point the script at the sandbox; each placeholder must be found exactly once."""
    replacements = {
        "`https://login.${region}.cxone.com/as/token.oauth2`": json.dumps(token_url),
        "`https://${region}.cxone.com`": json.dumps(base_url),
        "'YOUR_CLIENT_ID'": "'demo-client'",
        "'YOUR_CLIENT_SECRET'": "'demo-secret'",
        "'YOUR_CAMPAIGN_ID'": "'C-100'",
        "'YOUR_LIST_ID'": "'L-1'",
        "'https://your-marketing-platform.com/api/webhooks/cxone-sync'": json.dumps(webhook_url),
    }
    for old, new in replacements.items():
        assert script.count(old) == 1, f"tutorial script changed: {old} not found once"
        script = script.replace(old, new)
    return script


def node_modules() -> Path:
    """The cached node_modules holding axios and winston, installed once under a lock."""
    CACHE.mkdir(parents=True, exist_ok=True)
    with (CACHE / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        modules = CACHE / "node_modules"
        if not all((modules / p / "package.json").exists() for p in PACKAGES):
            if not (CACHE / "package.json").exists():
                (CACHE / "package.json").write_text('{"name": "cxlist-node", "private": true}')
            subprocess.run(
                ["npm", "install", "--no-audit", "--no-fund", "--loglevel=error", *PACKAGES],
                cwd=CACHE,
                check=True,
                capture_output=True,
                timeout=300,
            )
        return modules


class _Receiver(BaseHTTPRequestHandler):
    received: ClassVar[list[dict]] = []

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        self.received.append(json.loads(self.rfile.read(length)))
        self.send_response(204)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        """Keep test output quiet."""


@pytest.fixture
def webhook() -> Iterator[tuple[str, list[dict]]]:
    """A local webhook receiver: its URL and the JSON bodies it got."""
    received: ClassVar[list[dict]] = []
    handler = type("Receiver", (_Receiver,), {"received": received})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook", received
    server.shutdown()
    server.server_close()


@pytest.mark.skipif(
    shutil.which("node") is None or shutil.which("npm") is None,
    reason="node and npm are not on PATH; they are needed to run the tutorial's client",
)
def test_tutorial_client_runs_against_the_sandbox(
    tutorial: Path, sandbox: RunningSandbox, webhook: tuple[str, list[dict]], tmp_path: Path
) -> None:
    """With only its URLs, ids and credentials changed, the tutorial's script exits 0 and
    its contacts land in L-1."""
    hook_url, received = webhook
    script = localize(
        extract_example(tutorial.read_text()), sandbox.token_url, sandbox.base_url, hook_url
    )
    (tmp_path / "example.js").write_text(script)
    env = {**os.environ, "NODE_PATH": str(node_modules())}
    proc = subprocess.run(
        ["node", "example.js"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Operation complete." in proc.stdout
    stored = {i["deduplicationKeys"][0]["value"] for i in sandbox.store.items("L-1")}
    assert stored == {"+15550100001", "+15550100002"}
    assert len(received) == 1
    assert received[0]["event"] == "list_update_complete"
    assert received[0]["metrics"]["successes"] == 2
    assert sandbox.calls["token"] == 1
