"""The local CXone emulator (the v2 and Admin dialects): an ASGI app over SQLite with faults.

In a test or a demo::

    from cxlist.sandbox import Faults, ScriptedFault, serve_in_thread

    faults = Faults(script=(ScriptedFault.parse("add_items:3:drop_after"),), seed=7)
    with serve_in_thread(seed="demo", faults=faults, db=None) as sb:
        sb.base_url, sb.token_url        # http://127.0.0.1:PORT, .../as/token.oauth2
        sb.store.items("L-1")            # what the list holds, as GET items shows it
        sb.set_faults(fail_503=0.1)      # change faults at run time (counters restart)
        sb.calls["add_items"]            # calls per endpoint since faults were set

From the shell: ``cxlist sandbox serve [--port 0] [--seed demo|FILE] [--db FILE] ...``
prints ``http://127.0.0.1:PORT`` as its first stdout line.

The ``/_sandbox`` control endpoints (``GET/PUT/PATCH /_sandbox/faults``,
``POST /_sandbox/reset``, the webhook sink ``/_sandbox/webhooks``) need no token; they are
on by default and absent with ``control=False`` (``--no-control``). The server binds
127.0.0.1 unless told otherwise.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cxlist.lazy import lazy_exports

if TYPE_CHECKING:
    from cxlist.sandbox.app import SandboxApp, SandboxState, create_app
    from cxlist.sandbox.faults import Faults, ScriptedFault
    from cxlist.sandbox.seed import Seed, load_seed
    from cxlist.sandbox.server import RunningSandbox, serve_forever, serve_in_thread
    from cxlist.sandbox.store import SandboxStore

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "SandboxApp": "cxlist.sandbox.app",
        "SandboxState": "cxlist.sandbox.app",
        "create_app": "cxlist.sandbox.app",
        "Faults": "cxlist.sandbox.faults",
        "ScriptedFault": "cxlist.sandbox.faults",
        "Seed": "cxlist.sandbox.seed",
        "load_seed": "cxlist.sandbox.seed",
        "RunningSandbox": "cxlist.sandbox.server",
        "serve_forever": "cxlist.sandbox.server",
        "serve_in_thread": "cxlist.sandbox.server",
        "SandboxStore": "cxlist.sandbox.store",
    },
)

__all__ = [
    "Faults",
    "RunningSandbox",
    "SandboxApp",
    "SandboxState",
    "SandboxStore",
    "ScriptedFault",
    "Seed",
    "create_app",
    "load_seed",
    "serve_forever",
    "serve_in_thread",
]
