import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis

from tests.conftest import LOGS
from tests.fixtures import record, schema
from tests.helpers import create_collection, create_identifier, create_source
from tests.live import LiveProcess, process_env, start_server, start_worker

VISIBILITY_TIMEOUT = "5"  # seconds before an unacknowledged message is delivered again


@pytest.fixture
def flights(api: Any, worker: Any) -> dict[str, Any]:
    """The seed's flight-booking collection, keyed by eventId, with a live worker behind it."""
    source = create_source(api)
    collection = create_collection(api, source["id"], avro=schema("flight-booking"))
    create_identifier(api, collection["id"])
    return {"source": source, "collection": collection}


class IsolatedStack:
    """A server and workers of their own on a Redis database of their own, so that killing a
    worker or losing a message cannot disturb the rest of the suite."""

    def __init__(self, database_url: str) -> None:
        redis_url = "redis://127.0.0.1:6379/14"
        self.database_url = database_url
        self.env = {"REDIS_URL": redis_url, "SLUICE_VISIBILITY_TIMEOUT": VISIBILITY_TIMEOUT}
        self.prefix = process_env(database_url)["SLUICE_BROKER_PREFIX"]
        self.broker = redis.Redis.from_url(redis_url)
        for key in self.broker.scan_iter(f"{self.prefix}*"):  # an earlier run's, same pid
            self.broker.delete(key)
        self.server, self.url = start_server(database_url, LOGS / "isolated-server.log",
                                             **self.env)
        self.workers: list[LiveProcess] = []

    def start_worker(self, database_url: str | None = None,
                     log: Path = LOGS / "isolated-worker.log") -> None:
        self.workers.append(start_worker(database_url or self.database_url, log, **self.env))

    def send_each(self, api: Any, coll_id: int, count: int) -> list[str]:
        """Sends `count` flight bookings, a request each, to this stack's server; answers
        their eventIds (each answered 202)."""
        sent = [str(uuid.uuid4()) for _ in range(count)]
        with httpx.Client(base_url=f"{self.url}/v1/{api.org.slug}", timeout=30,
                          headers={"Authorization": f"ApiKey {api.org.write_key}"}) as client:
            for event_id in sent:
                answer = client.post(f"/collections/{coll_id}/data",
                                     json={**record("flight-booking"), "eventId": event_id})
                assert answer.status_code == 202, answer.text
        return sent

    def claimed(self) -> int:
        """How many requests' batches a drain has taken from the buffer and not stored yet."""
        claims = self.broker.scan_iter(f"{self.prefix}sluice:ingest:claim:*")
        return sum(int(self.broker.llen(key)) for key in claims)

    def stop(self) -> None:
        for worker in self.workers:
            worker.stop()
        self.server.stop()


@pytest.fixture
def isolated_stack(database_url: str) -> Iterator[IsolatedStack]:
    stack = IsolatedStack(database_url)
    yield stack
    stack.stop()
