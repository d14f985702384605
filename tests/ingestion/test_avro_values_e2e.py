"""Avro to the letter through a real server, worker and PostgreSQL: a bad value rejects its
own record (202, never a 5xx), bytes, fixed and decimals travel as Avro's JSON encoding says,
logical types are stored one way and filtered either way, numbers read back as their type,
and schemas Avro forbids are refused with the path of the fault."""

from typing import Any

import pytest

from apps.records.models import Record, RejectedRecord
from tests.helpers import create_collection, create_identifier, create_source, validation, wait_for

EVENT_ID = {"name": "eventId", "type": "string"}
ADDRESS = {"type": "record", "name": "address", "fields": [{"name": "street", "type": "string"}]}
SCHEMA = {"type": "record", "name": "purchase", "fields": [
    EVENT_ID,
    {"name": "day", "type": {"type": "int", "logicalType": "date"}},
    {"name": "at", "type": ["null", {"type": "long", "logicalType": "timestamp-millis"}],
     "default": None},
    {"name": "price", "type": ["null", {"type": "bytes", "logicalType": "decimal",
                                        "precision": 8, "scale": 2}], "default": None},
    {"name": "digest", "type": ["null", {"type": "fixed", "name": "digest", "size": 2}],
     "default": None},
    {"name": "blob", "type": ["null", "bytes"], "default": None},
    {"name": "ratio", "type": ["null", "double"], "default": None},
    {"name": "address", "type": ["null", ADDRESS], "default": None},
]}
LONG_LIST = {"type": "record", "name": "LongList", "fields": [
    {**EVENT_ID, "default": ""}, {"name": "value", "type": "long"},
    {"name": "next", "type": ["null", "LongList"], "default": None}]}


@pytest.fixture
def collection_of(api: Any, worker: Any) -> Any:
    """Makes a collection of the given schema, keyed by eventId: its id."""
    source = create_source(api)

    def make(schema: dict[str, Any], name: str) -> str:
        collection = create_collection(api, source["id"], name=name, avro=schema)
        create_identifier(api, collection["id"])
        return str(collection["id"])
    return make


def records_of(coll_id: str, count: int) -> list[Record]:
    return wait_for(lambda: (rows := list(Record.objects.filter(
        collection_id=int(coll_id)).order_by("id"))) and len(rows) >= count and rows)


def test_bad_values_reject_their_own_records_and_the_others_are_stored(api, collection_of, orm):
    coll_id = collection_of(SCHEMA, "purchases")
    sent = [{"eventId": "good", "day": "2020-05-25"},
            {"eventId": "feb", "day": "2021-02-29"}, {"eventId": "month", "day": "2020-13-45"},
            {"eventId": "slash", "day": "25/05/2020"},
            {"eventId": "deep", "day": 1, "address": {"street": 5}},
            {"eventId": "wide", "day": 1, "digest": "abc", "blob": "\u2713", "price": "1.234"}]
    answer = api.post(f"/collections/{coll_id}/data", json=sent)
    assert answer.status_code == 202, answer.text
    body = answer.json()
    assert body["accepted"] == 1
    assert [(entry["index"], [(e["attr"], e["code"]) for e in entry["errors"]])
            for entry in body["rejected"]] == [
        (1, [("day", "invalid_date")]), (2, [("day", "invalid_date")]),
        (3, [("day", "invalid_date")]), (4, [("address.street", "invalid_type")]),
        (5, [("price", "invalid_decimal"), ("digest", "wrong_size"), ("blob", "invalid_bytes")]),
    ]
    [row] = records_of(coll_id, 1)
    assert row.data["day"] == 18407
    rejected = wait_for(lambda: (rows := list(RejectedRecord.objects.filter(
        collection_id=int(coll_id)))) and len(rows) == 5 and rows)
    assert sorted(item.raw["eventId"] for item in rejected) == [
        "deep", "feb", "month", "slash", "wide"]


def test_a_bad_record_of_a_recursive_schema_is_rejected_not_a_server_error(api, collection_of,
                                                                          orm):
    coll_id = collection_of(LONG_LIST, "long-list")
    answer = api.post(f"/collections/{coll_id}/data", json=[
        {"eventId": "a", "value": 1, "next": {"value": "two", "next": None}},
        {"eventId": "b", "value": 1, "next": {"value": 2, "next": None, "extra": 0}}])
    assert answer.status_code == 202, answer.text
    body = answer.json()
    assert body["accepted"] == 1
    assert body["rejected"][0]["errors"] == [
        {"attr": "next.value", "code": "invalid_type",
         "detail": "Expected long at next.value, got str."}]
    assert body["warnings"] == [{"index": 1, "fields": ["next.extra"],
                                 "detail": "Fields not in the schema were not stored: "
                                 "next.extra."}]
    [row] = records_of(coll_id, 1)
    assert row.data == {"eventId": "b", "value": 1, "next": {"value": 2, "next": None}}


def test_values_are_stored_one_way_read_back_as_their_type_and_filtered_either_way(
        api, collection_of, orm):
    coll_id = collection_of(SCHEMA, "purchases")
    sent = {"eventId": "e1", "day": "2020-05-25", "at": "2020-05-25T12:00:00+02:00",
            "price": "\u0004\u00d2", "digest": "\u00ff\u0001", "blob": "\u00e9t\u00e9",
            "ratio": 1e300, "address": {"street": "Main", "zip": "x"}}
    answer = api.post(f"/collections/{coll_id}/data", json=[sent, {"eventId": "e2",
                                                                   "day": 18408}])
    assert answer.status_code == 202, answer.text
    assert answer.json()["warnings"] == [{"index": 0, "fields": ["address.zip"], "detail":
                                          "Fields not in the schema were not stored: "
                                          "address.zip."}]
    records_of(coll_id, 2)
    url = f"/collections/{coll_id}/data"
    for day in ("2020-05-25", "18407"):
        [read] = api.get(url, params={"day": day}).json()["_embedded"]["records"]
        assert read["data"] == {"eventId": "e1", "day": 18407, "at": 1590400800000,
                                "price": "12.34", "digest": "\u00ff\u0001",
                                "blob": "\u00e9t\u00e9", "ratio": 1e300,
                                "address": {"street": "Main"}}
    raw = api.get(url, params={"price": "12.340"}).text
    assert '"ratio":1e+300' in raw.replace(" ", "")
    assert api.get(url, params={"at": "2020-05-25T10:00:00Z"}).json()["_embedded"]["records"]
    assert api.get(url, params={"day": "2020-02-30"}).status_code == 400


@pytest.mark.parametrize(("field", "message"), [
    ({"name": "b", "type": "bytes", "default": "\u00ff\u0000"},
     "Sluice keeps schemas as PostgreSQL JSON, which cannot hold the NUL character (\\u0000): "
     "leave it out."),
    ({"name": "n", "type": "int", "default": 2**31},
     "The default is not a value of the field's type: 2147483648 does not fit an Avro int "
     "(default)."),
])
def test_a_schema_avro_forbids_is_refused_with_the_path_of_the_fault(api, field, message):
    source = create_source(api)
    answer = api.post("/collections", json={
        "sourceId": source["id"], "name": "bad", "profile": False, "event": True,
        "schema": {"type": "record", "name": "r", "fields": [EVENT_ID, field]}})
    assert answer.status_code == 400
    assert answer.json() == validation(("schema.fields[1].default", "invalid_schema", message))
