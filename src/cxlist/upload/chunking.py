"""Cutting a list's items into requests that fit the backend's limits, and naming each one."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator, Sequence

from cxlist.model import ChunkLimits, PlannedItem

__all__ = ["chunk_items", "idempotency_key", "items_digest"]


def chunk_items(
    items: Iterable[PlannedItem],
    limits: ChunkLimits,
    item_size: Callable[[PlannedItem], int],
    *,
    max_items: int | None = None,
) -> Iterator[list[PlannedItem]]:
    """Yield consecutive runs of ``items``, each within ``limits`` (and ``max_items`` if lower).

    Order is kept. An item that alone is over the byte limit still gets a chunk of its own, so
    the server, not the client, says it is too large and the row gets that reason. The sizes
    ``item_size`` gives add up to at most ``limits.max_bytes`` per chunk: each dialect has
    already taken what a request spends outside its items off that limit.
    """
    cap = min(limits.max_items, max_items) if max_items else limits.max_items
    budget = limits.max_bytes
    chunk: list[PlannedItem] = []
    used = 0
    for item in items:
        size = item_size(item)
        if chunk and (len(chunk) >= cap or used + size > budget):
            yield chunk
            chunk, used = [], 0
        chunk.append(item)
        used += size
    if chunk:
        yield chunk


def idempotency_key(run_id: str, list_id: str, items: Sequence[PlannedItem]) -> str:
    """One key per logical write, from the run and the chunk's content.

    The same rows sent again in the same run (a retry, a resume) get the same key, so the server
    applies them once; any other content gets another key.
    """
    digest = hashlib.sha256()
    digest.update(f"{run_id}\x1f{list_id}".encode())
    # one update of the joined text: the same digest as one update per item, at less cost
    digest.update("".join(f"\x1e{i.row}\x1f{i.key_value}\x1f{i.priority}" for i in items).encode())
    return f"cxl-{run_id}-{digest.hexdigest()[:40]}"


def items_digest(items: Sequence[PlannedItem]) -> str:
    """A digest of everything a request carries for ``items`` (rows, keys, priorities, fields
    in a canonical order): journaled with an attempt, so a resend can prove it sends the very
    body the key was first used with."""
    # One update of the joined text: the same digest as an update per part, at less cost.
    parts = []
    for item in items:
        parts.append(f"\x1e{item.row}\x1f{item.key_name}\x1f{item.key_value}\x1f{item.priority}")
        if item.wire is not None:  # a v2 item encoded with its batch: the text is the body
            parts.append(f"\x1c{item.wire}")
        if item.fields:
            parts.extend(f"\x1d{name}\x1f{item.fields[name]}" for name in sorted(item.fields))
    return hashlib.sha256("".join(parts).encode()).hexdigest()
