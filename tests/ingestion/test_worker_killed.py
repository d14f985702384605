"""Workers that die lose nothing: a worker killed with SIGKILL in the middle of a load stores
nothing twice and drops nothing (every record answered 202 is in PostgreSQL exactly once), and
records whose drain task was lost, or whose drain failed holding them, are stored when a worker
starts."""

import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx
from django.db.models import Count

from apps.records.models import Record
from tests.fixtures import record
from tests.helpers import flight_collection, stored_keys, wait_for

RECORDS = 20_000
BATCH = 100


def test_a_killed_worker_loses_nothing_and_duplicates_nothing(api, make_org, isolated_stack,
                                                            orm):
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
        answers = [pool.submit(send, batch) for batch in batches]
        # Kill while the worker is storing and holds batches it has taken and not stored, with
        # the rest of the load still arriving.
        held = wait_for(lambda: Record.objects.filter(collection_id=coll_id).exists()
                        and stack.claimed(), timeout=60, interval=0.005)
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
    wait_for(lambda: Record.objects.filter(collection_id=coll_id).count() >= RECORDS,
             timeout=180, interval=0.5)
    print(f"all stored {time.monotonic() - restarted:.1f} s after the restart")
    stored = Record.objects.filter(collection_id=coll_id)
    assert stored.count() == RECORDS
    assert sorted(stored.values_list("key", flat=True)) == sorted(accepted)
    duplicates = stored.values("key").annotate(n=Count("id")).filter(n__gt=1)
    assert not duplicates.exists()


def test_records_whose_drain_was_lost_are_stored_when_a_worker_starts(api, make_org,
                                                                       isolated_stack, orm):
    """Records wait in the buffer while no worker runs; even when the task that was to drain
    them is lost with the flag that says one is coming, a worker that starts stores them."""
    stack = isolated_stack
    coll_id = flight_collection(api)
    sent = stack.send_each(api, coll_id, 30)
    flags = list(stack.broker.scan_iter(f"{stack.prefix}sluice:ingest:flag:*"))
    assert flags, "the first request should have scheduled a drain"
    stack.broker.delete(*flags, f"{stack.prefix}ingest")  # the drain task and its flag, lost
    assert not Record.objects.filter(collection_id=coll_id).exists()

    stack.start_worker()
    assert stored_keys(coll_id, len(sent)) == sorted(sent)


def test_records_a_failed_drain_held_are_stored_when_a_worker_starts(api, make_org,
                                                                     isolated_stack, orm):
    """A drain task that fails in a way Celery does not deliver again leaves what it took in
    its claim; a worker that starts puts that back in the buffer and stores it."""
    stack = isolated_stack
    coll_id = flight_collection(api)
    sent = stack.send_each(api, coll_id, 30)
    # the drain took everything into its claim, then failed: its task and flag are gone
    [buffer] = stack.broker.scan_iter(f"{stack.prefix}sluice:ingest:buffer:*")
    while stack.broker.lmove(buffer, f"{stack.prefix}sluice:ingest:claim:failed-drain"):
        pass
    flags = list(stack.broker.scan_iter(f"{stack.prefix}sluice:ingest:flag:*"))
    stack.broker.delete(*flags, f"{stack.prefix}ingest")
    assert stack.claimed() == len(sent)

    stack.start_worker()
    assert stored_keys(coll_id, len(sent)) == sorted(sent)
    assert stack.claimed() == 0
