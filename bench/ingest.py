"""Ingestion throughput and latency of a running stack, against raw COPY measured in the
same run. Prints its figures; asserts nothing.

    bash bench/ingest [--records 50000] [--rate 200] [--seconds 20]
"""

import argparse
import gc
import statistics
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from bench.stack import DATABASE_URL, Poster, Stack, peak_memory_mb, running_stack, stored_count
from tests.fixtures import record

BATCH = 100
CLIENTS = 8
SENDERS = 8  # threads that share the fixed-rate load
WARM_UP = 25  # requests per sender before the fixed-rate load


def bookings(count: int) -> list[dict[str, str]]:
    return [{**record("flight-booking"), "eventId": str(uuid.uuid4())} for _ in range(count)]


def wait_stored(conn: psycopg.Connection, collection_id: int, count: int,
                timeout: float = 600) -> float:
    """The time at which `count` records of the collection are visible."""
    deadline = time.monotonic() + timeout
    while stored_count(conn, collection_id) < count:
        if time.monotonic() > deadline:
            raise RuntimeError(f"only {stored_count(conn, collection_id)} of {count} stored")
        time.sleep(0.01)
    return time.monotonic()


def end_to_end(stack: Stack, conn: psycopg.Connection, records: list[dict[str, str]]) -> float:
    """Records/second from the first request to the last record visible in PostgreSQL."""
    batches = [records[i:i + BATCH] for i in range(0, len(records), BATCH)]
    clients = threading.local()

    def send(batch: list[dict[str, str]]) -> None:
        if not hasattr(clients, "http"):
            clients.http = stack.poster()
        status, answer = clients.http.post(f"/collections/{stack.collections['bulk']}/data",
                                           {"records": batch})
        assert status == 202, answer

    start = time.monotonic()
    with ThreadPoolExecutor(CLIENTS) as pool:
        list(pool.map(send, batches))
    done = wait_stored(conn, stack.collections["bulk"], len(records))
    return len(records) / (done - start)


def segment_end_to_end(stack: Stack, conn: psycopg.Connection,
                       records: list[dict[str, str]]) -> float:
    """The same records as Segment's libraries send them: `/v1/batch` of 100 track messages
    named after the collection (so validated by the same schema), records/second from the
    first request to the last visible."""
    name = "segment"
    messages = [{"type": "track", "event": name, "messageId": item["eventId"],
                 "anonymousId": item["visitorId"], "timestamp": "2024-03-01T10:00:00.000Z",
                 "context": {"library": {"name": "analytics-python", "version": "2.3.3"}},
                 "properties": {k: v for k, v in item.items() if k not in ("eventId",
                                                                           "visitorId")}}
                for item in records]
    batches = [messages[i:i + BATCH] for i in range(0, len(messages), BATCH)]
    clients = threading.local()
    host, port = stack.url.removeprefix("http://").split(":")

    def send(batch: list[dict[str, Any]]) -> None:
        if not hasattr(clients, "http"):
            clients.http = Poster((host, int(port)), "", stack.write_key)
        status, answer = clients.http.post("/v1/batch", {"batch": batch,
                                                         "sentAt": "2024-03-01T10:00:01.000Z"})
        assert status == 200, answer

    start = time.monotonic()
    with ThreadPoolExecutor(CLIENTS) as pool:
        list(pool.map(send, batches))
    done = wait_stored(conn, stack.collections[name], len(records))
    return len(records) / (done - start)


def raw_copy(records: list[dict[str, str]]) -> float:
    """Records/second of a binary COPY of the same rows, 100 per transaction, into a scratch
    table shaped like the records table."""
    now = datetime.now(UTC)
    rows = [(i + 1, 1, 1, 1, r["eventId"], {"eventId": r["eventId"]}, now, now, r)
            for i, r in enumerate(records)]
    with psycopg.connect(DATABASE_URL) as conn:
        conn.execute("DROP TABLE IF EXISTS scratch_copy")
        conn.execute("CREATE UNLOGGED TABLE scratch_copy (LIKE records_record INCLUDING ALL)")
        conn.execute("ALTER TABLE scratch_copy SET LOGGED")
        conn.commit()
        start = time.monotonic()
        for i in range(0, len(rows), BATCH):
            with conn.transaction(), conn.cursor().copy(
                "COPY scratch_copy (id, org_id, collection_id, schema_version, key, identifiers,"
                " received_at, updated_at, data) FROM STDIN (FORMAT BINARY)"
            ) as copy:
                copy.set_types(["bigint", "bigint", "bigint", "integer", "text", "jsonb",
                                "timestamptz", "timestamptz", "jsonb"])
                for row in rows[i:i + BATCH]:
                    copy.write_row((*row[:5], Jsonb(row[5]), *row[6:8], Jsonb(row[8])))
        elapsed = time.monotonic() - start
        conn.execute("DROP TABLE scratch_copy")
    return len(records) / elapsed


class VisibilityWatch(threading.Thread):
    """Notes when each record key of a collection first becomes visible."""

    def __init__(self, collection_id: int) -> None:
        super().__init__(daemon=True)
        self.collection_id, self.seen, self.running = collection_id, {}, True

    def run(self) -> None:
        since = datetime(2000, 1, 1, tzinfo=UTC)
        with psycopg.connect(DATABASE_URL, autocommit=True) as conn:
            while self.running:
                # updated_at is set just before the commit: look back so that none is missed
                polled = conn.execute("SELECT now() - interval '0.5 second'").fetchone()[0]
                keys = conn.execute(
                    "SELECT key FROM records_record WHERE collection_id = %s AND updated_at >= %s",
                    (self.collection_id, since)).fetchall()
                since = polled
                now = time.monotonic()
                for (key,) in keys:
                    self.seen.setdefault(key, now)
                time.sleep(0.05)


