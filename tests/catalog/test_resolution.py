"""Records read in another schema version than they were written in, by Avro's resolution
rules (fastavro's), on their own: no database, no server. Apache Avro, the reference, reads
the seed's booking the same way."""

import io
import json
from typing import Any

import avro.io
import avro.schema
import pytest

from apps.catalog.avro import RecordResolver, RecordValidator, Unresolvable, resolver_for
from apps.core.ids import new_id
from tests.fixtures import record, schema


def rec(*fields: dict[str, Any], name: str = "r", **attributes: Any) -> dict[str, Any]:
    return {"type": "record", "name": name, "fields": list(fields), **attributes}


def field(name: str, kind: Any, **attributes: Any) -> dict[str, Any]:
    return {"name": name, "type": kind, **attributes}


def read(writer: Any, reader: Any, value: Any) -> Any:
    """`value` of a field written as `writer`, as a field of type `reader` reads it."""
    resolver = RecordResolver(rec(field("a", writer)), rec(field("a", reader)))
    return resolver.resolved({"a": value})["a"]


@pytest.mark.parametrize(("writer", "reader", "value", "expected"), [
    ("int", "long", 7, 7),
    ("int", "float", 7, 7.0),
    ("int", "double", 7, 7.0),
    ("long", "float", 2**40, 1099511600000.0),  # the shortest number of that 32-bit float
    ("long", "double", 2**53, 9007199254740992.0),
    ("float", "double", 1.5, 1.5),
    ("float", "double", 1.1, 1.100000023841858),  # the float written, exactly
    ("string", "bytes", "café", "cafÃ©"),  # UTF-8 bytes, as Avro's JSON encoding shows them
    ("bytes", "string", b"caf\xc3\xa9", "café"),  # bytes of a writer that held them
])
def test_each_promotion_is_applied(writer, reader, value, expected):
    assert read(writer, reader, value) == expected
    assert type(read(writer, reader, value)) is type(expected)


def test_a_float_reads_back_as_the_number_sent():
    assert read("float", "float", 1.1) == 1.1
    assert read("int", "float", 123456789) == 123456790.0  # the nearest 32-bit float
    assert read(["null", "float"], ["null", "float"], 0.2) == 0.2


def test_fields_the_reader_adds_take_their_defaults():
    resolver = RecordResolver(rec(field("a", "string")), rec(
        field("a", "string"), field("n", "int", default=1), field("o", ["null", "long"],
                                                                   default=None),
        field("e", {"type": "enum", "name": "E", "symbols": ["X", "Y"]}, default="Y"),
        field("m", {"type": "map", "values": "int"}, default={"k": 2}),
        field("b", "bytes", default="\u00ff"),
        field("r", rec(field("x", "double"), name="R"), default={"x": 1})))
    assert resolver.resolved({"a": "v"}) == {"a": "v", "n": 1, "o": None, "e": "Y",
                                             "m": {"k": 2}, "b": "\u00ff", "r": {"x": 1.0}}


def test_aliases_are_followed_for_fields_and_records():
    resolver = RecordResolver(rec(field("flightId", "string"), name="booking"), rec(
        field("flightNumber", "string", aliases=["flightId"]), name="trip",
        aliases=["booking"]))
    assert resolver.resolved({"flightId": "LH1"}) == {"flightNumber": "LH1"}


def test_fields_the_reader_removed_are_dropped():
    resolver = RecordResolver(rec(field("a", "string"), field("gone", "int")),
                              rec(field("a", "string")))
    assert resolver.resolved({"a": "v", "gone": 3}) == {"a": "v"}


def test_nested_records_arrays_and_maps_are_resolved_inside():
    leg = rec(field("from", "string"), field("km", "int"), name="Leg")
    leg_v2 = rec(field("from", "string"), field("km", "double"),
                 field("stops", "int", default=0), name="Leg")
    writer = rec(field("legs", {"type": "array", "items": leg}),
                 field("byCode", {"type": "map", "values": "Leg"}))
    reader = rec(field("legs", {"type": "array", "items": leg_v2}),
                 field("byCode", {"type": "map", "values": "Leg"}))
    resolved = RecordResolver(writer, reader).resolved(
        {"legs": [{"from": "FRA", "km": 400}], "byCode": {"x": {"from": "MUC", "km": 2}}})
    assert resolved == {"legs": [{"from": "FRA", "km": 400.0, "stops": 0}],
                        "byCode": {"x": {"from": "MUC", "km": 2.0, "stops": 0}}}


