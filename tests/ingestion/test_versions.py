"""Send in any schema version, read in any version, through the live stack: a sender names the
version it wrote (`?schemaVersion=` on the data POST), and a reader gets each record resolved
from the version it was written in to the one it asks for, by Avro's rules."""

import uuid

import pytest

from apps.records.models import Record
from tests.fixtures import record, schema
from tests.helpers import (
    create_collection,
    create_identifier,
    create_source,
    problem,
    validation,
    wait_for,
)

V2_ONLY = {"seats": 2, "fare": 120.5}


def booking(**fields):
    return {**record("flight-booking"), "eventId": str(uuid.uuid4()), **fields}


def stored(event_id):
    return wait_for(lambda: Record.objects.filter(key=event_id).first())


@pytest.fixture
def two_versions(api, flights):
    """The flights collection at version 2 (fixtures/schemas/flight-booking-v2.avsc)."""
    coll_id = flights["collection"]["id"]
    changed = api.patch(f"/collections/{coll_id}", json={"schema": schema("flight-booking-v2")})
    assert changed.json()["schemaVersion"] == 2, changed.text
    return coll_id


def test_a_sender_names_the_version_it_wrote(api, two_versions, orm):
    url = f"/collections/{two_versions}/data"
    old, new = booking(), booking(**V2_ONLY)
    sent = api.post(url, params={"schemaVersion": 1}, json=old)
    assert (sent.status_code, sent.json()["accepted"], sent.json()["warnings"]) == (202, 1, [])
    assert api.post(url, json=new).status_code == 202
    assert (stored(old["eventId"]).schema_version, stored(old["eventId"]).data) == (1, old)
    assert stored(new["eventId"]).schema_version == 2
    assert stored(new["eventId"]).identifiers == {"profileId": new["eventId"]}

    in_v1 = api.post(url, params={"schemaVersion": "1"}, json=booking(**V2_ONLY))
    assert in_v1.json()["warnings"] == [{"index": 0, "fields": ["seats", "fare"], "detail":
                                         "Fields not in the schema were not stored: seats, "
                                         "fare."}]
    latest = booking(**V2_ONLY)
    assert api.post(url, params={"schemaVersion": "latest"}, json=latest).status_code == 202
    assert stored(latest["eventId"]).schema_version == 2


def test_an_unknown_version_is_refused_naming_schema_version(api, two_versions, orm):
    url = f"/collections/{two_versions}/data"
    unknown = api.post(url, params={"schemaVersion": 3}, json=booking())
    assert (unknown.status_code, unknown.json()) == (400, validation((
        "schemaVersion", "unknown_schema_version", "The collection 'flight-booking' has no "
        "schema version 3; its versions are 1, 2.")))
    for wrong in ("0", "two", "-1"):
        answer = api.post(url, params={"schemaVersion": wrong}, json=booking())
        assert answer.json() == validation(("schemaVersion", "invalid", "`schemaVersion` is a "
                                            "version number of the collection's schema, or "
                                            "`latest`."))
        assert api.get(url, params={"schemaVersion": wrong}).status_code == 400
    assert api.get(url, params={"schemaVersion": 3}).json() == unknown.json()


def test_a_reader_gets_every_record_in_the_version_it_asks(api, two_versions, orm):
    url = f"/collections/{two_versions}/data"
    old, new = booking(bookingId="old"), booking(bookingId="new", **V2_ONLY)
    api.post(url, params={"schemaVersion": 1}, json=old)
    stored(old["eventId"])
    api.post(url, json=new)
    stored(new["eventId"])

    def page(**params):
        answer = api.get(url, params=params)
        assert answer.status_code == 200, answer.text
        return [(r["schemaVersion"], r["data"]) for r in answer.json()["_embedded"]["records"]]

    assert page() == [(2, new), (1, old)]  # as written, without the parameter
    assert page(schemaVersion=2) == page(schemaVersion="latest") == [
        (2, new), (2, {**old, "seats": 1, "fare": None})]
    assert page(schemaVersion=1) == [(1, record_of_v1(new)), (1, old)]
    assert page(schemaVersion=2, bookingId="old", limit=1) == [
        (2, {**old, "seats": 1, "fare": None})]

    listed = api.get(url, params={"schemaVersion": 2, "limit": 1}).json()
    assert listed["_links"]["next"]["href"].endswith("schemaVersion=2&limit=1&cursor="
                                                     + listed["_embedded"]["records"][0]["id"])
    older = api.get(listed["_links"]["next"]["href"]).json()["_embedded"]["records"][0]
    detail = api.get(f"{url}/{older['id']}", params={"schemaVersion": 2})
    assert detail.json() == older
    assert api.get(f"{url}/{older['id']}").json() == {**older, "schemaVersion": 1, "data": old}


