"""Dry runs of a schema change over many stored records (written in schema version 1), from
the POST to the answer `done`: a compatible schema (fixtures/schemas/flight-booking-v2.avsc,
whose version Avro's checker proves readable: nothing to read one by one) against an
incompatible one (flight-booking-flight-number.avsc: every record read and resolved).
Prints its figures; asserts nothing but that each finished.

    bash bench/dryrun [--records 200000]
"""

import argparse
import time
from typing import Any

import httpx
import psycopg

from bench.read import load
from bench.stack import DATABASE_URL, running_stack
from tests.fixtures import schema


def dry_run(client: httpx.Client, collection_id: int, avro: dict[str, Any]) -> tuple[float, Any]:
    """Seconds from the POST to `done`, and the finished dry run."""
    start = time.monotonic()
    started = client.post(f"/collections/{collection_id}/schemas", params={"dryRun": "true"},
                          json={"schema": avro})
    assert started.status_code == 202, started.text
    while (body := client.get(started.headers["Location"]).json())["status"] == "running":
        time.sleep(0.05)
    took = time.monotonic() - start
    assert body["status"] == "done", body
    return took, body


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=200_000)
    args = parser.parse_args()
    with running_stack(["bookings"]) as stack, psycopg.connect(DATABASE_URL) as conn:
        collection_id = stack.collections["bookings"]
        load(conn, stack.org_id, collection_id, args.records)
        with stack.client(secret=True) as client:
            proven, compatible = dry_run(client, collection_id, schema("flight-booking-v2"))
            read, incompatible = dry_run(client, collection_id,
                                         schema("flight-booking-flight-number"))
    rows = [(f"compatible (v2): read one by one: {compatible['progress']['total']:,}", proven,
             "-"),
            (f"incompatible (flightId long): unreadable: "
             f"{incompatible['storedRecords']['unreadable']:,}", read,
             f"{args.records / read:,.0f}")]
    print(f"\nbench/dryrun: {args.records:,} flight bookings written in schema version 1, "
          "from the POST to `done`")
    print(f"{'measure':<56} {'seconds':>8} {'records/s':>10}")
    for measure, seconds, rate in rows:
        print(f"{measure:<56} {seconds:>8.2f} {rate:>10}")

if __name__ == "__main__":
    main()
