"""GET /v1/metrics as Prometheus scrapes it: what every web and worker process counted (records
ingested per org and collection, requests by route and status, what workers stored), public
unless SLUICE_METRICS_TOKEN is set, and answering on the embedded default too."""

import json
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import LOGS
from tests.fixtures import record
from tests.helpers import flight_collection, problem, wait_for
from tests.live import start_server
from tests.test_readme import embedded  # noqa: F401  (scripts/start.sh, started once here)

TOKEN = "scrape-" + uuid.uuid4().hex
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scraped(url: str, **headers: str) -> Samples:
    answer = httpx.get(f"{url}/v1/metrics", headers=headers, timeout=30)
    assert answer.status_code == 200, answer.text
    assert answer.headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    return {(sample.name, frozenset(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(answer.text)
            for sample in family.samples}


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def booking(**fields: Any) -> dict[str, Any]:
    return {**record("flight-booking"), "eventId": str(uuid.uuid4()), **fields}


def test_a_scrape_counts_records_by_collection_and_requests_by_route(api, worker, server_url):
    coll_id = flight_collection(api)
    before = scraped(server_url)
    ingested = {"org": api.org.slug, "collection": "flight-booking"}
    assert api.get(f"/collections/{coll_id}/nothing-here").status_code == 404
    sent = [api.post(f"/collections/{coll_id}/data", json=body) for body in (
        [booking(), booking(), booking(bookingId=7)],  # 202: two accepted, one rejected
        booking(),  # 202
        [booking(flightId=None)],  # 400: every record rejected
    )]
    assert [answer.status_code for answer in sent] == [202, 202, 400]

    def counted() -> Samples | None:
        after = scraped(server_url)
        return after if value(after, "sluice_ingest_records_total", outcome="rejected",
                              **ingested) == 2 else None

    after = wait_for(counted)
    assert value(after, "sluice_ingest_records_total", outcome="accepted", **ingested) == 3

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    data = {"route": "collection-data", "method": "POST"}
    assert (grew("sluice_http_requests_total", status="202", **data),
            grew("sluice_http_requests_total", status="400", **data)) == (2, 1)
    assert grew("sluice_http_request_duration_seconds_count", **data) >= 3
    assert grew("sluice_http_request_duration_seconds_bucket", le="+Inf", **data) >= 3
    assert grew("sluice_http_requests_total", route="unmatched", method="GET",
                status="404") >= 1
    # what the worker stored, in writes of a size and duration
    stored = wait_for(lambda: grew_since(before, server_url, "sluice_records_stored_total"))
    assert stored >= 3
    assert value(scraped(server_url), "sluice_drain_batch_records_count") > 0
    assert value(scraped(server_url), "sluice_buffer_up") == 1
    assert value(scraped(server_url), "sluice_metrics_counted") == 1


def grew_since(before: Samples, url: str, name: str, **labels: str) -> float:
    return value(scraped(url), name, **labels) - value(before, name, **labels)


def test_what_every_web_process_counted_adds_up(server_url):
    """Each request on a connection of its own, so that both of the server's processes
    answer some: a scrape, answered by either, counts them all."""
    health = {"route": "health", "method": "GET", "status": "200"}
    before = value(scraped(server_url), "sluice_http_requests_total", **health)
    for _ in range(30):
        assert httpx.get(f"{server_url}/v1/health", headers={"Connection": "close"}
                         ).status_code == 200
    wait_for(lambda: value(scraped(server_url), "sluice_http_requests_total", **health)
             == before + 30)


def test_no_path_or_id_becomes_a_series(api, server_url):
    api.get(f"/collections/{uuid.uuid4().hex}")
    api.get(f"/no/such/{uuid.uuid4().hex}")

    def routes() -> set[str] | None:
        found = {dict(labels)["route"] for name, labels in scraped(server_url)
                 if name == "sluice_http_requests_total"}
        return found if {"collection-detail", "unmatched", "metrics"} <= found else None

    assert not [route for route in wait_for(routes) if "/" in route or api.org.slug in route]


@pytest.fixture(scope="module")
def server_with_token(database_url: str) -> Iterator[str]:
    server, url = start_server(database_url, LOGS / "metrics-token-server.log",
                               SLUICE_METRICS_TOKEN=TOKEN)
    yield url
    server.stop()


UNAUTHENTICATED = problem(401, "not_authenticated", "Send the metrics token "
                          "(SLUICE_METRICS_TOKEN) as 'Authorization: Bearer <token>'.")


@pytest.mark.parametrize("headers", [
    {}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Bearer {TOKEN}x"},
    {"Authorization": f"ApiKey {TOKEN}"}, {"x-api-key": TOKEN},
], ids=["none", "wrong", "longer", "other-scheme", "api-key-header"])
def test_with_a_token_set_a_scrape_without_it_is_refused(server_with_token, api, headers):
    answer = httpx.get(f"{server_with_token}/v1/metrics", headers=headers)
    assert answer.status_code == 401
    assert answer.headers["Content-Type"] == "application/problem+json"
    assert answer.headers["WWW-Authenticate"] == 'Bearer realm="metrics"'
    assert answer.json() == UNAUTHENTICATED
    # an org's secret key is no metrics token either
    assert httpx.get(f"{server_with_token}/v1/metrics", headers={
        "Authorization": f"Bearer {api.org.secret_key}"}).status_code == 401


def test_with_a_token_set_a_scrape_with_it_is_answered(server_with_token):
    samples = scraped(server_with_token, Authorization=f"Bearer {TOKEN}")
    assert value(samples, "sluice_buffer_up") == 1
    assert httpx.get(f"{server_with_token}/v1/health").status_code == 200  # health stays open


def test_the_embedded_default_answers_a_scrape_and_logs_no_error(embedded):  # noqa: F811
    """scripts/start.sh: SQLite, the filesystem queue, no Redis. Nothing is counted across
    processes there, and a scrape still answers."""
    with httpx.Client(base_url=f"{embedded.url}/v1/demo", timeout=30,
                      headers={"x-api-key": embedded.keys["sk"]}) as demo:
        coll_id = flight_collection(demo)
        assert demo.post(f"/collections/{coll_id}/data", json=booking()).status_code == 202
    for _ in range(2):
        answer = httpx.get(f"{embedded.url}/v1/metrics")
        assert answer.status_code == 200
        assert answer.headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
        [counted] = text_string_to_metric_families(answer.text)
        assert (counted.name, counted.samples[0].value) == ("sluice_metrics_counted", 0)
    assert httpx.get(f"{embedded.url}/v1/health").json()["status"] == "ok"
    for log in (embedded.home / "worker.log", embedded.home / "start.out"):
        for line in log.read_text().splitlines():
            assert "Traceback" not in line, log.read_text()
            if line.startswith("{"):
                assert json.loads(line)["level"] not in ("error", "critical"), line
