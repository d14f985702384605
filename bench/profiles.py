"""Reading a profile with its latest 100 related records out of a store of 1,000,000 records
(100,000 user profiles with 9 events each), over HTTP, against the same rows read by one
plain SQL query in the same run. Prints its figures; asserts nothing.

    bash bench/profiles [--users 100000] [--reads 500]
"""

import argparse
import json
import random
import statistics
import time
from datetime import UTC, datetime

import psycopg
from psycopg.types.json import Jsonb

from bench.stack import DATABASE_URL, running_stack

EVENTS_PER_USER = 9
TYPES = ["bigint", "bigint", "bigint", "integer", "text", "jsonb", "timestamptz",
         "timestamptz", "jsonb"]
COPY = ("COPY records_record (id, org_id, collection_id, schema_version, key, identifiers, "
        "received_at, updated_at, data) FROM STDIN (FORMAT BINARY)")


def load(conn: psycopg.Connection, org_id: int, users_id: int, events_id: int,
         users: int) -> None:
    """Users and their events, written straight into the records table."""
    now = datetime.now(UTC)
    next_id = 1
    with conn.cursor().copy(COPY) as copy:
        copy.set_types(TYPES)
        for user in range(users):
            key = f"u{user}"
            copy.write_row((next_id, org_id, users_id, 1, key, Jsonb({"userId": key}),
                            now, now, Jsonb({"userId": key, "email": f"{key}@x.example"})))
            next_id += 1
            for n in range(EVENTS_PER_USER):
                event = f"{key}-e{n}"
                copy.write_row((next_id, org_id, events_id, 1, event,
                                Jsonb({"eventId": event, "userId": key}), now, now,
                                Jsonb({"eventId": event, "event": "clicked", "userId": key,
                                       "timestamp": "2024-03-01T10:00:00Z"})))
                next_id += 1
    conn.commit()
    conn.execute("ANALYZE records_record")
    conn.commit()


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered) * 1000, ordered[int(0.99 * (len(ordered) - 1))] * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--reads", type=int, default=500)
    args = parser.parse_args()
    with running_stack([]) as stack, psycopg.connect(DATABASE_URL) as conn:
        ids = dict(conn.execute("SELECT name, id FROM catalog_collection WHERE org_id = %s",
                                (stack.org_id,)).fetchall())
        started = time.monotonic()
        load(conn, stack.org_id, ids["users"], ids["events"], args.users)
        loaded = time.monotonic() - started
        total = conn.execute("SELECT count(*) FROM records_record WHERE collection_id IN "
                             "(%s, %s)", (ids["users"], ids["events"])).fetchone()[0]
        keys = [f"u{random.randrange(args.users)}" for _ in range(args.reads)]
        http, sql = [], []
        with stack.client(secret=True) as client:
            for key in keys[:20]:  # warm up connections and caches
                client.get(f"/profiles/users/{key}")
            for key in keys:
                start = time.monotonic()
                profile = client.get(f"/profiles/users/{key}")
                related = client.get(f"/profiles/users/{key}/related/events",
                                     params={"limit": 100})
                http.append(time.monotonic() - start)
                assert profile.status_code == 200 and related.status_code == 200
                assert len(related.json()["_embedded"]["records"]) == EVENTS_PER_USER
                start = time.monotonic()
                conn.execute("SELECT data FROM records_record WHERE collection_id = %s AND "
                             "key = %s", (ids["users"], key)).fetchall()
                conn.execute("SELECT data FROM records_record WHERE collection_id = %s AND "
                             "identifiers @> %s ORDER BY id DESC LIMIT 100",
                             (ids["events"], json.dumps({"userId": key}))).fetchall()
                sql.append(time.monotonic() - start)
    http_p50, http_p99 = percentiles(http)
    sql_p50, sql_p99 = percentiles(sql)
    print(f"\nbench/profiles: {total:,} records, {args.users:,} user profiles, loaded in "
          f"{loaded:.0f}s; {args.reads} profile reads (profile + latest 100 related)")
    print(f"{'measure':<52} {'p50 ms':>8} {'p99 ms':>8}")
    print(f"{'HTTP: GET profile + GET related?limit=100':<52} {http_p50:>8.1f} {http_p99:>8.1f}")
    print(f"{'baseline: the same two reads as plain SQL':<52} {sql_p50:>8.1f} {sql_p99:>8.1f}")
    print(f"{'target: HTTP p99 under 50 ms':<52}")


if __name__ == "__main__":
    main()
