"""Live processes for tests: Sluice servers (nginx before gunicorn) and Celery workers on the
test database, and Redis and PostgreSQL servers of a test's own, to stop and start."""

import contextlib
import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import psycopg
import redis

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def process_env(database_url: str, **extra: str) -> dict[str, str]:
    """The environment of a live process: the test database, and queues of this test run
    only (other runs may share the Redis database)."""
    env = dict(os.environ)
    env.update(DJANGO_SETTINGS_MODULE="config.settings.test", DATABASE_URL=database_url,
               SLUICE_BROKER_PREFIX=f"run{os.getpid()}:", **extra)
    return env


class LiveProcess:
    """A child process of the test run, stopped (and reaped) at the end."""

    def __init__(self, args: list[str], env: dict[str, str], log: Path) -> None:
        self.args, self.env, self.log = args, env, log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> "LiveProcess":
        self.log.parent.mkdir(parents=True, exist_ok=True)
        handle = self.log.open("ab")
        self.proc = subprocess.Popen(self.args, cwd=ROOT, env=self.env, stdout=handle,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        return self

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Sends `sig` to the whole process group (a worker's children die with it)."""
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, sig)
            self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()


class Front(LiveProcess):
    """scripts/serve.sh, the production way to serve: nginx on a port, gunicorn behind it on a
    unix socket, both in an instance directory removed when the server stops."""

    def __init__(self, port: int, env: dict[str, str], log: Path) -> None:
        self.directory = Path(tempfile.mkdtemp(prefix="sluice-front-"))
        env = {**env, "SLUICE_BIND": f"127.0.0.1:{port}", "SLUICE_FRONT_DIR": str(self.directory)}
        super().__init__(["bash", "scripts/serve.sh", "--graceful-timeout", "5"], env, log)

    def kill(self, sig: int = signal.SIGKILL) -> None:
        super().kill(sig)
        shutil.rmtree(self.directory, ignore_errors=True)

    def stop(self) -> None:
        super().stop()
        shutil.rmtree(self.directory, ignore_errors=True)


def start_server(database_url: str, log: Path, **env: str) -> tuple[LiveProcess, str]:
    port = free_port()
    server = Front(port, process_env(database_url, **env), log).start()
    url = f"{'https' if 'SLUICE_TLS_CERTIFICATE' in env else 'http'}://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:  # nginx answers 502 until gunicorn listens
            if httpx.get(f"{url}/v1/schema", timeout=2, verify=False).status_code != 502:
                return server, url
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    server.stop()
    raise RuntimeError(f"the test server did not start; see {log}")


def start_worker(database_url: str, log: Path, **env: str) -> LiveProcess:
    return LiveProcess(
        [str(BIN / "celery"), "-A", "config", "worker", "--loglevel",
         env.get("LOG_LEVEL", "INFO"), "--concurrency", "1",
         "-Q", "ingest,default", "--without-mingle", "--without-gossip"],
        process_env(database_url, **env), log,
    ).start()


class OwnRedis:
    """A Redis server of a test's own, persisting with AOF (fsync every second) as production
    should: it can be stopped and started again without disturbing the rest of the suite."""

    def __init__(self, directory: Path, log: Path) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.server = LiveProcess(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "yes", "--appendfsync", "everysec", "--dir", str(directory)],
            dict(os.environ), log)

    def start(self) -> "OwnRedis":
        self.server.start()
        client = redis.Redis.from_url(self.url)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if client.ping() and not int(client.info("persistence")["loading"]):
                    return self
            except redis.RedisError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"Redis did not start; see {self.server.log}")

    def stop(self, how: str) -> None:
        """`shutdown` (Redis's own, writing what it holds) or `sigkill`."""
        if how == "sigkill":
            self.server.kill()
            return
        with contextlib.suppress(redis.ConnectionError):
            redis.Redis.from_url(self.url).shutdown()
        assert self.server.proc is not None
        self.server.proc.wait(timeout=30)


class OwnPostgres:
    """A PostgreSQL cluster of a test's own, with the Sluice schema: it can be restarted
    without disturbing the rest of the suite."""

    def __init__(self) -> None:
        self.bin = Path(sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))[-1]).parent
        self.directory = Path(tempfile.mkdtemp(prefix="sluice-postgres-"))  # postgres's own
        shutil.chown(self.directory, "postgres")
        self.data, self.log = self.directory / "data", self.directory / "postgres.log"
        self.port = free_port()
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/sluice"
        self._as_postgres("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust",
                          "--no-sync")

    def _as_postgres(self, command: str, *args: str) -> None:
        subprocess.run(["runuser", "-u", "postgres", "--", str(self.bin / command), *args],
                       check=True, capture_output=True)

    def start(self) -> "OwnPostgres":
        options = f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._as_postgres("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.log),
                          "-w", "start")
        return self

    def stop(self) -> None:
        self._as_postgres("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def remove(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self.stop()
        shutil.rmtree(self.directory)

    def migrated(self) -> "OwnPostgres":
        with psycopg.connect(self.url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as db:
            db.execute("CREATE DATABASE sluice")
        subprocess.run([sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"],
                       cwd=ROOT, env=process_env(self.url), check=True)
        return self
