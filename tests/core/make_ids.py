"""Makes ids in several processes at once, for tests/core/test_ids.py:

    python -m tests.core.make_ids OUT_DIR COUNT START_AT FORKS SPAWNS

This process makes an id first (so that its forked children inherit a lease they must not use),
then starts FORKS forked and SPAWNS spawned children. Each of them, and this process, waits for
START_AT (a Unix time, so that all processes of a test make ids in the same milliseconds) and
makes COUNT ids into OUT_DIR/<pid>.ids, as 64-bit integers."""

import multiprocessing
import os
import sys
import time
from array import array
from pathlib import Path

from apps.core.ids import new_id


def write_ids(out: str, count: int, start_at: float, made: tuple[int, ...] = ()) -> None:
    time.sleep(max(0.0, start_at - time.time()))
    ids = array("q", made)
    ids.extend(new_id() for _ in range(count))
    Path(out, f"{os.getpid()}.ids").write_bytes(ids.tobytes())


def main(out: str, count: int, start_at: float, forks: int, spawns: int) -> int:
    first = new_id()
    methods = ["fork"] * forks + ["spawn"] * spawns
    children = [multiprocessing.get_context(method).Process(
        target=write_ids, args=(out, count, start_at)) for method in methods]
    for child in children:
        child.start()
    write_ids(out, count, start_at, (first,))
    for child in children:
        child.join(timeout=120)
    return 0 if all(child.exitcode == 0 for child in children) else 1


if __name__ == "__main__":
    out, count, start_at, forks, spawns = sys.argv[1:]
    sys.exit(main(out, int(count), float(start_at), int(forks), int(spawns)))
