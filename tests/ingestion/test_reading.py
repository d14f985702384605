"""Records read back newest first, filtered, and paged to the end through `_links.next`."""

import uuid
from datetime import UTC, datetime, timedelta

import httpx

from apps.records.models import Record
from tests.fixtures import record
from tests.helpers import validation, wait_for


def send_bookings(api, coll_id, statuses):
    sent = [{**record("flight-booking"), "eventId": str(uuid.uuid4()), "bookingId": str(i),
             "bookingStatus": status} for i, status in enumerate(statuses)]
    for item in sent:  # one request each, so the ids follow the order sent
        assert api.post(f"/collections/{coll_id}/data", json=item).status_code == 202
        wait_for(lambda item=item: Record.objects.filter(key=item["eventId"]).exists())
    return sent


def test_records_page_newest_first_to_the_end(api, flights, orm):
    coll_id = flights["collection"]["id"]
    sent = send_bookings(api, coll_id, ["booked", "cancelled", "booked", "booked", "cancelled"])
    base = f"{api.root}/v1/{api.org.slug}/collections/{coll_id}/data"
    seen, url, pages = [], f"{base}?limit=2", 0
    while url:
        page = api.get(url).json()
        pages += 1
        seen += page["_embedded"]["records"]
        assert page["_links"]["self"]["href"] == url
        url = page["_links"].get("next", {}).get("href")
    assert pages == 3
    assert [r["data"]["eventId"] for r in seen] == [s["eventId"] for s in reversed(sent)]
    newest = seen[0]
    assert newest == {
        "id": newest["id"], "collId": coll_id, "schemaVersion": 1,
        "identifiers": {"profileId": sent[-1]["eventId"]},
        "receivedAt": newest["receivedAt"], "updatedAt": newest["updatedAt"], "data": sent[-1],
        "_links": {"self": {"href": f"{base}/{newest['id']}"},
                   "collection": {"href": f"{api.root}/v1/{api.org.slug}/collections/{coll_id}"}},
    }
    assert api.get(f"{base}/{newest['id']}").json() == newest


def test_filters_on_fields_and_time(api, flights, orm):
    coll_id = flights["collection"]["id"]
    sent = send_bookings(api, coll_id, ["booked", "cancelled", "booked"])
    url = f"/collections/{coll_id}/data"

    def event_ids(**params):
        answer = api.get(url, params=params)
        assert answer.status_code == 200, answer.text
        return [r["data"]["eventId"] for r in answer.json()["_embedded"]["records"]]

    assert event_ids(bookingStatus="booked") == [sent[2]["eventId"], sent[0]["eventId"]]
    assert event_ids(bookingStatus="cancelled", bookingId="1") == [sent[1]["eventId"]]
    assert event_ids(bookingStatus="nothing") == []
    now = datetime.now(UTC)
    assert len(event_ids(since=(now - timedelta(minutes=5)).isoformat())) == 3
    assert event_ids(since=(now + timedelta(minutes=5)).isoformat()) == []
    assert event_ids(until=(now - timedelta(minutes=5)).isoformat()) == []
    assert len(event_ids(until=(now + timedelta(minutes=5)).isoformat())) == 3

    unknown = api.get(url, params={"colour": "red"})
    assert unknown.status_code == 400
    assert unknown.json() == validation(("colour", "unknown_field", "'colour' is neither a field "
                                         "of 'flight-booking' nor one of cursor, limit, "
                                         "schemaVersion, since, until."))
    assert api.get(url, params={"limit": "1001"}).json() == validation(
        ("limit", "max_value", "`limit` may be at most 1000."))
    assert api.get(url, params={"since": "yesterday"}).json() == validation(
        ("since", "invalid", "`since` is an ISO 8601 time such as 2020-05-25T14:30:00Z."))


def test_a_record_can_be_deleted_and_a_write_key_cannot_read(api, flights, orm):
    coll_id = flights["collection"]["id"]
    [sent] = send_bookings(api, coll_id, ["booked"])
    [row] = api.get(f"/collections/{coll_id}/data").json()["_embedded"]["records"]
    write = {"Authorization": f"ApiKey {api.org.write_key}"}
    assert api.get(f"/collections/{coll_id}/data", headers=write).status_code == 403
    assert api.delete(f"/collections/{coll_id}/data/{row['id']}").status_code == 204
    assert api.get(f"/collections/{coll_id}/data/{row['id']}").status_code == 404
    assert not Record.objects.filter(key=sent["eventId"]).exists()


def test_reading_is_not_possible_with_another_orgs_key(api, flights, make_org):
    other = make_org()
    answer = httpx.get(f"{api.root}/v1/{api.org.slug}/collections/{flights['collection']['id']}"
                       "/data", headers={"x-api-key": other.secret_key})
    assert answer.status_code == 404
