"""Redis away: records are refused with a 503 that says to retry (nothing was accepted), and
the rest of the API goes on working from the database."""

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
        assert answer.status_code == 503
        assert answer.json() == problem(503, "queue_unavailable", "Sluice cannot queue records "
                                        "right now; nothing was accepted. Retry soon.")
        assert away.get(f"/collections/{coll_id}").status_code == 200
        made = create_source(away, "made-without-redis")
        assert away.get(f"/sources/{made['id']}").json()["name"] == "made-without-redis"
