"""Reading records back in pages of 1,000 over HTTP: plainly, as they were written (schema
version 1), against the same pages read with `?schemaVersion=2`, each record resolved from
version 1 to fixtures/schemas/flight-booking-v2.avsc by Avro's rules, in the same run.
Prints its figures; asserts nothing.

    bash bench/read [--records 20000] [--rounds 5]
"""

import argparse
import statistics
import time
from datetime import UTC, datetime

import httpx
import psycopg
from psycopg.types.json import Jsonb

from bench.profiles import COPY, TYPES
from bench.stack import DATABASE_URL, running_stack
from tests.fixtures import record, schema

PAGE = 1000


def load(conn: psycopg.Connection, org_id: int, collection_id: int, count: int) -> None:
    """Flight bookings written in schema version 1, straight into the records table."""
    now = datetime.now(UTC)
    with conn.cursor().copy(COPY) as copy:
        copy.set_types(TYPES)
        for n in range(1, count + 1):
            key = f"booking-{n}"
            copy.write_row((n, org_id, collection_id, 1, key, Jsonb({"eventId": key}), now,
                            now, Jsonb({**record("flight-booking"), "eventId": key,
                                        "bookingId": str(n)})))
    conn.commit()
    conn.execute("ANALYZE records_record")
    conn.commit()


def pages_read(client: httpx.Client, url: str, params: dict[str, str]) -> list[float]:
    """Reads every page through `_links.next`; answers how long each took, in seconds."""
    took, next_url = [], url
    query: dict[str, str] | None = {"limit": str(PAGE), **params}
    while next_url:
        start = time.monotonic()
        answer = client.get(next_url, params=query)
        took.append(time.monotonic() - start)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert len(body["_embedded"]["records"]) == PAGE
        next_url, query = body["_links"].get("next", {}).get("href"), None
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    plain: list[float] = []
    resolved: list[float] = []
    with running_stack(["bookings"]) as stack, psycopg.connect(DATABASE_URL) as conn:
        collection_id = stack.collections["bookings"]
        load(conn, stack.org_id, collection_id, args.records)
        url = f"/collections/{collection_id}/data"
        with stack.client(secret=True) as client:
            changed = client.patch(f"/collections/{collection_id}",
                                   json={"schema": schema("flight-booking-v2")})
            assert changed.json()["schemaVersion"] == 2, changed.text
            first = client.get(url, params={"limit": "1", "schemaVersion": "2"}).json()
            assert first["_embedded"]["records"][0]["data"]["seats"] == 1
            pages_read(client, url, {})  # warm up connections and caches
            pages_read(client, url, {"schemaVersion": "2"})
            for _ in range(args.rounds):  # interleaved, so both see the same machine
                plain += pages_read(client, url, {})
                resolved += pages_read(client, url, {"schemaVersion": "2"})
    plain_ms, resolved_ms = (statistics.median(took) * 1000 for took in (plain, resolved))
    print(f"\nbench/read: {args.records:,} flight bookings written in schema version 1, read "
          f"in pages of {PAGE:,}, {len(plain)} pages each way")
    print(f"{'measure':<58} {'p50 ms':>8}")
    print(f"{'baseline: GET .../data?limit=1000 (as written)':<58} {plain_ms:>8.1f}")
    print(f"{'GET .../data?limit=1000&schemaVersion=2 (v1 -> v2)':<58} {resolved_ms:>8.1f}")
    print(f"{'ratio, resolved / plain':<58} {resolved_ms / plain_ms:>8.2f}")
    print(f"{'target: resolving costs under 2x a plain read':<58}")


if __name__ == "__main__":
    main()
