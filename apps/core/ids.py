"""64-bit time-ordered ids: 41 bits of milliseconds since 2024-01-01, 10 bits of node, 12 of
sequence. They sort by creation time and travel in JSON as strings."""

import os
import threading
import time

from django.conf import settings

EPOCH_MS = 1_704_067_200_000
NODE_BITS = 10
SEQUENCE_BITS = 12
MAX_SEQUENCE = (1 << SEQUENCE_BITS) - 1


class _Generator:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last_ms = -1
        self._sequence = 0
        self._pid = -1
        self._node = 0

    def _node_id(self) -> int:
        pid = os.getpid()
        if pid != self._pid:  # a forked worker must not share its parent's node id
            self._pid = pid
            configured = settings.SLUICE_NODE_ID
            self._node = configured if configured >= 0 else pid
            self._node &= (1 << NODE_BITS) - 1
            self._last_ms, self._sequence = -1, 0
        return self._node

    def next(self) -> int:
        with self._lock:
            node = self._node_id()
            now = int(time.time() * 1000)
            if now < self._last_ms:  # clock went back: keep ids increasing
                now = self._last_ms
            if now == self._last_ms:
                self._sequence = (self._sequence + 1) & MAX_SEQUENCE
                if self._sequence == 0:
                    while now <= self._last_ms:
                        now = int(time.time() * 1000)
            else:
                self._sequence = 0
            self._last_ms = now
            return ((now - EPOCH_MS) << (NODE_BITS + SEQUENCE_BITS)) | (
                node << SEQUENCE_BITS
            ) | self._sequence


_generator = _Generator()


def new_id() -> int:
    """A new id, unique within this node and greater than every id it made before."""
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
