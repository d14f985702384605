"""Records sent over HTTP travel through Redis and a Celery worker into PostgreSQL."""

import gzip
import json
import uuid

from apps.records.models import Record, RejectedRecord
from tests.fixtures import record
from tests.helpers import (
    create_collection,
    create_identifier,
    hal_links,
    org_base,
    problem,
    wait_for,
)


def booking(**fields):
    return {**record("flight-booking"), "eventId": str(uuid.uuid4()), **fields}


def stored(collection_id, count):
    """The collection's records once `count` of them are in PostgreSQL."""
    return wait_for(lambda: (rows := list(Record.objects.filter(
        collection_id=int(collection_id)).order_by("id"))) and len(rows) >= count and rows)


def test_a_sent_record_is_stored_with_its_version_and_identifiers(api, flights, orm):
    coll = flights["collection"]
    sent = booking(extra="not in the schema")
    answer = api.post(f"/collections/{coll['id']}/data", json=sent)
    assert answer.status_code == 202
    data = f"/collections/{coll['id']}/data"
    assert answer.json() == {"accepted": 1, "rejected": [], "warnings": [
        {"index": 0, "fields": ["extra"],
         "detail": "Fields not in the schema were not stored: extra."}],
        "_links": hal_links(org_base(api), data, records=data)}
    [row] = stored(coll["id"], 1)
    assert row.schema_version == 1
    assert row.identifiers == {"profileId": sent["eventId"]}
    assert row.key == sent["eventId"]
    assert row.data == {k: v for k, v in sent.items() if k != "extra"}
    assert row.org.slug == api.org.slug


def test_the_collection_name_addresses_it_and_write_keys_may_send(api, flights, orm):
    answer = api.post("/collections/flight-booking/data", json={"records": [booking()]},
                      headers={"Authorization": f"ApiKey {api.org.write_key}"})
    assert answer.status_code == 202 and answer.json()["accepted"] == 1
    stored(flights["collection"]["id"], 1)


def test_a_retried_event_is_stored_once(api, flights, orm):
    coll_id = flights["collection"]["id"]
    sent = booking()
    for _ in range(3):
        assert api.post(f"/collections/{coll_id}/data", json=sent).status_code == 202
    marker = booking()
    api.post(f"/collections/{coll_id}/data", json=marker)
    rows = stored(coll_id, 2)
    assert sorted(r.data["eventId"] for r in rows) == sorted([sent["eventId"], marker["eventId"]])


def test_a_profile_record_replaces_the_earlier_one_of_its_key(api, flights, orm):
    avro = {"type": "record", "name": "account", "fields": [
        {"name": "accountId", "type": "string"}, {"name": "plan", "type": "string"},
        {"name": "seats", "type": "int"}]}
    profiles = create_collection(api, flights["source"]["id"], name="crm-accounts", avro=avro,
                                 profile=True, event=False)
    create_identifier(api, profiles["id"], name="accountId", fields=(("accountId", "string"),))
    url = f"/collections/{profiles['id']}/data"
    assert api.post(url, json={"accountId": "acme", "plan": "free", "seats": 1}).status_code == 202
    stored(profiles["id"], 1)
    assert api.post(url, json=[{"accountId": "acme", "plan": "pro", "seats": 5},
                               {"accountId": "globex", "plan": "free", "seats": 2}]
                    ).status_code == 202
    rows = wait_for(lambda: len(stored(profiles["id"], 2)) == 2 and
                    Record.objects.get(collection_id=int(profiles["id"]), key="acme"
                                       ).data["plan"] == "pro" and stored(profiles["id"], 2))
    assert {r.key: r.data for r in rows} == {
        "acme": {"accountId": "acme", "plan": "pro", "seats": 5},
        "globex": {"accountId": "globex", "plan": "free", "seats": 2},
    }


def test_the_source_form_sends_several_collections_in_one_request(api, flights, orm):
    avro = {"type": "record", "name": "page", "fields": [
        {"name": "eventId", "type": "string"}, {"name": "url", "type": "string"}]}
    pages = create_collection(api, flights["source"]["id"], name="page-views", avro=avro)
    create_identifier(api, pages["id"])
    answer = api.post(f"/sources/{flights['source']['id']}/data", json={
        "flight-booking": [booking(), booking(bookingDate="soon")],
        "page-views": [{"eventId": "p1", "url": "https://shop.example/"}],
    })
    assert answer.status_code == 202
    assert answer.json() == {"accepted": 2, "warnings": [], "rejected": [
        {"collection": "flight-booking", "index": 1, "errors": [
            {"attr": "bookingDate", "code": "invalid_date",
             "detail": "'soon' is not an ISO date such as 2020-05-25."}]}],
        "_links": hal_links(org_base(api), f"/sources/{flights['source']['id']}/data",
                            rejected="/rejected")}
    stored(flights["collection"]["id"], 1)
    [page] = stored(pages["id"], 1)
    assert page.data == {"eventId": "p1", "url": "https://shop.example/"}
    unknown = api.post(f"/sources/{flights['source']['id']}/data", json={"nope": []})
    assert unknown.status_code == 400
    assert unknown.json()["errors"] == [{
        "attr": "nope", "code": "unknown_collection",
        "detail": "The source 'mywebsource' has no collection named 'nope'. Its collections: "
                  "flight-booking, page-views."}]