@pytest.mark.parametrize(("writer", "reader", "value", "expected"), [
    (["null", "int"], ["null", "long"], 3, 3),
    (["null", "int"], ["null", "long"], None, None),
    ("int", ["null", "long"], 3, 3),  # a type into a union that can hold it
    (["null", "string"], "string", "x", "x"),  # a union into the branch written
    (["null", "string"], ["null", "string", "int"], "x", "x"),
    (["null", "float"], ["null", "double"], 0.5, 0.5),
    (["null", "string"], ["null", "bytes"], "é", "Ã©"),
])
def test_unions_resolve_by_the_branch_written(writer, reader, value, expected):
    assert read(writer, reader, value) == expected


def test_logical_types_keep_the_value_a_record_holds():
    logical = rec(
        field("day", {"type": "string", "logicalType": "date"}),
        field("days", {"type": "int", "logicalType": "date"}),
        field("at", {"type": "long", "logicalType": "timestamp-millis"}),
        field("id", {"type": "string", "logicalType": "uuid"}),
        field("price", {"type": "bytes", "logicalType": "decimal", "precision": 6, "scale": 2},
              default="\u0001"))
    resolver = RecordResolver(rec(*logical["fields"][:4]), logical)
    resolved = resolver.resolved({"day": "2020-05-25", "days": 18407, "at": 1590416400000,
                                  "id": "3f1c6a52-6b0e-4d0a-9c1e-5b2f0f7a9d11"})
    assert resolved == {"day": "2020-05-25", "days": 18407, "at": 1590416400000,
                        "id": "3f1c6a52-6b0e-4d0a-9c1e-5b2f0f7a9d11", "price": "\u0001"}
    # a date sent as an ISO string (fastavro's validation takes one) is the day it names
    assert resolver.resolved({**resolved, "days": "2020-05-25"})["days"] == 18407


def test_a_record_avro_cannot_resolve_is_unresolvable_with_the_reason():
    with pytest.raises(Unresolvable, match="No default value for field seats"):
        RecordResolver(rec(field("a", "string")),
                       rec(field("a", "string"), field("seats", "int"))).resolved({"a": "v"})
    with pytest.raises(Unresolvable, match="string is not int"):
        read("string", "int", "3")
    with pytest.raises(Unresolvable):
        read("long", "int", 3)  # no promotion narrows


@pytest.mark.filterwarnings("ignore:Logical type date requires literal type int")
def test_the_seed_booking_reads_in_v2_as_apache_avro_reads_it():
    v1, v2, booking = schema("flight-booking"), schema("flight-booking-v2"), record(
        "flight-booking")
    ours = RecordResolver(v1, v2).resolved(booking)
    assert ours == {**booking, "seats": 1, "fare": None}
    written = io.BytesIO()
    avro.io.DatumWriter(avro.schema.parse(json.dumps(v1))).write(
        booking, avro.io.BinaryEncoder(written))
    written.seek(0)
    reference = avro.io.DatumReader(avro.schema.parse(json.dumps(v1)),
                                    avro.schema.parse(json.dumps(v2)))
    assert ours == reference.read(avro.io.BinaryDecoder(written))
    assert RecordResolver(v2, v1).resolved(ours) == booking


def test_a_resolver_is_parsed_once_per_collection_and_pair_of_versions():
    collection_id, v1, v2 = new_id(), schema("flight-booking"), schema("flight-booking-v2")
    first = resolver_for(collection_id, (1, v1), (2, v2))
    assert resolver_for(collection_id, (1, v1), (2, v2)) is first
    assert resolver_for(collection_id, (2, v2), (1, v1)) is not first
    assert resolver_for(new_id(), (1, v1), (2, v2)) is not first


def test_values_in_their_stored_form_resolve_to_themselves():
    """Bytes, fixed and decimals are kept as text, int logical types as numbers (how
    validation stores them): resolving such a record keeps each value, and fills a default."""
    written = rec(
        field("b", "bytes"), field("f", {"type": "fixed", "name": "two", "size": 2}),
        field("d", {"type": "bytes", "logicalType": "decimal", "precision": 5, "scale": 2}),
        field("fd", {"type": "fixed", "name": "four", "size": 4, "logicalType": "decimal",
                     "precision": 5, "scale": 3}),
        field("ob", ["null", "bytes"]), field("day", {"type": "int", "logicalType": "date"}),
        field("at", {"type": "long", "logicalType": "timestamp-millis"}))
    stored = RecordValidator(written).check({
        "b": "\u00ff\u0001", "f": "ab", "d": "12.34", "fd": "1.5", "ob": "zz",
        "day": "2020-05-25", "at": "2020-05-25T14:30:00Z"}).data
    later = {**written, "fields": [*written["fields"], field("n", "int", default=3)]}
    assert RecordResolver(written, later).resolved(stored) == {**stored, "n": 3}
    assert stored["fd"] == "1.500" and stored["day"] == 18407
