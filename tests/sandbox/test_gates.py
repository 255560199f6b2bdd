"""Call gates: a test holds one numbered call at the server and lets it go, or drops it."""

from __future__ import annotations

import threading

import httpx

from cxlist.sandbox import RunningSandbox
from tests.sandbox.tenant import api, item, stored_phones

ITEMS = "/api/v2/lists/L-1/items"


def _post_in_thread(sb: RunningSandbox, phone: str) -> tuple[threading.Thread, list[object]]:
    answers: list[object] = []

    def send() -> None:
        with api(sb) as c:
            try:
                answers.append(c.post(ITEMS, json={"items": [item(phone)]}).status_code)
            except httpx.TransportError as exc:
                answers.append(type(exc).__name__)

    thread = threading.Thread(target=send)
    thread.start()
    return thread, answers


def test_held_call_waits_then_applies_when_released(sandbox: RunningSandbox) -> None:
    """The held write is not applied while held, other calls are served, release applies it."""
    gate = sandbox.state.hold("add_items", 1)
    thread, answers = _post_in_thread(sandbox, "+12015550001")
    assert gate.reached.wait(10)
    with api(sandbox) as c:
        assert c.get("/api/v2/lists/L-1").status_code == 200
    assert stored_phones(sandbox, "L-1") == []
    gate.release()
    thread.join(10)
    assert answers == [200]
    assert stored_phones(sandbox, "L-1") == ["+12015550001"]


def test_dropped_call_is_never_applied(sandbox: RunningSandbox) -> None:
    """Released with drop=True, the call's connection closes unanswered and nothing is stored."""
    gate = sandbox.state.hold("add_items", 1)
    thread, answers = _post_in_thread(sandbox, "+12015550002")
    assert gate.reached.wait(10)
    gate.release(drop=True)
    thread.join(10)
    assert len(answers) == 1
    assert isinstance(answers[0], str)  # a transport error, no HTTP answer
    assert stored_phones(sandbox, "L-1") == []


def test_a_gate_released_early_lets_its_call_through(sandbox: RunningSandbox) -> None:
    """Released before the call arrives, the gate does not stop it."""
    gate = sandbox.state.hold("add_items", 1)
    gate.release()
    with api(sandbox) as c:
        assert c.post(ITEMS, json={"items": [item("+12015550003")]}).status_code == 200
    assert gate.reached.is_set()
