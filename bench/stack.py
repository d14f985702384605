"""A Sluice stack of its own for benchmarks: a fresh PostgreSQL database, a Redis database,
gunicorn and one Celery worker, all on 127.0.0.1."""

import http.client
import os
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
DATABASE = "sluice_bench"
DATABASE_URL = ADMIN_URL.rsplit("/", 1)[0] + f"/{DATABASE}"
BROKER_URL = "redis://127.0.0.1:6379/13"
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
        """A lean keep-alive client for load: on a small machine the load generator shares
        the CPU with the stack, and httpx costs about three times what http.client does."""
        host, port = self.url.removeprefix("http://").split(":")
        return Poster(http.client.HTTPConnection(host, int(port)), f"/v1/{self.org}",
                      {"Authorization": f"ApiKey {self.write_key}",
                       "Content-Type": "application/json"})

    def client(self, secret: bool = False) -> httpx.Client:
        key = self.secret_key if secret else self.write_key
        return httpx.Client(base_url=f"{self.url}/v1/{self.org}", timeout=30,
                            headers={"Authorization": f"ApiKey {key}"})


@dataclass
class Poster:
    connection: http.client.HTTPConnection
    prefix: str
    headers: dict[str, str]

    def post(self, path: str, body: Any) -> tuple[int, bytes]:
        self.connection.request("POST", self.prefix + path, body=orjson.dumps(body),
                                headers=self.headers)
        answer = self.connection.getresponse()
        return answer.status, answer.read()


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
    from apps.orgs.services import org_create
    from apps.sources.services import source_create
    from tests.fixtures import schema

    created = org_create(slug="bench")
    source = source_create(org=created.org, name="web", type="web")
    collections = {}
    for name in names:
        collection = collection_create(org=created.org, source=source, name=name,
                                       schema=schema("flight-booking"))
        identifier_create(collection=collection, type="primary", name="eventId", schema={
            "type": "record", "name": "eventId",
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


def peak_memory_mb(process: LiveProcess) -> float:
    """The summed peak resident memory (VmHWM) of a process and its children, in MB."""
    assert process.proc is not None
    pids = [process.proc.pid]
    children = subprocess.run(["pgrep", "-P", str(process.proc.pid)], capture_output=True,
                              text=True).stdout.split()
    pids += [int(pid) for pid in children]
    total_kb = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    total_kb += int(line.split()[1])
        except FileNotFoundError:
            continue
    return total_kb / 1024
