"""Ids made by many processes at once never collide: each process leases a node id of its own,
from Redis and a lock file, or from a lock file alone without Redis."""

import fcntl
import logging
import os
import secrets
import subprocess
import sys
import time
from array import array
from pathlib import Path

import pytest
import redis

from apps.core import ids
from tests.live import ROOT, free_port

COUNT = 20_000
LEASE = 3.0  # seconds: renewed after 1, used for 2.25 without renewal


def node_of(made: int) -> int:
    return made >> ids.SEQUENCE_BITS & ((1 << ids.NODE_BITS) - 1)


def unique_prefix() -> str:
    """A Redis key prefix of one test: other test runs may share the Redis database."""
    return f"ids{os.getpid()}-{secrets.token_hex(4)}:"


def made_by_processes(out: Path, makers: int, forks: int, spawns: int,
                      **env: str) -> list[array]:
    """Each process's ids, from `makers` fresh interpreters that each also start `forks` forked
    and `spawns` spawned children, all making ids in the same milliseconds."""
    environment = dict(os.environ, DJANGO_SETTINGS_MODULE="config.settings.test",
                       SLUICE_BROKER_PREFIX=unique_prefix(), **env)
    start_at = str(time.time() + 5)
    makers_run = [subprocess.Popen(
        [sys.executable, "-m", "tests.core.make_ids", str(out), str(COUNT), start_at,
         str(forks), str(spawns)], cwd=ROOT, env=environment) for _ in range(makers)]
    assert [maker.wait(timeout=180) for maker in makers_run] == [0] * makers
    return [array("q", path.read_bytes()) for path in sorted(out.glob("*.ids"))]


def assert_unique(made: list[array], processes: int, makers: int) -> None:
    assert len(made) == processes
    for one in made:
        assert list(one) == sorted(set(one))  # increasing within each process
    every = [each for one in made for each in one]
    assert len(set(every)) == len(every) == processes * COUNT + makers  # and one id before forking
    nodes = [{node_of(each) for each in one} for one in made]
    assert sum(map(len, nodes)) == len(set().union(*nodes))  # no node id in two processes


@pytest.fixture
def prefix(settings):
    """Lease keys of this test only."""
    own = unique_prefix()
    settings.REDIS_TRANSPORT_OPTIONS = {**settings.REDIS_TRANSPORT_OPTIONS, "global_keyprefix": own}
    return own


@pytest.fixture
def client(settings):
    return redis.Redis.from_url(settings.REDIS_URL, decode_responses=True)


@pytest.mark.parametrize("redis_url", [None, ""], ids=["with Redis", "without Redis"])
def test_ids_made_by_forked_and_spawned_processes_at_once_never_collide(tmp_path, redis_url):
    env = {} if redis_url is None else {"REDIS_URL": redis_url}
    # two interpreters, each with two forked children and one spawned: 8 processes
    made = made_by_processes(tmp_path, makers=2, forks=2, spawns=1, **env)
    assert_unique(made, processes=8, makers=2)


def test_processes_given_the_same_node_id_do_not_collide(tmp_path):
    # SLUICE_NODE_ID used to fix the node id of every process it was given to; it is ignored now
    made = made_by_processes(tmp_path, makers=2, forks=0, spawns=0, SLUICE_NODE_ID="7")
    assert_unique(made, processes=2, makers=2)


def test_a_lease_is_renewed_while_used_and_replaced_when_lost(prefix, client, caplog):
    generator = ids.IdGenerator(lease_seconds=LEASE)
    made = [generator.next()]
    node = node_of(made[0])
    key = f"{prefix}sluice:node:{node}"
    owner = client.get(key)
    assert owner and 0 < client.pttl(key) <= LEASE * 1000
    for _ in range(6):  # for longer than the lease: renewed as ids are made
        time.sleep(0.6)
        made.append(generator.next())
    assert {node_of(each) for each in made} == {node} and client.get(key) == owner

    client.set(key, "another process", ex=60)  # taken while this process did not look
    time.sleep(LEASE / 3 + 0.1)
    with caplog.at_level(logging.WARNING, logger="apps.core.ids"):
        made.append(generator.next())
    assert "no longer this process's" in caplog.text
    assert node_of(made[-1]) != node and client.get(key) == "another process"
    node = node_of(made[-1])
    key = f"{prefix}sluice:node:{node}"
    assert client.get(key) not in (None, owner, "another process")

    time.sleep(LEASE + 0.1)  # stopped past its lease: its key lapsed and was leased again
    assert client.get(key) is None
    client.set(key, "a process that leased it meanwhile", ex=60)
    made.append(generator.next())
    assert node_of(made[-1]) != node and made == sorted(set(made))


def test_without_redis_a_lock_file_holds_the_node_id_until_redis_answers(
        settings, prefix, client, caplog):
    reachable, settings.REDIS_URL = settings.REDIS_URL, f"redis://127.0.0.1:{free_port()}/0"
    generator = ids.IdGenerator(lease_seconds=LEASE)
    with caplog.at_level(logging.WARNING, logger="apps.core.ids"):
        first = generator.next()
    assert "Redis cannot be reached" in caplog.text
    node = node_of(first)
    lock = os.open(Path(settings.NODE_LOCK_DIR, f"{node}.lock"), os.O_RDWR)
    try:  # no other process of this host can take the node id
        with pytest.raises(BlockingIOError):
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    finally:
        os.close(lock)

    settings.REDIS_URL = reachable
    time.sleep(LEASE / 12 + 0.1)  # when Redis is retried
    later = generator.next()
    assert later > first and node_of(later) == node
    assert client.get(f"{prefix}sluice:node:{node}") is not None


def test_when_every_node_id_is_leased_making_an_id_says_so(prefix, client):
    keys = [f"{prefix}sluice:node:{node}" for node in range(ids.NODES)]
    client.mset(dict.fromkeys(keys, "elsewhere"))
    try:
        with pytest.raises(ids.NodeIdsExhausted, match="All 1024 node ids are held"):
            ids.IdGenerator(lease_seconds=LEASE).next()
    finally:
        client.delete(*keys)
