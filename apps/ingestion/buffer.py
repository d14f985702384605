"""The ingestion buffer: where accepted batches wait for a worker, in Redis.

A request's batches are pushed, as one JSON message, onto a Redis list (one round trip), and
the request is answered only then: the buffer is as durable as Celery's own queue in the same
Redis. Workers drain the buffer many messages at a time, so that Celery's cost is paid once per
drain rather than once per request: that is what lets single-record requests reach the
database in batches.

    push ──► buffer:<shard> ──take──► claim:<drain id> ──stored──► released

Taking moves messages atomically into a claim named after the drain task. A drain task killed
mid-batch is delivered again by Celery (late acknowledgement) under the same id, and stores its
claim first: storing is idempotent, so nothing is lost and nothing is stored twice.

Each shard has a flag, set while a drain task is scheduled or running: the request that sets
it schedules the drain, and a drain gives the flag back only after seeing its shard empty.

A drain keeps a key saying it is alive while it works. A claim whose drain is no longer alive
(its task failed in a way Celery does not deliver again) goes back to the buffer when a worker
starts: what such a drain held is stored then, after a fix has been deployed for instance.
"""

import random
import time
from collections.abc import Callable
from functools import cache
from typing import Any

import orjson
import redis
from django.conf import settings

SHARDS = settings.INGEST_DRAINS  # drains that can run at once: one per shard
TAKE = 200  # messages a drain stores in one write
# A flag outlives a lost drain task by at most this long; a running drain refreshes it.
FLAG_SECONDS = 2 * settings.VISIBILITY_TIMEOUT

# LRANGE + LTRIM + RPUSH in one step: the messages are either in the buffer or in the claim.
# The flag's lifetime and the drain's alive key are renewed on the way.
_TAKE_SCRIPT = """
redis.call('EXPIRE', KEYS[3], tonumber(ARGV[2]))
redis.call('SET', KEYS[4], '1', 'EX', tonumber(ARGV[2]))
local taken = redis.call('LRANGE', KEYS[1], 0, tonumber(ARGV[1]) - 1)
if #taken > 0 then
    redis.call('LTRIM', KEYS[1], #taken, -1)
    redis.call('RPUSH', KEYS[2], unpack(taken))
end
return taken
"""
# The drain gives its flag back, unless messages arrived since it last looked.
_RELEASE_SCRIPT = """
if redis.call('LLEN', KEYS[1]) > 0 then
    redis.call('SET', KEYS[2], ARGV[1], 'EX', tonumber(ARGV[2]))
    return 0
end
redis.call('DEL', KEYS[2])
return 1
"""

# A claim whose drain is not alive goes back to the head of the buffer, in its order.
_RETURN_SCRIPT = """
if redis.call('EXISTS', KEYS[2]) == 1 then
    return 0
end
local held = redis.call('LRANGE', KEYS[1], 0, -1)
for i = #held, 1, -1 do
    redis.call('LPUSH', KEYS[3], held[i])
end
redis.call('DEL', KEYS[1])
return #held
"""

Message = list[dict[str, Any]]


@cache
def _client() -> redis.Redis:
    # Given its pool, a client never closes it: when threads race to make the client on the
    # first requests, the one dropped must not disconnect the others' connections.
    return redis.Redis(connection_pool=redis.ConnectionPool.from_url(settings.REDIS_URL))


@cache
def _script(source: str) -> Any:
    return _client().register_script(source)


def _key(*parts: object) -> str:
    return settings.REDIS_TRANSPORT_OPTIONS["global_keyprefix"] + ":".join(
        ["sluice", "ingest", *map(str, parts)])


def push(message: Message, schedule_drain: Callable[[int], None]) -> None:
    """Buffers one request's batches; schedules a drain of the shard if none is pending."""
    shard = random.randrange(SHARDS)
    with _client().pipeline(transaction=False) as pipe:
        pipe.rpush(_key("buffer", shard), orjson.dumps(message))
        pipe.set(_key("flag", shard), "1", nx=True, ex=FLAG_SECONDS)
        _, flagged = pipe.execute()
    if flagged:
        try:
            schedule_drain(shard)
        except Exception:
            _client().delete(_key("flag", shard))  # the next request schedules it
            raise


class Drain:
    """One drain task's hold on a shard: the messages it took and has not stored yet."""

    def __init__(self, shard: int, drain_id: str) -> None:
        self.shard = shard
        self.claim, self.alive = _key("claim", drain_id), _key("alive", drain_id)

    def claimed(self) -> list[Message]:
        """What an earlier delivery of this drain took and may not have stored. Renews the
        flag: a drain retried while the database is away still holds its shard."""
        with _client().pipeline(transaction=False) as pipe:
            pipe.expire(_key("flag", self.shard), FLAG_SECONDS)
            pipe.set(self.alive, "1", ex=FLAG_SECONDS)
            pipe.lrange(self.claim, 0, -1)
            _, _, claimed = pipe.execute()
        return [orjson.loads(item) for item in claimed]

    def take(self) -> list[Message]:
        """Moves up to TAKE messages from the shard into the claim; keeps the flag alive."""
        keys = [_key("buffer", self.shard), self.claim, _key("flag", self.shard), self.alive]
        taken = _script(_TAKE_SCRIPT)(keys=keys, args=[TAKE, FLAG_SECONDS])
        return [orjson.loads(item) for item in taken]

    def wait(self, seconds: float, gather: float) -> list[Message]:
        """Waits up to `seconds` for a message; then, `gather` seconds later, takes it with
        those that came meanwhile (a trickle of requests makes fewer, larger writes)."""
        first = _client().blmove(_key("buffer", self.shard), self.claim, seconds,
                                 "LEFT", "RIGHT")
        if first is None:
            return []
        time.sleep(gather)
        return [orjson.loads(first), *self.take()]

    def stored(self) -> None:
        _client().delete(self.claim)

    def finish(self) -> bool:
        """Gives the shard's flag back if the shard is empty; False if there is more."""
        keys = [_key("buffer", self.shard), _key("flag", self.shard)]
        return bool(_script(_RELEASE_SCRIPT)(keys=keys, args=["1", FLAG_SECONDS]))


def reachable() -> bool:
    try:
        return bool(_client().ping())
    except redis.RedisError:
        return False


def claims_returned() -> int:
    """Puts back in the buffer what drains that are no longer alive held: answers how many
    requests' batches."""
    returned = 0
    for claim in _client().scan_iter(_key("claim", "*")):
        drain_id = claim.decode().rsplit(":", 1)[1]
        keys = [claim, _key("alive", drain_id), _key("buffer", random.randrange(SHARDS))]
        returned += int(_script(_RETURN_SCRIPT)(keys=keys))
    return returned


def schedule_waiting(schedule_drain: Callable[[int], None]) -> None:
    """Schedules a drain of every shard that holds messages and has no flag."""
    for shard in range(SHARDS):
        if _client().llen(_key("buffer", shard)) and _client().set(
                _key("flag", shard), "1", nx=True, ex=FLAG_SECONDS):
            schedule_drain(shard)

