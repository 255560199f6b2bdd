"""The least a client can do: POST pre-encoded 1,000-item bodies, ``concurrency`` at a time.

    python benchmarks/minimal_client.py BASE_URL TOKEN_URL LIST_ID ROWS [CONCURRENCY] [lean]

The reference for ``benchmarks/commands.py``: what the server allows, with no planning, no
journal and no reports. Bodies are encoded before the clock starts; prints one JSON line with
the seconds the POSTs took and the answers by status.

Each item carries the fields ``cxlist run`` sends for the benchmark's contacts (the file's
columns, the score, and the time zone and calling hours the plan adds), with values of the
same length, so that the server does the same work per item for both. With ``lean``, items
carry three fields only (phone, first name, score): the server then does less per item, which
is not the reference's merit.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time

import httpx

CLIENT_ID, CLIENT_SECRET = "bench-client", "bench-secret"  # the benchmark seed's client


def fields(i: int, phone: str, *, lean: bool) -> list[dict[str, str]]:
    """Item ``i``'s fields: as ``cxlist run`` sends them for the benchmark file, or three."""
    if lean:
        return [
            {"name": "phone_number", "value": phone},
            {"name": "first_name", "value": f"N{i}"},
            {"name": "score", "value": "50"},
        ]
    return [
        {"name": "phone_number", "value": phone},
        {"name": "first_name", "value": f"N{i}"},
        {"name": "timezone", "value": "America/New_York"},
        {"name": "last_contact_days", "value": str(i % 120)},
        {"name": "engagement_rating", "value": ("HIGH", "LOW", "MEDIUM")[i % 3]},
        {"name": "score", "value": "95"},
        {"name": "timezone_source", "value": "area_code"},
        {"name": "call_hours", "value": "Mon-Sun 08:00-21:00"},
        {"name": "call_rule", "value": "federal"},
    ]


def bodies(rows: int, per_body: int = 1000, *, lean: bool = False) -> list[bytes]:
    """``rows`` distinct items in the v2 wire shape, ``per_body`` to a body, as bytes."""
    items = []
    for i in range(rows):
        phone = f"+1202{200 + i // 10000:03d}{i % 10000:04d}"
        items.append(
            {
                "deduplicationKeys": [{"name": "phone_number", "value": phone}],
                "fields": fields(i, phone, lean=lean),
                "priority": 5,
            }
        )
    return [
        json.dumps({"items": items[i : i + per_body]}, separators=(",", ":")).encode()
        for i in range(0, rows, per_body)
    ]


async def post_all(
    base: str, token_url: str, list_id: str, encoded: list[bytes], concurrency: int
) -> dict[str, object]:
    """POST every body, ``concurrency`` at a time; the seconds taken and statuses seen."""
    limits = httpx.Limits(max_connections=concurrency + 1)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60) as http:
        grant = {
            "grant_type": "client_credentials",
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
        }
        token = (await http.post(token_url, data=grant)).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        queue = list(reversed(encoded))
        statuses: dict[int, int] = {}

        async def worker() -> None:
            while queue:
                body = queue.pop()
                answer = await http.post(
                    f"/api/v2/lists/{list_id}/items", content=body, headers=headers
                )
                statuses[answer.status_code] = statuses.get(answer.status_code, 0) + 1

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return {"seconds": time.perf_counter() - started, "statuses": statuses}


def main() -> None:
    """Encode, then time the POSTs; print the result as one JSON line."""
    base, token_url, list_id, rows = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    concurrency = int(sys.argv[5]) if len(sys.argv) > 5 else 8
    encoded = bodies(rows, lean=sys.argv[6:7] == ["lean"])
    print(json.dumps(asyncio.run(post_all(base, token_url, list_id, encoded, concurrency))))


if __name__ == "__main__":
    main()