def test_a_new_schema_version_validates_new_records_and_old_ones_keep_theirs(api, flights, orm):
    coll = flights["collection"]
    first = booking()
    api.post(f"/collections/{coll['id']}/data", json=first)
    stored(coll["id"], 1)
    avro = {**coll["schema"], "fields": [*coll["schema"]["fields"],
                                         {"name": "seat", "type": ["null", "string"],
                                          "default": None}]}
    assert api.patch(f"/collections/{coll['id']}", json={"schema": avro}).json()[
        "schemaVersion"] == 2
    second = booking(seat="12A")
    api.post(f"/collections/{coll['id']}/data", json=second)
    rows = stored(coll["id"], 2)
    assert [(r.data["eventId"], r.schema_version) for r in rows] == [
        (first["eventId"], 1), (second["eventId"], 2)]
    assert rows[1].data["seat"] == "12A"


def test_a_collection_without_primary_identifier_answers_how_to_add_one(api, flights):
    other = create_collection(api, flights["source"]["id"], name="unkeyed")
    answer = api.post(f"/collections/{other['id']}/data", json=booking())
    assert answer.status_code == 409
    assert answer.json()["code"] == "no_primary_identifier"
    assert "POST /v1/<org>/identifiers" in answer.json()["detail"]


def test_a_record_failing_validation_is_kept_with_its_reasons(api, flights, orm):
    coll_id = flights["collection"]["id"]
    bad = booking(bookingDate="2020-02-30", flightId=7)
    answer = api.post("/collections/flight-booking/data", json=[bad])
    errors = [
        {"attr": "flightId", "code": "invalid_type", "detail": "Expected string at flightId, "
         "got int."},
        {"attr": "bookingDate", "code": "invalid_date",
         "detail": "'2020-02-30' is not an ISO date such as 2020-05-25."},
    ]
    assert answer.status_code == 400
    assert answer.json() == {
        "type": "urn:sluice:problem:all_records_rejected", "title": "Bad Request", "status": 400,
        "code": "all_records_rejected",
        "detail": "No record was valid; each is kept in the rejected list "
                  "(GET /v1/<org>/rejected) with its reasons.",
        "errors": [{**e, "attr": f"records[0].{e['attr']}"} for e in errors],
        "accepted": 0, "rejected": [{"index": 0, "errors": errors}], "warnings": [],
        "_links": hal_links(org_base(api), "/collections/flight-booking/data",
                            records=f"/collections/{coll_id}/data",
                            rejected=f"/rejected?collId={coll_id}"),
    }
    [kept] = wait_for(lambda: list(RejectedRecord.objects.filter(collection_id=int(coll_id))))
    assert kept.raw == bad and kept.errors == errors and kept.schema_version == 1


def test_gzip_and_chunked_bodies_are_read_as_any_other(api, flights, orm):
    coll = flights["collection"]
    zipped, chunked, both = booking(), booking(), booking()
    path = f"/collections/{coll['id']}/data"
    gzip_header = {"Content-Encoding": "gzip", "Content-Type": "application/json"}
    text = json.dumps(chunked).encode()
    for content, headers in [
        (gzip.compress(json.dumps(zipped).encode()), gzip_header),
        (iter([text[:50], text[50:]]), {"Content-Type": "application/json"}),  # chunked
        (iter([gzip.compress(json.dumps(both).encode())]), gzip_header),
    ]:
        answer = api.post(path, content=content, headers=headers)
        assert (answer.status_code, answer.json()["accepted"]) == (202, 1), answer.text
    rows = stored(coll["id"], 3)
    assert sorted(row.key for row in rows) == sorted(r["eventId"] for r in (zipped, chunked, both))

    brotli = api.post(path, content=b"...", headers={"Content-Encoding": "br"})
    assert brotli.status_code == 415
    assert brotli.json() == problem(415, "unsupported_encoding", "Content-Encoding 'br' is not "
                                    "supported: send the body as it is, or compressed with gzip.")
    not_gzip = api.post(path, json=booking(), headers={"Content-Encoding": "gzip"})
    assert (not_gzip.status_code, not_gzip.json()["code"]) == (400, "invalid_encoding")
    bomb = gzip.compress(b" " * (17 * 1024 * 1024))
    answer = api.post(path, content=bomb, headers=gzip_header)
    assert answer.json() == problem(413, "request_too_large", "The request body inflates beyond "
                                    "the limit; at most 512000 bytes (500 KB) are accepted. "
                                    "Send fewer records per request.")
