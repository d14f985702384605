"""Workers that die lose nothing: a worker killed with SIGKILL in the middle of a load stores
nothing twice and drops nothing (every record answered 202 is in PostgreSQL exactly once), and
records whose drain task was lost, or whose drain failed holding them, are stored within
seconds, with no new request."""

import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx
import psycopg
from django.db.models import Count

from apps.records.models import Record
from tests.fixtures import record
from tests.helpers import flight_collection, stored_keys, wait_for

RECORDS = 20_000
BATCH = 100


def test_a_killed_worker_loses_nothing_and_duplicates_nothing(api, make_org, isolated_stack,
                                                            database_url, orm):
    stack = isolated_stack
    stack.start_worker()
    coll_id = flight_collection(api)
    endpoint = f"{stack.url}/v1/{api.org.slug}/collections/{coll_id}/data"
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
        answers = [pool.submit(send, batch) for batch in batches[:len(batches) // 2]]
        # Kill while the worker is storing and holds batches it has taken and not stored, with
        # the rest of the load still arriving: a table lock holds its write until the kill, and
        # the second half of the load is sent only once the lock is held, so the moment cannot
        # be missed however fast the machine or slow the worker's start.
        wait_for(lambda: Record.objects.filter(collection_id=coll_id).exists(), timeout=60,
                 interval=0.005)
        with psycopg.connect(database_url) as locker:
            locker.execute("LOCK TABLE records_record IN SHARE ROW EXCLUSIVE MODE")
            answers += [pool.submit(send, batch) for batch in batches[len(batches) // 2:]]
            held = wait_for(stack.claimed, timeout=60, interval=0.005)
            stack.workers[0].kill()
        statuses = {answer.result() for answer in answers}
    stored_before_restart = Record.objects.filter(collection_id=coll_id).count()
    print(f"killed holding {held} requests' batches; stored when the load was done: "
          f"{stored_before_restart}")
    stack.start_worker()
    restarted = time.monotonic()

    assert statuses == {202}
    assert len(accepted) == RECORDS
    assert stored_before_restart < RECORDS, "the kill came too late to test anything"
    # within seconds: not after the dead drain's lease, or Celery's visibility timeout
    wait_for(lambda: Record.objects.filter(collection_id=coll_id).count() >= RECORDS,
             timeout=30, interval=0.2)
    print(f"all stored {time.monotonic() - restarted:.1f} s after the restart")
    stored = Record.objects.filter(collection_id=coll_id)
    assert stored.count() == RECORDS
    assert sorted(stored.values_list("key", flat=True)) == sorted(accepted)
    duplicates = stored.values("key").annotate(n=Count("id")).filter(n__gt=1)
    assert not duplicates.exists()


def test_records_whose_drain_was_lost_are_stored(api, make_org, isolated_stack, orm):
    """Records wait in the buffer while no worker runs; when the task that was to drain them
    is lost, a worker stores them all the same, with no new request."""
    stack = isolated_stack
    coll_id = flight_collection(api)
    sent = stack.send_each(api, coll_id, 30)
    assert stack.broker.exists(stack.key("lease", "0")), "the first request gave out a lease"
    stack.broker.delete(f"{stack.prefix}ingest")  # the drain task, lost
    assert not Record.objects.filter(collection_id=coll_id).exists()

    stack.start_worker()
    assert stored_keys(coll_id, len(sent)) == sorted(sent)


def test_records_a_failed_drain_held_are_stored(api, make_org, isolated_stack, orm):
    """A drain task that fails in a way Celery does not deliver again leaves what it took in
    its claim; once its lease has ended, a worker puts that back in the buffer and stores it."""
    stack = isolated_stack
    stack.start_worker()
    coll_id = flight_collection(api)
    wait_for(lambda: b"ready" in stack.workers[0].log.read_bytes())
    stack.workers[0].stop()
    sent = stack.send_each(api, coll_id, 30)
    # a drain took everything into its claim, then failed: its task is gone, its lease ended
    stack.broker.delete(f"{stack.prefix}ingest", stack.key("lease", "0"))
    stack.broker.hset(stack.key("drains"), "failed-drain", 0)
    while stack.broker.lmove(stack.key("buffer", "0"), stack.key("claim", "failed-drain")):
        pass
    assert stack.claimed() == len(sent)
    # what an operator sees meanwhile: records waiting, undrained, for longer and longer
    [shard] = httpx.get(f"{stack.url}/v1/health").json()["buffer"]["shards"]
    assert (shard["waiting"], shard["draining"]) == (len(sent), False)
    assert shard["oldestSeconds"] > 0
    metrics = httpx.get(f"{stack.url}/v1/metrics")
    assert metrics.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    assert f'sluice_buffer_waiting_batches{{shard="0"}} {len(sent)}.0' in metrics.text
    assert 'sluice_buffer_draining{shard="0"} 0.0' in metrics.text
    assert "sluice_buffer_safe 1.0" in metrics.text

    stack.start_worker()
    assert stored_keys(coll_id, len(sent)) == sorted(sent)
    assert stack.claimed() == 0
