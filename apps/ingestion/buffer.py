"""The ingestion buffer: where accepted batches wait for a worker, in Redis.

A request's batches are pushed, as one JSON message, onto a shard's list (one round trip), and
the request is answered only then: the buffer is as durable as Celery's own queue in the same
Redis. Drain tasks store the buffer many messages at a time, so that Celery's cost is paid once
per drain rather than once per request: that is what lets single-record requests reach the
database in batches.

    push ──► buffer:<shard> ──take──► claim:<drain id> ──stored──► released

Leases. One drain at a time drains a shard: the one its lease names. A request that finds a
shard without a lease gives it to a new drain and schedules that drain. A running drain renews
its lease every second (a thread beside it) and hands it to a successor before Celery would
deliver it again; a lease nobody renews ends after LEASE_SECONDS, so a dead drain, or one that
was never delivered, holds nothing for long.

Claims. A drain takes messages into a claim of its own, atomically, and they leave it only once
stored. A claim whose drain does not hold its shard's lease goes back to the head of the buffer,
in its order.

Resumption. Every worker looks at the buffer every few seconds (`resume`): claims of drains that
lost their lease go back, and a shard with waiting messages and no lease gets a new drain. So
whatever failed (a drain, a worker, Redis, the database), records flow again within seconds of
it being back, with no restart and no new request. Storing is idempotent (the merge by key): a
message that a drain stored after it lost its lease, and another drain stores again, changes
nothing.
"""

import contextlib
import logging
import random
import threading
import time
import uuid
from collections.abc import Callable
from datetime import datetime
from functools import cache
from typing import Any

import orjson
import redis
from django.conf import settings

SHARDS = settings.INGEST_DRAINS  # drains that can run at once: one per shard
TAKE = 200  # messages a drain stores in one write
LEASE_SECONDS = 6  # how long a drain that stopped renewing its lease keeps its shard
RENEW_SECONDS = 1.0
logger = logging.getLogger("sluice.ingestion")

# KEYS: claim, buffer, drains. What the claim holds goes back to the head of the buffer, in order.
_GIVE_BACK = """
local function give_back(claim, buffer, drains, drain_id)
    local held = redis.call('LRANGE', claim, 0, -1)
    for i = #held, 1, -1 do
        redis.call('LPUSH', buffer, held[i])
    end
    redis.call('DEL', claim)
    redis.call('HDEL', drains, drain_id)
    return #held
end
"""
# KEYS: claim, buffer, drains, lease. ARGV: drain id, lease seconds, shard. A drain takes a
# shard whose lease is its own or nobody's; otherwise what it held goes to the holder.
_ADOPT_SCRIPT = _GIVE_BACK + """
local holder = redis.call('GET', KEYS[4])
if holder and holder ~= ARGV[1] then
    give_back(KEYS[1], KEYS[2], KEYS[3], ARGV[1])
    return 0
end
redis.call('SET', KEYS[4], ARGV[1], 'EX', tonumber(ARGV[2]))
redis.call('HSET', KEYS[3], ARGV[1], ARGV[3])
return 1
"""
# KEYS: lease. ARGV: drain id, lease seconds.
_RENEW_SCRIPT = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
    return redis.call('EXPIRE', KEYS[1], tonumber(ARGV[2]))
end
return 0
"""
# KEYS: claim, buffer, drains, lease. ARGV: drain id, how many. LRANGE + LTRIM + RPUSH in one
# step: the messages are either in the buffer or in the claim. Nil once the lease is lost:
# what the claim holds then goes back.
_TAKE_SCRIPT = _GIVE_BACK + """
if redis.call('GET', KEYS[4]) ~= ARGV[1] then
    give_back(KEYS[1], KEYS[2], KEYS[3], ARGV[1])
    return false
