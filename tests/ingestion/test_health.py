"""/v1/health tells a monitor whether workers are draining the ingestion buffer: how long the
oldest record has waited, and `behind` once that passes SLUICE_DRAIN_BEHIND_SECONDS. The web
process still takes records then, so the answer stays 200."""

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.helpers import flight_collection, stored_keys, wait_for
from tests.ingestion.conftest import IsolatedStack

BEHIND_AFTER = 3.0


@pytest.fixture
def stack_without_workers(database_url: str) -> Iterator[IsolatedStack]:
    stack = IsolatedStack(database_url, SLUICE_DRAIN_BEHIND_SECONDS=str(BEHIND_AFTER))
    yield stack
    stack.stop()


def buffer_health(stack: IsolatedStack) -> dict[str, Any]:
    answer = httpx.get(f"{stack.url}/v1/health", timeout=30)
    assert (answer.status_code, answer.json()["status"]) == (200, "ok")
    return answer.json()["buffer"]  # type: ignore[no-any-return]


def test_health_says_workers_are_behind_once_a_record_waits_too_long(
        api, stack_without_workers, orm):
    stack = stack_without_workers
    coll_id = flight_collection(api)
    idle = buffer_health(stack)
    assert (idle["workers"], idle["oldestSeconds"], idle["behindAfterSeconds"]) == (
        "idle", None, BEHIND_AFTER)

    sent = stack.send_each(api, coll_id, 1)
    waiting = buffer_health(stack)
    assert waiting["workers"] in ("draining", "behind")  # "behind" only on a very slow machine
    assert waiting["oldestSeconds"] >= 0
    behind = wait_for(lambda: (health := buffer_health(stack))["workers"] == "behind"
                      and health)
    assert behind["oldestSeconds"] >= BEHIND_AFTER

    stack.start_worker()
    assert stored_keys(coll_id, 1) == sent
    wait_for(lambda: buffer_health(stack)["workers"] == "idle")
