"""The Avro module on its own: schema problems with their paths, key types, and records
checked strictly where fastavro is lenient."""

from apps.catalog.avro import RecordValidator, key_type, record_schema_problems
from tests.fixtures import record, schema


def test_a_valid_schema_has_no_problems_and_named_types_resolve():
    assert record_schema_problems(schema("flight-booking")) == []
    nested = {"type": "record", "name": "order", "namespace": "shop", "fields": [
        {"name": "status", "type": {"type": "enum", "name": "status", "symbols": ["OPEN"]}},
        {"name": "previous", "type": ["null", "status"], "default": None},
        {"name": "lines", "type": {"type": "array", "items": {
            "type": "record", "name": "line", "fields": [{"name": "sku", "type": "string"}]}}},
        {"name": "again", "type": "shop.line"},
    ]}
    assert record_schema_problems(nested) == []


def test_problems_name_their_path():
    assert record_schema_problems({"type": "record", "name": "x", "fields": [
        {"name": "a", "type": {"type": "array"}},
        {"name": "b", "type": {"type": "enum", "name": "e", "symbols": ["A", "A"]}},
        {"name": "c", "type": {"type": "fixed", "name": "f", "size": -1}},
        {"name": "d", "type": ["null", ["int"]]},
        {"type": "int"},
    ]}) == [
        ("schema.fields[0].type.items", "This field is required."),
        ("schema.fields[1].type.symbols", "Symbols must be unique."),
        ("schema.fields[2].type.size", "A fixed needs a non-negative integer `size`."),
        ("schema.fields[3].type[1]", "A union may not directly contain another union."),
        ("schema.fields[4].name", "A field name starts with a letter or _ and holds only "
         "letters, digits and _."),
    ]


def test_key_types():
    assert key_type("string") == "string"
    assert key_type({"type": "long", "logicalType": "timestamp-millis"}) == "long"
    assert key_type(["null", "int"]) == "int"
    assert key_type(["null", "int", "string"]) is None
    assert key_type("double") is None
    assert key_type({"type": "map", "values": "string"}) is None


def test_records_are_checked_strictly():
    validator = RecordValidator(schema("flight-booking"))
    good = record("flight-booking")
    assert validator.problems(good) == []
    assert validator.problems({**good, "bookingDate": "2020-02-30"}) == [
        ("bookingDate", "invalid_date", "'2020-02-30' is not an ISO date such as 2020-05-25.")]
    assert validator.problems({**good, "bookingId": None, "flightId": True}) == [
        ("bookingId", "required", "The field 'bookingId' is required (string)."),
        ("flightId", "invalid_type", "Expected string at flightId, got bool."),
    ]
    wide = RecordValidator({"type": "record", "name": "x", "fields": [
        {"name": "n", "type": "int"}, {"name": "t", "type": {
            "type": "string", "logicalType": "timestamp-millis"}},
        {"name": "u", "type": ["null", {"type": "string", "logicalType": "uuid"}],
         "default": None}]})
    data, unknown = wide.split({"n": 2**31, "t": "2020-05-25T10:00:00Z", "extra": 1})
    assert data == {"n": 2**31, "t": "2020-05-25T10:00:00Z", "u": None}
    assert unknown == ["extra"]
    assert wide.problems(data) == [("n", "out_of_range", "2147483648 does not fit an Avro int "
                                    "(n).")]
    assert wide.problems({"n": 1, "t": "soon", "u": "not-a-uuid"}) == [
        ("t", "invalid_timestamp_millis", "'soon' is not an ISO timestamp such as "
         "2020-05-25T14:30:00Z."),
        ("u", "invalid_uuid", "'not-a-uuid' is not a UUID such as "
         "3f1c6a52-6b0e-4d0a-9c1e-5b2f0f7a9d11."),
    ]
