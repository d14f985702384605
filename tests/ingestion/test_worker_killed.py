"""A worker killed with SIGKILL in the middle of a load loses nothing and stores nothing
twice: every record answered 202 is in PostgreSQL exactly once."""

import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
import redis
from django.db.models import Count

from apps.records.models import Record
from tests.conftest import LOGS
from tests.fixtures import record
from tests.helpers import wait_for
from tests.live import process_env, start_server, start_worker

RECORDS = 20_000
BATCH = 100
VISIBILITY_TIMEOUT = "5"  # seconds before an unacknowledged message is delivered again


@pytest.fixture
def isolated_stack(database_url):
    """A server and worker of their own on a Redis database of their own, so that killing
    this worker cannot disturb the rest of the suite."""
    redis_url = "redis://127.0.0.1:6379/14"
    env = {"REDIS_URL": redis_url, "SLUICE_VISIBILITY_TIMEOUT": VISIBILITY_TIMEOUT}
    prefix = process_env(database_url)["SLUICE_BROKER_PREFIX"]
    broker = redis.Redis.from_url(redis_url)
    for key in broker.scan_iter(f"{prefix}*"):  # left by an earlier run with the same pid
        broker.delete(key)
    server, url = start_server(database_url, LOGS / "kill-server.log", **env)
    workers = [start_worker(database_url, LOGS / "kill-worker.log", **env)]

    def restart():
        workers.append(start_worker(database_url, LOGS / "kill-worker.log", **env))

    def claimed() -> int:
        """How many requests' batches a drain has taken from the buffer and not stored yet."""
        claims = broker.scan_iter(f"{prefix}sluice:ingest:claim:*")
        return sum(int(broker.llen(key)) for key in claims)

    yield url, workers, restart, claimed
    for worker in workers:
        worker.stop()
    server.stop()


def test_a_killed_worker_loses_nothing_and_duplicates_nothing(api, make_org, isolated_stack,
                                                            orm):
    from tests.helpers import create_collection, create_identifier, create_source

    url, workers, restart, claimed = isolated_stack
    source = create_source(api)
    collection = create_collection(api, source["id"])
    create_identifier(api, collection["id"])
    coll_id = int(collection["id"])
    endpoint = f"{url}/v1/{api.org.slug}/collections/{coll_id}/data"
    headers = {"Authorization": f"ApiKey {api.org.write_key}"}
    batches = [[{**record("flight-booking"), "eventId": str(uuid.uuid4())} for _ in range(BATCH)]
               for _ in range(RECORDS // BATCH)]
    accepted: list[str] = []

    def send(batch):
        with httpx.Client(timeout=60) as client:
            answer = client.post(endpoint, json={"records": batch}, headers=headers)
        if answer.status_code == 202:
            accepted.extend(r["eventId"] for r in batch)
        return answer.status_code

    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = [pool.submit(send, batch) for batch in batches]
        # Kill while the worker is storing and holds batches it has taken and not stored, with
        # the rest of the load still arriving.
        held = wait_for(lambda: Record.objects.filter(collection_id=coll_id).exists()
                        and claimed(), timeout=60, interval=0.005)
        workers[0].kill()
        statuses = {answer.result() for answer in answers}
    stored_before_restart = Record.objects.filter(collection_id=coll_id).count()
    print(f"killed holding {held} requests' batches; stored when the load was done: "
          f"{stored_before_restart}")
    restart()
    restarted = time.monotonic()

    assert statuses == {202}
    assert len(accepted) == RECORDS
    assert stored_before_restart < RECORDS, "the kill came too late to test anything"
    wait_for(lambda: Record.objects.filter(collection_id=coll_id).count() >= RECORDS,
             timeout=180, interval=0.5)
    print(f"all stored {time.monotonic() - restarted:.1f} s after the restart")
    stored = Record.objects.filter(collection_id=coll_id)
    assert stored.count() == RECORDS
    assert sorted(stored.values_list("key", flat=True)) == sorted(accepted)
    duplicates = stored.values("key").annotate(n=Count("id")).filter(n__gt=1)
    assert not duplicates.exists()