def settle(conn: psycopg.Connection) -> None:
    """Does now the maintenance the bulk phases left due (a checkpoint, autovacuum of the
    records table), so that it does not land in the middle of the latency measure."""
    conn.execute("CHECKPOINT")
    conn.execute("VACUUM ANALYZE records_record")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def steady_rate(stack: Stack, rate: int, seconds: int) -> dict[str, float]:
    """Single-record POSTs at a fixed rate: answer latency and answer-to-visible time."""
    collection = stack.collections["steady"]
    records = bookings(rate * seconds)
    answered: dict[str, float] = {}
    latencies: list[float] = []
    watch = VisibilityWatch(collection)
    watch.start()
    posters = [stack.poster() for _ in range(SENDERS)]

    def warm(http: Poster) -> None:
        """Every connection and server thread used, as in a service that has been running."""
        for item in bookings(WARM_UP):
            http.post(f"/collections/{collection}/data", item)

    with ThreadPoolExecutor(SENDERS) as pool:
        list(pool.map(warm, posters))
    start = time.monotonic() + 0.1

    def sender(first: int) -> None:
        """Sends every SENDERS-th record at its appointed time; a latency counts from that
        time, so a slow answer that delays the next send is not hidden."""
        http = posters[first]
        for index in range(first, len(records), SENDERS):
            due = start + index / rate
            if (delay := due - time.monotonic()) > 0:
                time.sleep(delay)
            item = records[index]
            status, answer = http.post(f"/collections/{collection}/data", item)
            done = time.monotonic()
            assert status == 202, answer
            latencies.append(done - due)
            answered[item["eventId"]] = done

    with ThreadPoolExecutor(SENDERS) as pool:
        list(pool.map(sender, range(SENDERS)))
    deadline = time.monotonic() + 60
    while any(key not in watch.seen for key in answered) and time.monotonic() < deadline:
        time.sleep(0.05)
    watch.running = False
    visible = [watch.seen[key] - at for key, at in answered.items() if key in watch.seen]
    return {"p50": statistics.median(latencies), "p99": percentile(latencies, 0.99),
            "visible_p99": percentile(visible, 0.99), "missing": len(records) - len(visible)}


def burst(stack: Stack, conn: psycopg.Connection, seconds: int) -> float:
    """Single-record POSTs from 8 clients as fast as they go: records/second stored."""
    collection = stack.collections["burst"]
    sent = [0] * CLIENTS
    stop = time.monotonic() + seconds

    def client(index: int) -> None:
        http = stack.poster()
        while time.monotonic() < stop:
            item = {**record("flight-booking"), "eventId": str(uuid.uuid4())}
            status, answer = http.post(f"/collections/{collection}/data", item)
            assert status == 202, answer
            sent[index] += 1

    start = time.monotonic()
    with ThreadPoolExecutor(CLIENTS) as pool:
        list(pool.map(client, range(CLIENTS)))
    done = wait_stored(conn, collection, sum(sent))
    return sum(sent) / (done - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=50_000)
    parser.add_argument("--rate", type=int, default=200)
    parser.add_argument("--seconds", type=int, default=20)
    args = parser.parse_args()
    # The load generator's threads hand the GIL over within half a millisecond (Python's
    # default is 5 ms), so that its own waits do not count as the stack's latency.
    sys.setswitchinterval(0.0005)
    records = bookings(args.records)
    gc.freeze()  # the load's own records never become garbage: no full sweeps over them
    with running_stack(["bulk", "segment", "steady", "burst"]) as stack, psycopg.connect(
        DATABASE_URL, autocommit=True
    ) as conn:
        e2e = end_to_end(stack, conn, records)
        copy = raw_copy(records)
        segment = segment_end_to_end(stack, conn, bookings(args.records))
        settle(conn)
        steady = steady_rate(stack, args.rate, args.seconds)
        fast = burst(stack, conn, 10)
        web, worker = peak_memory_mb(stack.server), peak_memory_mb(stack.worker)
    print(f"\nbench/ingest: {args.records} records in batches of {BATCH} from {CLIENTS} clients")
    print(f"{'measure':<72} {'value':>10}")
    rows = [
        ("1. end to end, first request to last visible (records/s)", f"{e2e:,.0f}"),
        ("2. raw binary COPY, 100 rows per transaction (records/s)", f"{copy:,.0f}"),
        ("3. ratio 1/2 (target >= 0.25, goal 0.5)", f"{e2e / copy:.2f}"),
        (f"4. {args.rate}/s single POSTs for {args.seconds}s: answer p50 (ms)",
         f"{steady['p50'] * 1000:.1f}"),
        ("   answer p99 (ms, target <= 15)", f"{steady['p99'] * 1000:.1f}"),
        ("   answer to visible p99 (ms, target < 1000)", f"{steady['visible_p99'] * 1000:.0f}"),
        ("   records never seen", f"{steady['missing']}"),
        ("5. single POSTs, 8 clients flat out (records/s stored, target >= 1000)",
         f"{fast:,.0f}"),
        ("6. peak memory, web processes (MB)", f"{web:.0f}"),
        ("   peak memory, worker processes (MB)", f"{worker:.0f}"),
        ("7. Segment /v1/batch of 100 track messages, end to end (records/s)",
         f"{segment:,.0f}"),
        ("   ratio 7/1, to the data endpoint (goal >= 0.8)", f"{segment / e2e:.2f}"),
    ]
    for name, value in rows:
        print(f"{name:<72} {value:>10}")


if __name__ == "__main__":
    main()
