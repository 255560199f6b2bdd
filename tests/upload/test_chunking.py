"""Chunking against a backend's limits."""

from __future__ import annotations

from cxlist.model import ChunkLimits, PlannedItem
from cxlist.upload.chunking import chunk_items


def _items(count: int) -> list[PlannedItem]:
    return [
        PlannedItem(row=i, key_name="k", key_value=str(i), fields={}, priority=0)
        for i in range(count)
    ]


def test_items_filling_max_bytes_exactly_go_in_one_chunk() -> None:
    """The byte budget is limits.max_bytes itself: the dialect took the envelope off once."""
    chunks = list(chunk_items(_items(4), ChunkLimits(max_items=10, max_bytes=100), lambda _: 25))
    assert [len(c) for c in chunks] == [4]


def test_one_byte_over_starts_a_new_chunk() -> None:
    """An item that would pass max_bytes goes to the next chunk, order kept."""
    chunks = list(chunk_items(_items(5), ChunkLimits(max_items=10, max_bytes=100), lambda _: 25))
    assert [[i.row for i in c] for c in chunks] == [[0, 1, 2, 3], [4]]