def record_of_v1(data):
    return {name: value for name, value in data.items() if name not in V2_ONLY}


def test_a_record_a_version_cannot_read_is_a_409_naming_it(api, two_versions, orm):
    url = f"/collections/{two_versions}/data"
    v3 = schema("flight-booking-v2")
    v3["fields"] = [f for f in v3["fields"] if f["name"] != "flightId"]
    assert api.patch(f"/collections/{two_versions}", json={"schema": v3}).status_code == 200
    sent = record_of_v1(booking())
    del sent["flightId"]
    api.post(url, json=sent)
    row = stored(sent["eventId"])
    answer = api.get(url, params={"schemaVersion": 1})
    detail = (f"The record {row.id} of 'flight-booking', written in schema version 3, cannot "
              "be read in version 1 by Avro's rules: No default value for field flightId in "
              "com.intempt.data.source.web.flight_booking_schema. Read it without "
              "schemaVersion, or in a version that can read it.")
    assert (answer.status_code, answer.json()) == (409, problem(409, "unreadable_in_version",
                                                                detail, [{
        "attr": "schemaVersion", "code": "unreadable_in_version", "detail": detail}]))
    assert [r["data"] for r in api.get(url, params={"schemaVersion": "latest"}).json()[
        "_embedded"]["records"]] == [{**sent, "seats": 1, "fare": None}]  # defaults stored


def test_profiles_and_related_records_are_read_in_a_version(api, worker, orm):
    source = create_source(api, name="members-source")
    members_v1 = {"type": "record", "name": "member", "fields": [
        {"name": "memberId", "type": "string"}, {"name": "email", "type": "string"}]}
    visits_v1 = {"type": "record", "name": "visit", "fields": [
        {"name": "visitId", "type": "string"}, {"name": "memberId", "type": "string"},
        {"name": "pages", "type": "int"}]}
    members = create_collection(api, source["id"], name="members", avro=members_v1,
                                profile=True, event=False)
    visits = create_collection(api, source["id"], name="visits", avro=visits_v1)
    primary = create_identifier(api, members["id"], name="memberId",
                                fields=(("memberId", "string"),))
    create_identifier(api, visits["id"], name="visitId", fields=(("visitId", "string"),))
    create_identifier(api, visits["id"], kind="foreign", name="member",
                      fields=(("memberId", "string"),), referenceId=primary["id"])
    api.post(f"/collections/{members['id']}/data", json={"memberId": "m1", "email": "a@x"})
    api.post(f"/collections/{visits['id']}/data",
             json={"visitId": "v1", "memberId": "m1", "pages": 3})
    stored("m1"), stored("v1")
    members_v2 = {**members_v1, "fields": [*members_v1["fields"], {
        "name": "plan", "type": "string", "default": "free"}]}
    visits_v2 = {**visits_v1, "fields": [*visits_v1["fields"][:2], {
        "name": "pageCount", "type": "long", "aliases": ["pages"]}]}
    api.patch(f"/collections/{members['id']}", json={"schema": members_v2})
    api.patch(f"/collections/{visits['id']}", json={"schema": visits_v2})

    profile = api.get("/profiles/members/m1", params={"schemaVersion": 2}).json()
    assert (profile["record"]["schemaVersion"], profile["record"]["data"]) == (
        2, {"memberId": "m1", "email": "a@x", "plan": "free"})
    assert api.get("/profiles/members/m1").json()["record"]["data"] == {
        "memberId": "m1", "email": "a@x"}
    related = api.get("/profiles/members/m1/related/visits", params={"schemaVersion": "latest"})
    assert [r["data"] for r in related.json()["_embedded"]["records"]] == [
        {"visitId": "v1", "memberId": "m1", "pageCount": 3}]
    assert api.get("/profiles/members/m1/related/visits",
                   params={"schemaVersion": 5}).json()["errors"][0]["code"] == (
        "unknown_schema_version")
