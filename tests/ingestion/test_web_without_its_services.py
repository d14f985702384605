"""The web server without Redis, or without its database: a 503 that says to retry, never a
500. Without Redis records are refused (nothing was accepted) and the rest of the API works
from the database."""

import httpx
import pytest

from tests.conftest import LOGS
from tests.fixtures import record
from tests.helpers import create_source, flight_collection, problem
from tests.live import free_port, start_server


@pytest.fixture
def server_without_redis(database_url):
    server, url = start_server(database_url, LOGS / "no-redis-server.log",
                               REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")
    yield url
    server.stop()


def test_without_redis_records_are_refused_with_a_503_and_the_rest_works(api,
                                                                        server_without_redis):
    coll_id = flight_collection(api)  # made through the server with Redis
    with httpx.Client(base_url=f"{server_without_redis}/v1/{api.org.slug}", timeout=30,
                      headers={"x-api-key": api.org.secret_key}) as away:
        answer = away.post(f"/collections/{coll_id}/data", json=record("flight-booking"))
        assert (answer.status_code, answer.headers["Retry-After"]) == (503, "5")
        assert answer.json() == problem(503, "queue_unavailable", "Sluice cannot queue records "
                                        "right now; nothing was accepted. Retry soon.")
        assert away.get(f"/collections/{coll_id}").status_code == 200
        health = httpx.get(f"{server_without_redis}/v1/health")
        assert (health.status_code, health.json()) == (503, {
            "status": "unavailable", "database": "ok", "queue": "unreachable", "buffer": None})
        made = create_source(away, "made-without-redis")
        assert away.get(f"/sources/{made['id']}").json()["name"] == "made-without-redis"


@pytest.fixture
def server_without_database(database_url):
    away = database_url.rsplit("/", 1)[0] + "/sluice_no_such_database"
    server, url = start_server(away, LOGS / "no-database-server.log")
    yield url
    server.stop()


def test_without_the_database_requests_get_a_503_saying_to_retry(api, server_without_database):
    with httpx.Client(base_url=f"{server_without_database}/v1/{api.org.slug}", timeout=30,
                      headers={"x-api-key": api.org.secret_key}) as away:
        for answer in (away.get("/sources"), away.post("/collections/1/data", json={})):
            assert (answer.status_code, answer.headers["Retry-After"]) == (503, "5")
            assert answer.json() == problem(503, "database_unavailable", "Sluice cannot reach "
                                            "its database right now. Retry soon.")
    health = httpx.get(f"{server_without_database}/v1/health")
    assert health.status_code == 503
    assert health.json() | {"buffer": None} == {
        "status": "unavailable", "database": "unreachable", "queue": "ok", "buffer": None}


def test_health_is_ok_with_everything_there_and_needs_no_key(server_url):
    health = httpx.get(f"{server_url}/v1/health")
    assert health.status_code == 200
    [shard] = health.json()["buffer"].pop("shards")
    assert health.json() | {"buffer": {"evictionPolicy": "noeviction", "safe": True}} == {
        "status": "ok", "database": "ok", "queue": "ok",
        "buffer": {"evictionPolicy": "noeviction", "safe": True}}
    assert set(shard) == {"shard", "waiting", "oldestSeconds", "draining"}
