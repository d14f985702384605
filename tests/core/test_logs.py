"""The logs of a live server and worker: JSON lines, one per request answered with its request
id (the sender's X-Request-ID when sane, else a new one, answered in X-Request-ID), method,
route, status, duration and org; and never a key, wherever a request carried it."""

import base64
import json
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.fixtures import record
from tests.helpers import flight_collection, wait_for
from tests.live import LiveProcess, start_server, start_worker

GENERATED_ID = re.compile(r"[0-9a-f]{32}")


@dataclass
class Logged:
    url: str
    server_log: Path
    worker_log: Path

    def lines(self, log: Path | None = None) -> list[dict[str, Any]]:
        text = (log or self.server_log).read_text()
        return [json.loads(line) for line in text.splitlines() if line.startswith("{")]

    def answered(self, request_id: str) -> dict[str, Any]:
        """The line of the request with this id, once it is written."""
        [line] = wait_for(lambda: [line for line in self.lines()
                                   if line.get("request_id") == request_id
                                   and line["event"] == "request answered"])
        return line


@pytest.fixture(scope="module")
def logged(database_url: str, broker: str,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[Logged]:
    """A server and a worker of their own, each writing to a log of its own."""
    logs = tmp_path_factory.mktemp("logs")
    server, url = start_server(database_url, logs / "server.log")
    worker: LiveProcess = start_worker(database_url, logs / "worker.log")
    yield Logged(url, logs / "server.log", logs / "worker.log")
    worker.stop()
    server.stop()


@pytest.fixture
def client(logged: Logged, org: Any) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=f"{logged.url}/v1/{org.slug}", timeout=30,
                      headers={"Authorization": f"ApiKey {org.secret_key}"}) as api:
        api.org = org  # type: ignore[attr-defined]
        yield api


def test_each_request_is_a_json_line_with_its_request_id(logged, client):
    asked = f"trace-{uuid.uuid4()}"
    answer = client.get("/sources", headers={"X-Request-ID": asked})
    assert (answer.status_code, answer.headers["X-Request-ID"]) == (200, asked)
    line = logged.answered(asked)
    assert {name: line[name] for name in ("method", "route", "path", "status", "org",
                                          "level", "logger")} == {
        "method": "GET", "route": "source-list", "path": f"/v1/{client.org.slug}/sources",
        "status": 200, "org": client.org.slug, "level": "info", "logger": "sluice.requests"}
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0
    assert line["timestamp"].endswith("Z")


@pytest.mark.parametrize("asked", [None, "", "two words", "x" * 129, "é-accented".encode(),
                                   "sluice_sk_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"])
def test_a_request_without_a_sane_id_gets_a_new_one(logged, asked):
    headers = {} if asked is None else {"X-Request-ID": asked}
    answer = httpx.get(f"{logged.url}/v1/health", headers=headers)
    given = answer.headers["X-Request-ID"]
    assert GENERATED_ID.fullmatch(given), given
    line = logged.answered(given)
    assert (line["route"], line["status"], "org" in line) == ("health", 200, False)


def test_every_line_of_the_server_is_json(logged, client):
    client.get("/sources")
    client.get("/no/such/thing")
    for line in logged.server_log.read_text().splitlines():
        assert line.startswith("{"), line
        parsed = json.loads(line)
        assert {"event", "level", "timestamp", "logger"} <= set(parsed), line


def test_the_workers_lines_are_json_and_name_their_task(logged, client):
    wait_for(lambda: [line for line in logged.lines(logged.worker_log)
                      if line["event"].endswith(" ready.") and line["level"] == "info"])
    coll_id = flight_collection(client)
    assert client.post(f"/collections/{coll_id}/data", json=record("flight-booking"),
                       params={"wait": "true"}).status_code == 200
    # the drain that stored it may have run in another worker of the test run
    for line in logged.lines(logged.worker_log):
        if line["event"].startswith("Task sluice.ingestion.drain[") and "succeeded" in line[
                "event"]:
            assert line["task"] == "sluice.ingestion.drain", line


def test_a_key_a_request_carries_is_never_logged(logged, client):
    org = client.org
    secret, write = org.secret_key, org.write_key
    coll_id = flight_collection(client)
    basic = base64.b64encode(f"{write}:".encode()).decode()
    ids = []

    def send(method: str, path: str, **kwargs: Any) -> None:
        request_id = uuid.uuid4().hex
        headers = {"X-Request-ID": request_id, **kwargs.pop("headers", {})}
        httpx.request(method, f"{logged.url}{path}", headers=headers, timeout=30, **kwargs)
        ids.append(request_id)

    base = f"/v1/{org.slug}"
    send("GET", f"{base}/sources", headers={"Authorization": f"ApiKey {secret}"})
    send("GET", f"{base}/sources", headers={"x-api-key": secret})
    send("GET", f"{base}/sources", headers={"Authorization": f"Bearer {secret}"})
    send("POST", f"{base}/collections/{coll_id}/data", headers={"x-api-key": write},
         json={**record("flight-booking"), "visitorId": write})
    send("GET", f"{base}/sources", headers={"x-api-key": secret + "x"})  # 401
    send("GET", f"{base}/sources?writeKey={write}&key={secret}")  # 401
    send("GET", f"/v1/{secret}/{write}?api_key={secret}")  # 404, the key in the path
    send("POST", "/v1/track", headers={"Authorization": f"Basic {basic}"},
         json={"event": "Logged", "userId": "u1", "writeKey": write})
    send("POST", "/v1/track", json={"event": "Logged", "userId": "u1", "writeKey": write})
    send("POST", "/api/initialize", json={"apiKey": write, "customerId": "c", "email": "a@b"})
    for request_id in ids:
        logged.answered(request_id)
    text = logged.server_log.read_text() + logged.worker_log.read_text()
    for key in (secret, write, basic, secret.split("_", 2)[2], write.split("_", 2)[2]):
        assert key not in text
    assert "sluice_sk_[masked]" in text  # the 404's path, as Django logs it
