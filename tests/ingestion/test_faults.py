"""Accepted records flow again within seconds of any fault, with no restart, no new request and
no operator: Redis restarted mid-load, a worker killed while another runs, a lock held past
the worker's lock_timeout, PostgreSQL restarted. Each prints the time from the fault's end to
the last accepted record visible."""

import json
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest

from apps.records.models import Record, RejectedRecord
from tests.conftest import LOGS, Api, OrgKeys
from tests.fixtures import record
from tests.helpers import flight_collection, wait_for
from tests.ingestion.conftest import (
    PRODUCTION_VISIBILITY_TIMEOUT,
    IsolatedStack,
    Load,
    visible_after,
)
from tests.live import ROOT, OwnPostgres, OwnRedis, process_env

# longer than Redis's client keeps retrying a command (about 7 s): drains see Redis go away
REDIS_AWAY_SECONDS = 12


@pytest.fixture
def own_redis(tmp_path) -> Iterator[OwnRedis]:
    server = OwnRedis(tmp_path, LOGS / "own-redis.log").start()
    yield server
    server.server.stop()


@pytest.mark.parametrize("traffic_after", [True, False], ids=["traffic-after", "no-traffic"])
@pytest.mark.parametrize("how", ["shutdown", "sigkill"])
def test_records_flow_again_after_redis_restarts(how, traffic_after, api, own_redis,
                                                 database_url, orm):
    stack = IsolatedStack(database_url, own_redis.url,
                          visibility_timeout=PRODUCTION_VISIBILITY_TIMEOUT)
    try:
        stack.start_worker(log=LOGS / "redis-restart-worker.log")
        coll_id = flight_collection(api)
        stored = Record.objects.filter(collection_id=coll_id)
        with Load(stack.url, api.org, coll_id) as load:
            # stop Redis while a drain holds records it took and has not stored
            wait_for(lambda: stored.count() > 500 and stack.claimed(), timeout=60,
                     interval=0.005)
            own_redis.stop(how)
            time.sleep(REDIS_AWAY_SECONDS)
            if not traffic_after:
                load.stop()
            own_redis.start()
            back = time.monotonic()
            time.sleep(3 if traffic_after else 0)
        seconds = visible_after(coll_id, load.accepted, back)
        print(f"Redis {how}, {'with' if traffic_after else 'no'} traffic after: "
              f"{len(load.accepted)} accepted, all visible {seconds:.1f} s after Redis was "
              f"back; answers {dict(load.answers)}")
        assert load.answers[202] > 0
    finally:
        stack.stop()


def test_a_killed_worker_costs_seconds_when_another_runs(api, production_stack, orm):
    """Two workers; the one whose drain holds the shard is killed: the other takes over its
    work, with no restart and no wait for Celery's visibility timeout."""
    stack = production_stack
    logs = [LOGS / f"two-workers-{n}.log" for n in range(2)]
    for log in logs:
        log.unlink(missing_ok=True)
        stack.start_worker(log=log)
    coll_id = flight_collection(api)
    stored = Record.objects.filter(collection_id=coll_id)
    with Load(stack.url, api.org, coll_id) as load:
        wait_for(lambda: stored.count() > 500 and stack.claimed(), timeout=60, interval=0.005)
        holder = stack.broker.get(stack.key("lease", "0")).decode()
        [killed] = [n for n, log in enumerate(logs) if holder in log.read_text()]
        stack.workers[killed].kill()
        killed_at = time.monotonic()
        time.sleep(3)
    seconds = visible_after(coll_id, load.accepted, killed_at)
    print(f"worker {killed} of 2 killed holding the shard: {len(load.accepted)} accepted, all "
          f"visible {seconds:.1f} s after the kill")


def test_a_lock_held_past_lock_timeout_rejects_nothing(api, production_stack, database_url,
                                                      orm):
    """The worker gives up on locks after 100 ms; a table lock held for seconds mid-load makes
    its writes fail, and the records wait for it: none becomes a rejected record."""
    stack = production_stack
    stack.start_worker(log=LOGS / "lock-timeout-worker.log", PGOPTIONS="-c lock_timeout=100ms")
    coll_id = flight_collection(api)
    stored = Record.objects.filter(collection_id=coll_id)
    with Load(stack.url, api.org, coll_id) as load:
        wait_for(lambda: stored.count() > 200, timeout=60)
        with psycopg.connect(database_url) as locker:
            locker.execute("LOCK TABLE records_record IN SHARE ROW EXCLUSIVE MODE")
            time.sleep(4)
            load.stop()
            locked = stored.count()
        released = time.monotonic()
    seconds = visible_after(coll_id, load.accepted, released)
    print(f"lock held 4 s: {len(load.accepted)} accepted, all visible {seconds:.1f} s after "
          f"its release")
    assert locked < len(load.accepted), "the lock held nothing back"
    assert not RejectedRecord.objects.filter(collection_id=coll_id).exists()


@pytest.fixture
def own_postgres() -> Iterator[OwnPostgres]:
    server = OwnPostgres().start().migrated()
    yield server
    server.remove()


def test_no_5xx_once_postgresql_is_back_from_a_restart(own_postgres):
    """Every web thread holds a kept connection when PostgreSQL restarts: none of them answers
    a 5xx once it is back, and records sent then are stored."""
    stack = IsolatedStack(own_postgres.url, visibility_timeout=PRODUCTION_VISIBILITY_TIMEOUT)
    try:
        stack.start_worker(log=LOGS / "postgres-restart-worker.log")
        org = org_made(own_postgres.url)
        with Api(stack.url, org) as api, ThreadPoolExecutor(max_workers=16) as pool:
            coll_id = flight_collection(api)
            # every thread of both web processes keeps a connection
            assert set(pool.map(lambda _: api.get("/sources").status_code, range(64))) == {200}
            own_postgres.stop()
            own_postgres.start()
            back = time.monotonic()

            def both(_):
                sent = {**record("flight-booking"), "eventId": str(uuid.uuid4())}
                posted = api.post(f"/collections/{coll_id}/data", json=sent)
                return (api.get("/sources").status_code, posted.status_code), sent["eventId"]

            answers = list(pool.map(both, range(64)))
        assert {statuses for statuses, _ in answers} == {(200, 202)}
        sent = {event_id for _, event_id in answers}
        with psycopg.connect(own_postgres.url) as db:
            def stored():
                return {key for (key,) in db.execute(
                    "SELECT key FROM records_record WHERE collection_id = %s", [coll_id])}
            wait_for(lambda: sent <= stored(), timeout=30, interval=0.2)
        print(f"PostgreSQL restarted: no 5xx after, all records visible "
              f"{time.monotonic() - back:.1f} s after it was back")
    finally:
        stack.stop()


def org_made(database_url: str) -> OrgKeys:
    made = subprocess.run([sys.executable, "manage.py", "create_org", "restarted", "--json"],
                          cwd=ROOT, env=process_env(database_url), check=True,
                          capture_output=True, text=True)
    keys = json.loads(made.stdout)
    return OrgKeys(keys["org"], keys["secretKey"], keys["writeKey"])
