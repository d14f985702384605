"""Sluice served the production way (scripts/serve.sh: nginx before gunicorn) keeps answering
while hundreds of clients trickle their requests: slow clients hold cheap nginx connections,
never gunicorn's threads. Its own answers are problem JSON, like Sluice's."""

import json
import resource
import shutil
import socket
import ssl
import statistics
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from config import nginx
from tests.conftest import LOGS
from tests.helpers import problem
from tests.live import LiveProcess, free_port, start_server

SLOW_HEADERS = 500  # connections that send their headers a byte at a time
SLOW_BODIES = 100  # connections that send a body a byte at a time
PROBE_SECONDS = 8  # within nginx's 10 s for headers: every slow connection is held throughout


def _address(url: str) -> tuple[str, int]:
    host, port = url.removeprefix("http://").split(":")
    return host, int(port)


def _room_for(connections: int) -> None:
    """Enough file descriptors for this many sockets in this process."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < connections + 256:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, connections + 1024), hard))


@contextmanager
def trickling(url: str, org: str) -> Iterator[list[socket.socket]]:
    """SLOW_HEADERS requests whose headers never end and SLOW_BODIES whose 100 KB body never
    ends, each sent on a byte every half second while the block runs."""
    _room_for(SLOW_HEADERS + SLOW_BODIES)
    address = _address(url)
    openings = ([b"GET /v1/health HTTP/1.1\r\nHost: slow\r\nX-Slow: "] * SLOW_HEADERS
                + [f"POST /v1/{org}/collections/1/data HTTP/1.1\r\nHost: slow\r\n"
                   "Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n["
                   .encode()] * SLOW_BODIES)
    connections = []
    for opening in openings:
        connection = socket.create_connection(address, timeout=10)
        connection.sendall(opening)
        connections.append(connection)
    stop = threading.Event()

    def trickle() -> None:
        while not stop.wait(0.5):
            for connection in connections:
                connection.send(b"1")

    sender = threading.Thread(target=trickle, daemon=True)
    sender.start()
    try:
        yield connections
    finally:
        stop.set()
        sender.join()
        for connection in connections:
            connection.close()


def _still_open(connection: socket.socket) -> bool:
    """Nothing answered and not closed: the server is still waiting on this request."""
    connection.setblocking(False)
    try:
        return connection.recv(1) != b""
    except BlockingIOError:
        return True


def test_health_answers_while_600_clients_trickle_their_requests(server_url, api):
    latencies = []
    with trickling(server_url, api.org.slug) as connections, httpx.Client(timeout=10) as probe:
        deadline = time.monotonic() + PROBE_SECONDS
        while time.monotonic() < deadline:
            started = time.monotonic()
            answer = probe.get(f"{server_url}/v1/health", headers={"Connection": "close"})
            latencies.append(time.monotonic() - started)
            assert answer.status_code == 200, answer.text
            time.sleep(0.05)
        held = sum(_still_open(connection) for connection in connections)
    assert held == SLOW_HEADERS + SLOW_BODIES  # the load was there throughout
    print(f"\n/v1/health under {SLOW_HEADERS} slow headers and {SLOW_BODIES} slow bodies: "
          f"{len(latencies)} probes, p50 {statistics.median(latencies) * 1000:.1f} ms, "
          f"max {max(latencies) * 1000:.1f} ms (target: under 100 ms)")


def _raw(url: str, request: bytes) -> tuple[int, dict[str, str], bytes]:
    """The status, headers and body the server answers a raw request with."""
    with socket.create_connection(_address(url), timeout=20) as sock:
        sock.sendall(request)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head, body = answer.split(b"\r\n\r\n", 1)
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines)
    return int(status_line.split()[1]), headers, body


def test_what_the_front_refuses_is_answered_with_problem_json(server_url):
    huge = 16 * 1024 * 1024 + 1
    for request, status, code in [
        (b"GET /v1/health\x01 HTTP/1.1\r\nHost: x\r\n\r\n", 400, "bad_request"),
        (b"GET /v1/" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414, "uri_too_long"),
        (b"GET /v1/health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 9000 + b"\r\n\r\n", 431,
         "request_header_fields_too_large"),
        (b"POST /v1/x/sources HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % huge, 413,
         "request_too_large"),
        (b"POST /v1/x/sources HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", 501,
         "not_implemented"),
        (b"GET /.sluice-front/bad_request HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
         404, "not_found"),
    ]:
        answered, headers, body = _raw(server_url, request)
        assert (answered, headers["Content-Type"]) == (status, "application/problem+json")
        answer = json.loads(body)
        assert (answer["status"], answer["code"]) == (status, code), answer
        assert answer == problem(status, code, answer["detail"])


def test_the_scheme_and_address_a_client_claims_are_not_taken(api):
    """nginx tells gunicorn the scheme the client used, whatever X-Forwarded-* it sent."""
    answer = api.get("/sources", headers={"X-Forwarded-Proto": "https",
                                          "X-Forwarded-Ssl": "on", "X-Forwarded-For": "10.9.9.9"})
    assert answer.status_code == 200
    assert answer.json()["_links"]["self"]["href"] == f"{api.root}/v1/{api.org.slug}/sources"


@pytest.fixture
def certificate() -> Iterator[tuple[Path, Path]]:
    """A self-signed certificate for 127.0.0.1 and its key."""
    directory = Path(tempfile.mkdtemp(prefix="sluice-tls-"))
    pem, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(pem)], check=True, capture_output=True)
    yield pem, key
    shutil.rmtree(directory)


def test_tls_ends_at_the_front_and_sluice_knows_it(database_url, org, certificate):
    pem, key = certificate
    server, url = start_server(database_url, LOGS / "tls-server.log",
                               SLUICE_TLS_CERTIFICATE=str(pem), SLUICE_TLS_KEY=str(key))
    try:
        trusted = ssl.create_default_context(cafile=str(pem))
        with httpx.Client(verify=trusted, timeout=30) as client:
            answer = client.get(f"{url}/v1/{org.slug}/sources",
                                headers={"Authorization": f"ApiKey {org.secret_key}"})
        assert url.startswith("https://") and answer.status_code == 200
        assert answer.json()["_links"]["self"]["href"] == f"{url}/v1/{org.slug}/sources"
    finally:
        server.stop()


def test_gunicorn_away_is_a_502_problem_saying_to_retry():
    directory = Path(tempfile.mkdtemp(prefix="sluice-front-"))
    port = free_port()
    config = nginx.write(f"127.0.0.1:{port}", directory, directory / "absent.sock")
    front = LiveProcess([shutil.which("nginx") or "/usr/sbin/nginx", "-p", str(directory),
                         "-c", str(config), "-e", "stderr"], {}, LOGS / "front-alone.log")
    front.start()
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                answer = httpx.get(f"http://127.0.0.1:{port}/v1/health", timeout=5)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "nginx did not start"
                time.sleep(0.1)
    finally:
        front.stop()
        shutil.rmtree(directory)
    assert (answer.status_code, answer.headers["Content-Type"]) == (
        502, "application/problem+json")
    assert answer.json() == problem(502, "web_unavailable",
                                    "Sluice's web processes cannot be reached; retry shortly.")
