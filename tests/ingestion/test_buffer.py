"""The ingestion buffer's protocol on a real Redis, without workers: what a drain takes stays
in its claim until stored, one drain at a time holds a shard, and whatever a drain held and did
not store goes back to the head of the buffer, in order."""

import threading
import time
import uuid
from datetime import datetime

import orjson
import pytest
import redis
from django.conf import settings as django_settings

from apps.ingestion import buffer


@pytest.fixture
def keys(settings):
    """The buffer's keys, under a prefix of this test's own."""
    prefix = f"test-buffer-{uuid.uuid4()}:"
    settings.REDIS_TRANSPORT_OPTIONS = {**django_settings.REDIS_TRANSPORT_OPTIONS,
                                        "global_keyprefix": prefix}
    client = redis.Redis.from_url(django_settings.REDIS_URL)
    yield client
    for key in client.scan_iter(f"{prefix}*"):
        client.delete(key)


def message(n: int) -> buffer.Message:
    return [{"received_at": "2026-01-01T00:00:00+00:00", "n": n}]


def numbers(messages) -> list[int]:
    return [batch["n"] for m in messages for batch in m]


def pushed(*ns: int) -> list[tuple[int, str]]:
    scheduled: list[tuple[int, str]] = []
    for n in ns:
        buffer.push(message(n), lambda shard, drain_id: scheduled.append((shard, drain_id)))
    return scheduled


def test_the_first_request_gives_the_shard_to_one_drain_which_takes_in_order(keys):
    [(shard, drain_id)] = pushed(1, 2, 3)
    with buffer.Drain(shard, drain_id) as hold:
        assert hold.adopt()
        assert numbers(hold.next(1, 0)) == [1, 2, 3]
        assert numbers(hold.claimed()) == [1, 2, 3]
        hold.stored()
        assert hold.claimed() == []
        assert hold.next(0.2, 0) == []
        assert hold.finish()
    assert pushed(4) != [], "a finished drain gave the shard back: the next request schedules"


def test_a_message_that_arrives_while_a_drain_waits_is_taken(keys):
    [(shard, drain_id)] = pushed(1)
    with buffer.Drain(shard, drain_id) as hold:
        assert hold.adopt()
        hold.next(1, 0)
        hold.stored()
        later = threading.Timer(0.2, lambda: pushed(2, 3))
        later.start()
        assert numbers(hold.next(2, 0.1)) == [2, 3]
        later.join()
        assert numbers(hold.claimed()) == [2, 3]


def test_another_drain_cannot_take_a_held_shard_and_gives_back_what_it_held(keys):
    [(shard, holder)] = pushed(1)
    with buffer.Drain(shard, holder) as hold:
        assert hold.adopt()
        late = buffer.Drain(shard, "late-delivery")
        keys.rpush(late.claim, orjson.dumps(message(0)))
        assert not late.adopt()
        assert numbers(hold.next(1, 0)) == [0, 1]


def test_a_lost_lease_gives_back_what_the_drain_held(keys):
    [(shard, drain_id)] = pushed(1, 2)
    with buffer.Drain(shard, drain_id) as hold:
        assert hold.adopt()
        hold.next(1, 0)
        keys.delete(hold.lease)
        pushed(3)  # a new drain holds the shard now
        assert hold.next(1, 0) is None
        assert hold.claimed() == []
        assert numbers(orjson.loads(m) for m in keys.lrange(hold.buffer, 0, -1)) == [
            1, 2, 3]


def test_a_hand_over_passes_the_lease_and_what_is_not_stored(keys):
    [(shard, drain_id)] = pushed(1, 2)
    with buffer.Drain(shard, drain_id) as hold:
        assert hold.adopt()
        hold.next(1, 0)
        successor = hold.hand_over()
    assert keys.get(hold.lease).decode() == successor
    with buffer.Drain(shard, successor) as after:
        assert after.adopt()
        assert numbers(after.next(1, 0)) == [1, 2]


def test_what_a_dead_drain_held_is_resumed_once_its_lease_ends(keys):
    [(shard, drain_id)] = pushed(1, 2)
    dead = buffer.Drain(shard, drain_id)
    assert dead.adopt()
    dead.take()  # then it died: no renewal, no store
    scheduled: list[tuple[int, str]] = []
    assert buffer.resume(lambda *drain: scheduled.append(drain)) == 0  # its lease holds yet
    assert scheduled == []
    keys.delete(dead.lease)  # what LEASE_SECONDS without renewal does
    assert buffer.resume(lambda *drain: scheduled.append(drain)) == 2  # messages back
    [(_, successor)] = scheduled
    with buffer.Drain(shard, successor) as hold:
        assert hold.adopt()
        assert numbers(hold.next(1, 0)) == [1, 2]


def test_a_running_drain_keeps_its_lease(keys, monkeypatch):
    monkeypatch.setattr(buffer, "RENEW_SECONDS", 0.05)
    [(shard, drain_id)] = pushed(1)
    with buffer.Drain(shard, drain_id) as hold:
        assert hold.adopt()
        keys.expire(hold.lease, 1)
        time.sleep(0.3)
        assert keys.ttl(hold.lease) > 1


def test_the_state_operators_see(keys):
    pushed(1, 2)
    [shard] = buffer.waiting(datetime.fromisoformat("2026-01-01T00:00:10+00:00"))
    assert shard == {"shard": 0, "waiting": 2, "draining": True, "oldestSeconds": 10.0}
