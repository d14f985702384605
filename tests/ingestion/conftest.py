import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis

from tests.conftest import LOGS
from tests.fixtures import record, schema
from tests.helpers import create_collection, create_identifier, create_source, wait_for
from tests.live import LiveProcess, process_env, start_server, start_worker

VISIBILITY_TIMEOUT = "5"  # seconds before an unacknowledged message is delivered again
PRODUCTION_VISIBILITY_TIMEOUT = "120"  # the default: what faults must not wait for


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

    def __init__(self, database_url: str, redis_url: str = "redis://127.0.0.1:6379/14",
                 visibility_timeout: str = VISIBILITY_TIMEOUT, **env: str) -> None:
        self.database_url = database_url
        self.env = {"REDIS_URL": redis_url, "SLUICE_VISIBILITY_TIMEOUT": visibility_timeout,
                    **env}
        self.prefix = process_env(database_url)["SLUICE_BROKER_PREFIX"]
        self.broker = redis.Redis.from_url(redis_url)
        for key in self.broker.scan_iter(f"{self.prefix}*"):  # an earlier run's, same pid
            self.broker.delete(key)
        self.server, self.url = start_server(database_url, LOGS / "isolated-server.log",
                                             **self.env)
        self.workers: list[LiveProcess] = []

    def start_worker(self, database_url: str | None = None,
                     log: Path = LOGS / "isolated-worker.log", **env: str) -> LiveProcess:
        worker = start_worker(database_url or self.database_url, log, **self.env, **env)
        self.workers.append(worker)
        return worker

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

    def key(self, *parts: str) -> str:
        """The name of one of the ingestion buffer's keys in Redis."""
        return self.prefix + ":".join(["sluice", "ingest", *parts])

    def stop(self) -> None:
        for worker in self.workers:
            worker.stop()
        self.server.stop()


@pytest.fixture
def isolated_stack(database_url: str) -> Iterator[IsolatedStack]:
    stack = IsolatedStack(database_url)
    yield stack
    stack.stop()


@pytest.fixture
def production_stack(database_url: str) -> Iterator[IsolatedStack]:
    """An isolated stack with the default visibility timeout: recovery must not wait for it."""
    stack = IsolatedStack(database_url, visibility_timeout=PRODUCTION_VISIBILITY_TIMEOUT)
    yield stack
    stack.stop()


class Load:
    """Senders posting flight bookings, a few a request, until stopped; it keeps the eventIds
    answered 202 and counts every answer."""

    def __init__(self, url: str, org: Any, coll_id: int, senders: int = 4,
                 per_request: int = 5) -> None:
        self.endpoint = f"{url}/v1/{org.slug}/collections/{coll_id}/data"
        self.headers = {"Authorization": f"ApiKey {org.write_key}"}
        self.per_request = per_request
        self.accepted: set[str] = set()
        self.answers: Counter[int | str] = Counter()
        self._stop = threading.Event()
        self._senders = [threading.Thread(target=self._send) for _ in range(senders)]

    def __enter__(self) -> "Load":
        for sender in self._senders:
            sender.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    def stop(self) -> None:
        self._stop.set()
        for sender in self._senders:
            sender.join()

    def _send(self) -> None:
        with httpx.Client(timeout=30, headers=self.headers) as client:
            while not self._stop.is_set():
                ids = [str(uuid.uuid4()) for _ in range(self.per_request)]
                body = {"records": [{**record("flight-booking"), "eventId": event_id}
                                    for event_id in ids]}
                try:
                    status: int | str = client.post(self.endpoint, json=body).status_code
                except httpx.TransportError as error:
                    status = type(error).__name__
                self.answers[status] += 1
                if status == 202:
                    self.accepted.update(ids)
                time.sleep(0.002)


def visible_after(coll_id: int, accepted: set[str], since: float, timeout: float = 30) -> float:
    """Waits until every accepted record is stored (once: the key is unique); answers how
    long after `since` (time.monotonic()) the last one was."""
    from apps.records.models import Record

    stored = Record.objects.filter(collection_id=coll_id)
    wait_for(lambda: accepted <= set(stored.values_list("key", flat=True)), timeout=timeout,
             interval=0.2)
    return time.monotonic() - since
