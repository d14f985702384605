"""Rejected records are listed and replayed once the schema is fixed; a record the database
keeps refusing moves to the rejected list while the rest of its batch is stored."""

import uuid

from django.db import connection

from apps.records.models import Record, RejectedRecord
from tests.fixtures import record
from tests.helpers import hal_links, org_base, wait_for


def booking(**fields):
    return {**record("flight-booking"), "eventId": str(uuid.uuid4()), **fields}


def test_rejected_records_are_listed_and_replayed_after_the_schema_is_fixed(api, flights, orm):
    coll = flights["collection"]
    late = [booking(bookingDate="2020-05-25T10:00:00Z"),
            booking(bookingDate="2020-06-01T08:30:00Z")]
    hopeless = booking(flightId=12, bookingDate="2020-06-02T09:00:00Z")
    first = booking()
    answer = api.post(f"/collections/{coll['id']}/data", json=[*late, hopeless, first])
    assert answer.json()["accepted"] == 1
    wait_for(lambda: RejectedRecord.objects.filter(collection_id=int(coll["id"])).count() == 3)

    listed = api.get("/rejected", params={"collId": coll["id"]}).json()
    rejected = listed["_embedded"]["rejected"]
    assert [r["raw"]["eventId"] for r in rejected] == [
        hopeless["eventId"], late[1]["eventId"], late[0]["eventId"]]
    assert rejected[0]["_links"]["self"]["href"].endswith(f"/rejected/{rejected[0]['id']}")
    assert api.get(f"/rejected/{rejected[0]['id']}").json() == rejected[0]

    # The owner widens bookingDate to a timestamp, then replays the collection's rejects.
    fields = [{**f, "type": {"type": "string", "logicalType": "timestamp-millis"}}
              if f["name"] == "bookingDate" else f for f in coll["schema"]["fields"]]
    assert api.patch(f"/collections/{coll['id']}",
                     json={"schema": {**coll["schema"], "fields": fields}}).status_code == 200
    replay = api.post("/rejected/replay", json={"collId": coll["id"]})
    assert replay.status_code == 200
    assert replay.json() == {"replayed": 2, "stillRejected": 1, "rejected": [
        {"id": rejected[0]["id"], "errors": [{"attr": "flightId", "code": "invalid_type",
                                              "detail": "Expected string at flightId, got int."}]}],
        "_links": hal_links(org_base(api), "/rejected/replay", rejected="/rejected")}
    rows = wait_for(lambda: (rows := Record.objects.filter(collection_id=int(coll["id"]))
                             ).count() == 3 and rows)
    assert {r.key: r.schema_version for r in rows} == {
        first["eventId"]: 1, late[0]["eventId"]: 2, late[1]["eventId"]: 2}
    [still] = RejectedRecord.objects.filter(collection_id=int(coll["id"]))
    assert still.raw == hopeless and still.schema_version == 2
    assert api.post("/rejected/replay", json={}).status_code == 400


def test_a_record_the_database_refuses_is_rejected_and_the_rest_stored(api, flights, orm):
    coll_id = flights["collection"]["id"]
    with connection.cursor() as cursor:
        cursor.execute("""
            CREATE OR REPLACE FUNCTION refuse_poison() RETURNS trigger AS $$
            BEGIN
                IF NEW.data->>'bookingId' = 'poison' THEN
                    RAISE EXCEPTION 'poison record refused';
                END IF;
                RETURN NEW;
            END $$ LANGUAGE plpgsql;
            CREATE TRIGGER refuse_poison BEFORE INSERT ON records_record
                FOR EACH ROW EXECUTE FUNCTION refuse_poison();
        """)
    try:
        good = [booking(), booking()]
        poison = booking(bookingId="poison")
        assert api.post(f"/collections/{coll_id}/data", json=[good[0], poison, good[1]]
                        ).json()["accepted"] == 3
        [kept] = wait_for(lambda: list(RejectedRecord.objects.filter(
            collection_id=int(coll_id))), timeout=60)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP TRIGGER refuse_poison ON records_record;"
                           "DROP FUNCTION refuse_poison();")
    assert kept.raw == poison
    assert kept.errors[0]["code"] == "storage_failed"
    assert "poison record refused" in kept.errors[0]["detail"]
    stored = set(Record.objects.filter(collection_id=int(coll_id)).values_list("key", flat=True))
    assert stored == {good[0]["eventId"], good[1]["eventId"]}