end
local taken = redis.call('LRANGE', KEYS[2], 0, tonumber(ARGV[2]) - 1)
if #taken > 0 then
    redis.call('LTRIM', KEYS[2], #taken, -1)
    redis.call('RPUSH', KEYS[1], unpack(taken))
end
return taken
"""
# KEYS: claim, buffer, drains, lease. ARGV: drain id, shard. The drain gives its lease back,
# unless messages arrived since it last looked (what it holds is stored by then: should
# anything be left, it goes back first rather than be held by no one).
_FINISH_SCRIPT = _GIVE_BACK + """
give_back(KEYS[1], KEYS[2], KEYS[3], ARGV[1])
local mine = redis.call('GET', KEYS[4]) == ARGV[1]
if mine and redis.call('LLEN', KEYS[2]) > 0 then
    redis.call('HSET', KEYS[3], ARGV[1], ARGV[2])
    return 0
end
if mine then
    redis.call('DEL', KEYS[4])
end
return 1
"""
# KEYS: claim, buffer, drains, lease. ARGV: drain id, successor id, lease seconds. What is not
# stored goes back; the lease passes to the successor (1), unless it was lost already (0).
_HAND_OVER_SCRIPT = _GIVE_BACK + """
give_back(KEYS[1], KEYS[2], KEYS[3], ARGV[1])
if redis.call('GET', KEYS[4]) ~= ARGV[1] then
    return 0
end
redis.call('SET', KEYS[4], ARGV[2], 'EX', tonumber(ARGV[3]))
return 1
"""
# KEYS: claim, buffer, drains, lease. ARGV: drain id. A claim goes back unless its drain
# holds the lease: answers how many messages went back.
_RETURN_SCRIPT = _GIVE_BACK + """
if redis.call('GET', KEYS[4]) == ARGV[1] then
    return 0
end
return give_back(KEYS[1], KEYS[2], KEYS[3], ARGV[1])
"""

Message = list[dict[str, Any]]
ScheduleDrain = Callable[[int, str], None]  # (shard, drain id): the drain task is sent


@cache
def _client() -> redis.Redis:
    # Given its pool, a client never closes it: when threads race to make the client on the
    # first requests, the one dropped must not disconnect the others' connections.
    pool = redis.ConnectionPool.from_url(settings.REDIS_URL, socket_connect_timeout=5)
    return redis.Redis(connection_pool=pool)


@cache
def _script(source: str) -> Any:
    return _client().register_script(source)


def _key(*parts: object) -> str:
    prefix = str(settings.REDIS_TRANSPORT_OPTIONS["global_keyprefix"])
    return prefix + ":".join(["sluice", "ingest", *map(str, parts)])


def new_drain_id() -> str:
    return str(uuid.uuid4())


def push(message: Message, schedule_drain: ScheduleDrain) -> None:
    """Buffers one request's batches; gives the shard to a new drain if none holds it."""
    shard, drain_id = random.randrange(SHARDS), new_drain_id()
    with _client().pipeline(transaction=False) as pipe:
        pipe.rpush(_key("buffer", shard), orjson.dumps(message))
        pipe.set(_key("lease", shard), drain_id, nx=True, ex=LEASE_SECONDS)
        _, leased = pipe.execute()
    if leased:
        try:
            schedule_drain(shard, drain_id)
        except Exception:  # buffered all the same: the lease ends, and a worker resumes it
            logger.warning("a drain of shard %d could not be scheduled; workers will resume "
                           "it", shard, exc_info=True)


class Drain:
    """One drain task's hold on a shard: its lease, and the messages it took and has not
    stored yet. Used as a context: while inside, a thread renews the lease."""

    def __init__(self, shard: int, drain_id: str) -> None:
        self.shard, self.drain_id = shard, drain_id
        self.claim = _key("claim", drain_id)
        self.buffer, self.lease = _key("buffer", shard), _key("lease", shard)
        self._done = threading.Event()
        self._renewer = threading.Thread(target=self._renew, daemon=True,
                                         name=f"lease-{drain_id}")

    def __enter__(self) -> "Drain":
        self._renewer.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._done.set()
        self._renewer.join()

    def _renew(self) -> None:
        while not self._done.wait(RENEW_SECONDS):
            # Redis away: the lease ends, and a worker resumes the shard once it is back
            with contextlib.suppress(redis.RedisError):
                _script(_RENEW_SCRIPT)(keys=[self.lease], args=[self.drain_id, LEASE_SECONDS])

    def _keys(self) -> list[str]:
        return [self.claim, self.buffer, _key("drains"), self.lease]

    def adopt(self) -> bool:
        """Takes the shard's lease if it is free or this drain's; False if another drain
        holds it (what this drain held then goes back to the buffer, for that one)."""
        args = [self.drain_id, LEASE_SECONDS, self.shard]
        return bool(_script(_ADOPT_SCRIPT)(keys=self._keys(), args=args))

    def claimed(self) -> list[Message]:
        """What an earlier delivery of this drain took and may not have stored."""
        return [orjson.loads(item) for item in _client().lrange(self.claim, 0, -1)]

    def take(self) -> list[Message] | None:
        """Moves up to TAKE messages from the shard into the claim; None once the lease is
        lost (what the claim held has gone back to the buffer)."""
        taken = _script(_TAKE_SCRIPT)(keys=self._keys(), args=[self.drain_id, TAKE])
        return None if taken is None else [orjson.loads(item) for item in taken]

    def next(self, seconds: float, gather: float) -> list[Message] | None:
        """What is waiting; else waits up to `seconds` for a message, then, `gather` seconds
        later, takes it with those that came meanwhile (a trickle of requests makes fewer,
        larger writes). None once the lease is lost."""
        taken = self.take()
        if taken or taken is None or seconds <= 0.01:
            return taken
        first = _client().blmove(self.buffer, self.claim, seconds,  # type: ignore[arg-type]
                                 "LEFT", "RIGHT")  # Redis takes fractions of a second
        if first is None:
            return []
        time.sleep(gather)
        more = self.take()
        return None if more is None else [orjson.loads(first), *more]

    def stored(self) -> None:
        _client().delete(self.claim)

    def finish(self) -> bool:
        """Gives the lease back if the shard is empty; False if there is more to drain."""
        args = [self.drain_id, self.shard]
        return bool(_script(_FINISH_SCRIPT)(keys=self._keys(), args=args))

    def hand_over(self) -> str | None:
        """Puts back what is not stored and passes the lease to a successor: its id, or None
        if the lease was lost already."""
        successor = new_drain_id()
        args = [self.drain_id, successor, LEASE_SECONDS]
        return successor if _script(_HAND_OVER_SCRIPT)(keys=self._keys(), args=args) else None


def _drains() -> dict[str, int]:
    """The drains that may hold a claim, and their shards."""
    drains: dict[bytes, bytes] = _client().hgetall(_key("drains"))  # type: ignore[assignment]
    return {drain_id.decode(): int(shard) for drain_id, shard in drains.items()}


def resume(schedule_drain: ScheduleDrain) -> int:
    """Puts back in the buffer what drains that lost their lease held, and gives each shard
    with waiting messages and no lease to a new drain: answers how many requests' batches
    went back."""
    returned = 0
    for drain_id, shard in _drains().items():
        # a shard beyond SHARDS (their number was lowered) hands its claims to one that is
        keys = [_key("claim", drain_id), _key("buffer", shard % SHARDS), _key("drains"),
                _key("lease", shard)]
        returned += int(_script(_RETURN_SCRIPT)(keys=keys, args=[drain_id]))
    for shard in range(SHARDS):
        new_drain = new_drain_id()
        if _client().llen(_key("buffer", shard)) and _client().set(
                _key("lease", shard), new_drain, nx=True, ex=LEASE_SECONDS):
            schedule_drain(shard, new_drain)
    return returned


# ---------------------------------------------------------------------------
# What operators see: reachability, the eviction policy, and what waits
# ---------------------------------------------------------------------------
def reachable() -> bool:
    try:
        return bool(_client().ping())
    except redis.RedisError:
        return False


def eviction_policy() -> str | None:
    """Redis's maxmemory-policy (read from INFO, which managed Redis services also answer);
    None if Redis cannot be reached."""
    try:
        return str(_client().info("memory").get("maxmemory_policy"))
    except redis.RedisError:
        return None


def _received(message: bytes | None) -> datetime | None:
    if message is None:
        return None
    return min(datetime.fromisoformat(batch["received_at"]) for batch in orjson.loads(message))


def waiting(now: datetime) -> list[dict[str, Any]]:
    """Per shard: requests' batches waiting (in the buffer or claimed and not yet stored),
    the age of the oldest in seconds, and whether a drain holds the shard."""
    drains = _drains()
    with _client().pipeline(transaction=False) as pipe:
        for shard in range(SHARDS):
            pipe.llen(_key("buffer", shard))
            pipe.lindex(_key("buffer", shard), 0)
            pipe.exists(_key("lease", shard))
        for drain_id in drains:
            pipe.llen(_key("claim", drain_id))
            pipe.lindex(_key("claim", drain_id), 0)
        answers = pipe.execute()
    shards = [{"count": answers[3 * s], "oldest": [_received(answers[3 * s + 1])],
               "draining": bool(answers[3 * s + 2])} for s in range(SHARDS)]
    claims = answers[3 * SHARDS:]
    for index, shard in enumerate(drains.values()):
        shards[shard % SHARDS]["count"] += claims[2 * index]
        shards[shard % SHARDS]["oldest"].append(_received(claims[2 * index + 1]))
    return [{"shard": shard, "waiting": state["count"], "draining": state["draining"],
             "oldestSeconds": _age(now, state["oldest"])} for shard, state in enumerate(shards)]


def _age(now: datetime, times: list[datetime | None]) -> float | None:
    known = [moment for moment in times if moment is not None]
    return round((now - min(known)).total_seconds(), 3) if known else None
