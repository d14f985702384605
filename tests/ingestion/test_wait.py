"""Reading your own writes: a sender that asks to wait (`?wait=true`, or `Prefer: wait=N`) is
answered once its records are stored, so a read right after finds them; if they are not stored
in time, 202 with a Location where they will show."""

import json
import time
import uuid

import httpx
import pytest

from tests.fixtures import record
from tests.helpers import flight_collection, validation


def booking():
    return {**record("flight-booking"), "eventId": str(uuid.uuid4())}


def test_a_send_that_waits_is_read_back_at_once(api, worker, orm):
    coll_id = flight_collection(api)
    for _ in range(3):
        sent = booking()
        answer = api.post(f"/collections/{coll_id}/data?wait=true", json=sent)
        assert (answer.status_code, answer.json()["accepted"]) == (200, 1), answer.text
        read = api.get(f"/collections/{coll_id}/data", params={"eventId": sent["eventId"]})
        assert [r["data"]["eventId"] for r in read.json()["_embedded"]["records"]] == [
            sent["eventId"]]


def test_prefer_wait_is_applied_and_said_so(api, worker, orm):
    coll_id = flight_collection(api)
    answer = api.post(f"/collections/{coll_id}/data", json=[booking(), booking()],
                      headers={"Prefer": "wait=3"})
    assert (answer.status_code, answer.headers["Preference-Applied"]) == (200, "wait=3")
    assert len(api.get(f"/collections/{coll_id}/data").json()["_embedded"]["records"]) == 2


def test_the_v3_writes_and_track_wait_too(api, worker, orm):
    v3 = {"x-api-key": api.org.secret_key}
    user = f"rr-{uuid.uuid4().hex[:8]}"
    put = api.post(f"{api.root}/v3/user?wait=true", json={"userId": user}, headers=v3)
    assert put.status_code == 200, put.text
    assert api.get(f"{api.root}/v3/user/{user}", headers=v3).status_code == 200
    event = api.put(f"{api.root}/v3/event?wait=true", headers=v3, json={
        "eventId": "w1", "description": "x", "timestamp": "2024-03-01T10:00:00Z",
        "userId": user})
    assert event.status_code == 200
    read = api.get("/collections/events/data", params={"userId": user}).json()
    assert [r["data"]["eventId"] for r in read["_embedded"]["records"]] == ["w1"]

    coll_id = flight_collection(api)
    name = api.get(f"/collections/{coll_id}").json()["name"]
    sent = {**booking()}
    tracked = api.post("/track?wait=true", content=json.dumps({
        "writeKey": api.org.write_key, "batch": [{"collection": name, "fields": sent}]}),
        headers={"Authorization": "", "Content-Type": "text/plain"})
    assert tracked.status_code == 200, tracked.text
    assert api.get(f"/collections/{coll_id}/data").json()["_embedded"]["records"]


def test_records_not_stored_in_time_are_202_with_where_they_will_show(api, isolated_stack,
                                                                       orm):
    """No worker runs: the wait ends at the time asked, and says where to look."""
    coll_id = flight_collection(api)
    with httpx.Client(base_url=f"{isolated_stack.url}/v1/{api.org.slug}", timeout=30,
                      headers={"Authorization": f"ApiKey {api.org.write_key}"}) as client:
        started = time.monotonic()
        answer = client.post(f"/collections/{coll_id}/data", json=booking(),
                             headers={"Prefer": "wait=1"})
        waited = time.monotonic() - started
    assert answer.status_code == 202
    assert answer.headers["Location"] == (f"{isolated_stack.url}/v1/{api.org.slug}/"
                                          f"collections/{coll_id}/data")
    assert waited >= 1, "it answered before the time asked, with nothing stored"


@pytest.mark.parametrize("value", ["soon", "yes please"])
def test_a_wait_that_is_not_a_yes_or_no_is_a_400_naming_it(api, worker, orm, value):
    coll_id = flight_collection(api)
    answer = api.post(f"/collections/{coll_id}/data", params={"wait": value}, json=booking())
    assert answer.json() == validation(
        ("wait", "invalid", "`wait` is `true` (answer once stored) or `false`."))
    # and nothing of it was queued: the next send, once stored, is the only record
    assert api.post(f"/collections/{coll_id}/data?wait=true", json=booking()).status_code == 200
    assert len(api.get(f"/collections/{coll_id}/data").json()["_embedded"]["records"]) == 1
