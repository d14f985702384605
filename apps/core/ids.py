"""64-bit time-ordered ids: 41 bits of milliseconds since 2024-01-01, 10 bits of node, 12 of
sequence. They sort by creation time and travel in JSON as strings.

No two live processes make ids from the same node id; each leases one of its own:
- a lock file per node id (`flock`, which the kernel drops when the process dies) keeps the
  processes of one host apart;
- with Redis, a key per node id (`SET NX` with a time to live, renewed while the process makes
  ids) keeps the hosts apart.
A process that lost its Redis key (it was stopped past the time to live) leases another node id.
One that cannot reach Redis makes ids from its lock file alone, unique on its host only, says so
in a warning, and takes a Redis key again as soon as Redis answers: refusing ids instead would
stop the rest of the API, which works from the database without Redis."""

import fcntl
import logging
import math
import os
import random
import secrets
import socket
import threading
import time
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import redis
from django.conf import settings
from redis.exceptions import RedisError

EPOCH_MS = 1_704_067_200_000
NODE_BITS = 10
SEQUENCE_BITS = 12
MAX_SEQUENCE = (1 << SEQUENCE_BITS) - 1
NODES = 1 << NODE_BITS
# A lease is renewed from `new_id` itself once a third of it has passed, not by a thread: a
# process that makes no ids needs no lease, a forked child has no threads of its parent's to
# clean up after, and the id path must check the lease is still held anyway (a renewing thread
# can fail silently, or be stopped with its process).
LEASE_SECONDS = 60.0
REDIS_SECONDS = 2.0  # a Redis that does not answer holds up an id this long at most

logger = logging.getLogger(__name__)

# Renews a lease only while the key still holds this process's value: another value (or none)
# means the lease lapsed and the node id may be someone else's now.
_RENEW_SCRIPT = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
    return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""


class NodeIdsExhausted(RuntimeError):
    """Every node id is held by a live process: more than 1024 processes make ids."""


@dataclass
class _Lease:
    """One node id this process holds: its lock file, and its Redis key when it has one."""

    node: int
    lock_fd: int
    owner: str | None  # the value of its Redis key; None while held on this host only
    renew_at: float = math.inf  # time.monotonic() seconds
    usable_until: float = math.inf


