"""A Sluice stack of its own for benchmarks: a fresh PostgreSQL database, a Redis database,
the web side as production serves it (scripts/serve.sh: nginx before gunicorn) and one Celery
worker, all on 127.0.0.1."""

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import django
import httpx
import orjson
import psycopg
import redis

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")

from tests.live import LiveProcess, start_server, start_worker  # noqa: E402

ADMIN_URL = os.environ.get("BENCH_ADMIN_URL", "postgres://postgres@127.0.0.1:5432/postgres")
# BENCH_DATABASE and BENCH_REDIS_URL let benchmarks of two checkouts run at once, apart
DATABASE = os.environ.get("BENCH_DATABASE", "sluice_bench")
DATABASE_URL = ADMIN_URL.rsplit("/", 1)[0] + f"/{DATABASE}"
BROKER_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")
LOGS = ROOT / "var" / "bench-logs"


@dataclass
class Stack:
    url: str
    server: LiveProcess
    worker: LiveProcess
    org: str
    write_key: str
    collections: dict[str, int]
    secret_key: str = ""
    org_id: int = 0

    def poster(self) -> "Poster":
        """A lean keep-alive client for load (see Poster)."""
        host, port = self.url.removeprefix("http://").split(":")
        return Poster((host, int(port)), f"/v1/{self.org}", self.write_key)

    def client(self, secret: bool = False) -> httpx.Client:
        key = self.secret_key if secret else self.write_key
        return httpx.Client(base_url=f"{self.url}/v1/{self.org}", timeout=30,
                            headers={"Authorization": f"ApiKey {key}"})


class Poster:
    """HTTP/1.1 POSTs on one keep-alive connection, at about a tenth of http.client's CPU.

    On a small machine the load generator shares the CPU with the stack it measures: with
    http.client, eight clients spent 0.6 ms of CPU per request and capped the load they could
    make at less than the stack could take. Answers must carry a Content-Length (Sluice's do).
    """

    def __init__(self, address: tuple[str, int], prefix: str, key: str) -> None:
        self.address, self.prefix = address, prefix
        self.head = (f"Host: {address[0]}\r\nAuthorization: ApiKey {key}\r\n"
                     "Content-Type: application/json\r\n").encode()
        self.sock: socket.socket | None = None
        self.pending = b""

    def post(self, path: str, body: Any) -> tuple[int, bytes]:
        data = orjson.dumps(body)
        request = (f"POST {self.prefix}{path} HTTP/1.1\r\n".encode() + self.head
                   + b"Content-Length: %d\r\n\r\n" % len(data) + data)
        try:
            return self._exchange(request)
        except ConnectionError:  # the server closed an idle connection: once more, anew
            self.sock = None
            return self._exchange(request)

    def _exchange(self, request: bytes) -> tuple[int, bytes]:
        if self.sock is None:
            self.sock = socket.create_connection(self.address)
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.pending = b""
        self.sock.sendall(request)
        while (end := self.pending.find(b"\r\n\r\n")) < 0:
            self._receive()
        head = self.pending[:end].decode("latin-1").lower()
        length = int(head.split("content-length:", 1)[1].split("\r\n", 1)[0])
        while len(self.pending) < end + 4 + length:
            self._receive()
        answer = self.pending[end + 4:end + 4 + length]
        self.pending = self.pending[end + 4 + length:]
        return int(head[9:12]), answer

    def _receive(self) -> None:
        assert self.sock is not None
        chunk = self.sock.recv(65536)
        if not chunk:
            self.sock.close()
            raise ConnectionError("the server closed the connection")
        self.pending += chunk


def _fresh_database() -> None:
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {DATABASE}")
    env = {**os.environ, "DATABASE_URL": DATABASE_URL}
    subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env,
                   check=True)


def _flight_collections(names: list[str]) -> tuple[Any, dict[str, int]]:
    """An org with copies of the seed's flight-booking collection keyed by eventId."""
    os.environ["DATABASE_URL"] = DATABASE_URL
    django.setup()
    from apps.catalog.services import collection_create, identifier_create
    from apps.core.actors import Actor
    from apps.orgs.services import org_create
    from apps.sources.services import source_create
    from tests.fixtures import schema

    actor = Actor.system("bench")
    created = org_create(actor=actor, slug="bench")
    source = source_create(actor=actor, org=created.org, name="web", type="web")
    collections = {}
    for name in names:
        collection = collection_create(actor=actor, org=created.org, source=source, name=name,
                                       schema=schema("flight-booking"))
        identifier_create(actor=actor, collection=collection, type="primary", name="eventId",
                          schema={"type": "record", "name": "eventId",
                                  "fields": [{"name": "eventId", "type": "string"}]})
        collections[name] = collection.id
    return created, collections


@contextmanager
def running_stack(collections: list[str]) -> Iterator[Stack]:
    _fresh_database()
    redis.Redis.from_url(BROKER_URL).flushdb()
    created, ids = _flight_collections([*collections, "warmup"])
    env = {"REDIS_URL": BROKER_URL, "LOG_LEVEL": "WARNING"}
    server, url = start_server(DATABASE_URL, LOGS / "server.log", **env)
    worker = start_worker(DATABASE_URL, LOGS / "worker.log", **env)
    try:
        stack = Stack(url, server, worker, created.org.slug, created.write_key, ids,
                      created.secret_key, created.org.id)
        _until_running(stack)
        yield stack
    finally:
        worker.stop()
        server.stop()


def _until_running(stack: Stack) -> None:
    """Waits until a record sent is stored: the worker has started, so measures that follow
    are of a running stack, not of its start-up."""
    from tests.fixtures import record

    status, answer = stack.poster().post(f"/collections/{stack.collections['warmup']}/data",
                                         {**record("flight-booking"), "eventId": "warm-up"})
    assert status == 202, answer
    with psycopg.connect(DATABASE_URL) as conn:
        deadline = time.monotonic() + 120
        while not stored_count(conn, stack.collections["warmup"]):
            if time.monotonic() > deadline:
                raise RuntimeError(f"the bench worker stored nothing; see {LOGS / 'worker.log'}")
            time.sleep(0.1)


def stored_count(conn: psycopg.Connection, collection_id: int) -> int:
    row = conn.execute("SELECT count(*) FROM records_record WHERE collection_id = %s",
                       (collection_id,)).fetchone()
    return int(row[0]) if row else 0


def _descendants(pid: int) -> list[int]:
    children = [int(child) for child in subprocess.run(
        ["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()]
    return [pid for child in children for pid in [child, *_descendants(child)]]


def peak_memory_mb(process: LiveProcess) -> float:
    """The summed peak resident memory (VmHWM) of a process and all its descendants, in MB."""
    assert process.proc is not None
    total_kb = 0
    for pid in [process.proc.pid, *_descendants(process.proc.pid)]:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    total_kb += int(line.split()[1])
        except FileNotFoundError:
            continue
    return total_kb / 1024
