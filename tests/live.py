"""Live Sluice processes for tests: a gunicorn server and Celery workers on the test database."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

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


def start_server(database_url: str, log: Path, **env: str) -> tuple[LiveProcess, str]:
    port = free_port()
    server = LiveProcess(
        [str(BIN / "gunicorn"), "-c", "config/gunicorn.py", "config.wsgi",
         "--bind", f"127.0.0.1:{port}", "--workers", env.pop("WEB_WORKERS", "2"),
         "--threads", env.pop("WEB_THREADS", "4"), "--graceful-timeout", "5"],
        process_env(database_url, **env), log,
    ).start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{url}/v1/schema", timeout=2)
            return server, url
        except httpx.TransportError:
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