class IdGenerator:
    """Ids of one process, made from a node id it leases; a forked child leases its own."""

    def __init__(self, lease_seconds: float = LEASE_SECONDS) -> None:
        self._lease_ms = int(lease_seconds * 1000)
        self._renew_after = lease_seconds / 3
        # Ids stop before Redis lets the key go: whoever leases the node id next makes its ids
        # after this process's last, as long as the hosts' clocks differ by less than the rest.
        self._usable_for = lease_seconds * 3 / 4
        self._retry_after = lease_seconds / 12
        self._lock = threading.Lock()
        self._last_ms = -1
        self._sequence = 0
        self._pid = -1
        self._lease: _Lease | None = None
        # a fork while another thread held the lock would leave the child's copy held forever
        os.register_at_fork(after_in_child=self._forked)

    def _forked(self) -> None:
        self._lock = threading.Lock()

    def next(self) -> int:
        """An id greater than every id this process made before, from a node id it holds."""
        with self._lock:
            while True:
                lease = self._current_lease()
                ms, sequence = self._tick()
                # The lease must still be held after the clock was read: the process may have
                # been stopped in between, and the id is then made again from a fresh lease.
                if time.monotonic() < lease.usable_until:
                    return (ms << NODE_BITS | lease.node) << SEQUENCE_BITS | sequence

    def _tick(self) -> tuple[int, int]:
        """The millisecond and sequence of the next id, after those of the last one."""
        now = max(_now_ms(), self._last_ms)  # the clock went back: keep ids increasing
        if now == self._last_ms:
            self._sequence = (self._sequence + 1) & MAX_SEQUENCE
            while self._sequence == 0 and now <= self._last_ms:  # 4096 ids this millisecond
                now = _now_ms()
        else:
            self._sequence = 0
        self._last_ms = now
        return now - EPOCH_MS, self._sequence

    def _current_lease(self) -> _Lease:
        """The lease to make the next id from: taken, renewed or replaced as needed."""
        pid = os.getpid()
        if pid != self._pid:  # a forked worker must not share its parent's node id
            self._pid = pid
            if self._lease is not None:
                # closing the inherited descriptor, never unlocking it: the lock is the parent's
                os.close(self._lease.lock_fd)
                self._lease = None
        lease = self._lease
        if lease is None or (time.monotonic() >= lease.renew_at and not self._renewed(lease)):
            lease = self._replace()
        return lease

    def _replace(self) -> _Lease:
        """Drops the lease held, if any, for a new one; ids from it start a new millisecond, so
        they stay increasing whatever the new node id."""
        if self._lease is not None:
            os.close(self._lease.lock_fd)  # its Redis key, if still ours, lapses by itself
        self._lease = None
        self._lease = self._take()
        self._sequence = MAX_SEQUENCE
        return self._lease

    def _renewed(self, lease: _Lease) -> bool:
        """Whether the lease may still be used: its Redis key taken or renewed, or Redis away
        and the key not yet due to lapse."""
        started = time.monotonic()
        try:
            if lease.owner is None:  # held on this host only while Redis was away
                owner = _owner()
                held = _redis_claim(lease.node, owner, self._lease_ms)
                lease.owner = owner if held else None
            else:
                held = _redis_renew(lease.node, lease.owner, self._lease_ms)
                if not held:
                    logger.warning("The Redis key of node id %d is no longer this process's (it "
                                   "was stopped past its lease, or Redis lost the key); leasing "
                                   "another.", lease.node)
        except RedisError:
            # retried soon, but never later than the lease can be used without renewal
            lease.renew_at = min(started + self._retry_after, lease.usable_until)
            return lease.owner is None or started < lease.usable_until
        if held:
            self._extend(lease, started)
        return held

    def _extend(self, lease: _Lease, started: float) -> None:
        """Counts the lease from before Redis was asked, so it never seems to last longer than
        Redis keeps it."""
        lease.renew_at = started + self._renew_after
        lease.usable_until = started + self._usable_for

    def _take(self) -> _Lease:
        """A node id no other live process holds, from a random one on: unique on this host by
        its lock file, and among hosts by its Redis key unless Redis cannot be reached."""
        directory = Path(settings.NODE_LOCK_DIR)
        directory.mkdir(parents=True, exist_ok=True)
        shared = bool(settings.REDIS_URL)
        start = random.randrange(NODES)
        for node in ((start + step) % NODES for step in range(NODES)):
            fd = _locked(directory, node)
            if fd is None:
                continue
            lease = _Lease(node, fd, None)
            if not shared:
                return lease
            if self._renewed(lease):
                if lease.owner is None:
                    logger.warning("Redis cannot be reached: node id %d is held by its lock file "
                                   "in %s only, unique on this host but not among hosts, until "
                                   "Redis answers.", node, directory)
                return lease
            os.close(fd)
        raise NodeIdsExhausted(f"All {NODES} node ids are held by live processes (lock files in "
                               f"{directory}{', keys in Redis' if shared else ''}): at most "
                               f"{NODES} processes can make ids at once.")


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


def _locked(directory: Path, node: int) -> int | None:
    """The descriptor of the node id's lock file, locked by this process; None when another
    process holds it."""
    fd = os.open(directory / f"{node}.lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


def _owner() -> str:
    """A Redis key value no other lease ever has; host and pid help whoever reads it."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(8)}"


def _key(node: int) -> str:
    prefix = str(settings.REDIS_TRANSPORT_OPTIONS["global_keyprefix"])
    return f"{prefix}sluice:node:{node}"


@cache
def _client(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_timeout=REDIS_SECONDS,
                                socket_connect_timeout=REDIS_SECONDS)


@cache
def _renew_script(url: str) -> Any:
    return _client(url).register_script(_RENEW_SCRIPT)


def _redis_claim(node: int, owner: str, lease_ms: int) -> bool:
    """Whether the node id's Redis key was free and is now this lease's."""
    client = _client(settings.REDIS_URL)
    return bool(client.set(_key(node), owner, nx=True, px=lease_ms))


def _redis_renew(node: int, owner: str, lease_ms: int) -> bool:
    """Whether the node id's Redis key was still this lease's, and is now for `lease_ms` more."""
    script = _renew_script(settings.REDIS_URL)
    return bool(script(keys=[_key(node)], args=[owner, lease_ms]))


_generator = IdGenerator()


def new_id() -> int:
    """A new id, unique among live processes and greater than every id this one made before."""
    return _generator.next()


def id_at(timestamp_ms: int) -> int:
    """The smallest id that can have been made at or after this Unix time in milliseconds."""
    return max(timestamp_ms - EPOCH_MS, 0) << (NODE_BITS + SEQUENCE_BITS)


def parse_id(value: object) -> int | None:
    """An id given as a number or a string of digits, or None when it is not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 0 < value < 1 << 63 else None
    if isinstance(value, str) and value.isdigit() and len(value) <= 19:
        number = int(value)
        return number if 0 < number < 1 << 63 else None
    return None
