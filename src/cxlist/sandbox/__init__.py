"""The local CXone emulator (v2 dialect): an ASGI app over SQLite with fault injection.

Start one in a thread with :func:`serve_in_thread`, or from the shell with
``cxlist sandbox serve``.
"""

from __future__ import annotations

from cxlist.sandbox.app import SandboxApp, SandboxState, create_app
from cxlist.sandbox.faults import Faults, ScriptedFault
from cxlist.sandbox.seed import Seed, load_seed
from cxlist.sandbox.server import RunningSandbox, serve_forever, serve_in_thread
from cxlist.sandbox.store import SandboxStore

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
