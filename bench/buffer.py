"""What a buffered record costs Redis: the memory the ingestion buffer takes per record while
it waits for a drain, for single-record requests and for batches, against the size of the
record's own JSON measured in the same run. Prints its figures; asserts nothing.

    bash bench/buffer [--requests 20000]
"""

import argparse
import os
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path

import django
import orjson
import redis

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
os.environ["REDIS_URL"] = "redis://127.0.0.1:6379/13"
os.environ["SLUICE_BROKER_PREFIX"] = "bench-buffer:"
django.setup()

from apps.core.ids import new_id  # noqa: E402
from apps.ingestion import buffer  # noqa: E402
from apps.records.services import Batch  # noqa: E402
from tests.fixtures import record  # noqa: E402


def message(records: int) -> buffer.Message:
    """One request's message, as ingestion queues it: the records with their ids and keys."""
    batch = Batch(1, 2, 1, datetime.now(UTC).isoformat())
    for _ in range(records):
        data = {**record("flight-booking"), "eventId": str(uuid.uuid4())}
        batch.records.append([new_id(), data["eventId"], {"profileId": data["eventId"]}, data])
    return [batch.as_message()]


def bytes_per_record(requests: int, per_request: int) -> float:
    client = redis.Redis.from_url(os.environ["REDIS_URL"])
    key = buffer._key("buffer", 0)
    client.delete(key)
    for _ in range(requests):
        buffer.push(message(per_request), schedule_drain=lambda shard, drain_id: None)
    used = int(client.memory_usage(key, samples=0) or 0)
    client.delete(key, buffer._key("lease", 0))
    return used / (requests * per_request)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=20_000)
    requests = parser.parse_args().requests
    raw = len(orjson.dumps({**record("flight-booking"), "eventId": str(uuid.uuid4())}))
    single = bytes_per_record(requests, 1)
    batched = bytes_per_record(requests // 100, 100)
    rows = [
        ("1. the record's own JSON (bytes)", f"{raw}"),
        (f"2. buffered, {requests:,} single-record requests (bytes per record)", f"{single:.0f}"),
        (f"3. buffered, {requests // 100:,} requests of 100 records (bytes per record)",
         f"{batched:.0f}"),
        ("4. ratio 2/1", f"{single / raw:.2f}"),
        ("   ratio 3/1", f"{batched / raw:.2f}"),
        ("5. records 1 GB of Redis holds waiting, single-record requests",
         f"{1e9 / single:,.0f}"),
    ]
    for label, value in rows:
        print(f"{label:<72} {value:>10}")


if __name__ == "__main__":
    main()
