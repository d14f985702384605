"""Avro values as Sluice takes, stores and reads them back (no database, no server): every
bad value is a problem with its path and never an exception, bytes and fixed travel in
Avro's JSON encoding, nested fields not in the schema are left out, each int and long logical
type has one stored form, and float and double values read back as floats."""

from typing import Any

import pytest

from apps.catalog.avro import RecordReader, RecordValidator, query_value

LONG_LIST = {"type": "record", "name": "LongList", "fields": [
    {"name": "value", "type": "long"}, {"name": "next", "type": ["null", "LongList"]}]}
DATE = {"type": "int", "logicalType": "date"}
DECIMAL = {"type": "bytes", "logicalType": "decimal", "precision": 5, "scale": 2}
MONEY = {"type": "fixed", "name": "money", "size": 2, "logicalType": "decimal", "precision": 4,
         "scale": 1}
MD5 = {"type": "fixed", "name": "md5", "size": 4}


def record(*fields: tuple[str, Any]) -> dict[str, Any]:
    return {"type": "record", "name": "r", "fields": [
        {"name": name, "type": kind} for name, kind in fields]}


def checked(kind: Any, value: Any) -> tuple[Any, list[tuple[str, str, str]]]:
    """The stored value of one field `v` of type `kind`, and the record's problems."""
    result = RecordValidator(record(("v", kind))).check({"v": value})
    return result.data["v"], result.problems


# ---------------------------------------------------------------------------
# A bad value is a problem, never an exception
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("text", ["2021-02-29", "2020-13-45", "25/05/2020"])
def test_an_impossible_date_is_a_problem_of_its_record(text):
    assert checked(DATE, text) == (text, [("v", "invalid_date", f"{text!r} is not an ISO date "
                                           "such as 2020-05-25, or days since 1970-01-01.")])


def test_an_invalid_record_of_a_recursive_schema_names_the_deep_path():
    validator = RecordValidator(LONG_LIST)
    assert validator.problems({"value": 1, "next": {"value": 2, "next": {
        "value": "three", "next": None}}}) == [
        ("next.next.value", "invalid_type", "Expected long at next.next.value, got str.")]
    assert validator.problems({"value": 1, "next": {"value": 2, "next": 5}}) == [
        ("next.next", "invalid_type", "Expected null or LongList at next.next, got int.")]
    assert validator.problems({"value": 1, "next": {"value": 2, "next": None}}) == []


def test_every_bad_value_is_named_at_its_own_path():
    validator = RecordValidator(record(
        ("when", {"type": "array", "items": DATE}),
        ("by", {"type": "map", "values": ["null", DATE]}),
        ("inner", record(("n", "int"), ("money", MONEY)) | {"name": "inner"}),
    ))
    assert validator.problems({"when": [18407, "2020-02-30"], "by": {"a": None, "b": "x"},
                               "inner": {"n": 2**31, "money": "\u0001"}}) == [
        ("when[1]", "invalid_date",
         "'2020-02-30' is not an ISO date such as 2020-05-25, or days since 1970-01-01."),
        ("by.b", "invalid_date",
         "'x' is not an ISO date such as 2020-05-25, or days since 1970-01-01."),
        ("inner.n", "out_of_range", "2147483648 does not fit an Avro int (inner.n)."),
        ("inner.money", "wrong_size", "money at inner.money holds exactly 2 bytes, got 1."),
    ]


# ---------------------------------------------------------------------------
# bytes, fixed and decimals
# ---------------------------------------------------------------------------
@pytest.mark.parametrize(("kind", "value"), [
    ("bytes", ""), ("bytes", "\u00ff\u0001abc"), (MD5, "\u00ff\u0001ab"),
    (["null", "bytes"], "\u00e9"), ({"type": "array", "items": "bytes"}, ["a", "\u00ff"]),
])
def test_bytes_and_fixed_are_strings_whose_characters_are_the_bytes(kind, value):
    assert checked(kind, value) == (value, [])


@pytest.mark.parametrize(("kind", "value", "problem"), [
    ("bytes", "caf\u00e9 \u2713", ("invalid_bytes", "Expected bytes at v in Avro's JSON "
     "encoding: a string whose characters U+0000 to U+00FF are the bytes.")),
    ("bytes", 5, ("invalid_type", "Expected bytes at v, got int.")),
    ("bytes", [1, 2], ("invalid_type", "Expected bytes at v, got list.")),
    (MD5, "abc", ("wrong_size", "md5 at v holds exactly 4 bytes, got 3.")),
    (MD5, "abcde", ("wrong_size", "md5 at v holds exactly 4 bytes, got 5.")),
    (MD5, "ab\u2713d", ("invalid_bytes", "Expected md5 at v in Avro's JSON encoding: a string "
                        "whose characters U+0000 to U+00FF are the bytes.")),
])
def test_bytes_and_fixed_refuse_other_values(kind, value, problem):
    assert checked(kind, value)[1] == [("v", *problem)]


@pytest.mark.parametrize(("kind", "value", "stored"), [
    (DECIMAL, "12.34", "12.34"), (DECIMAL, "12.3", "12.30"), (DECIMAL, "-7", "-7.00"),
    (DECIMAL, "+999.99", "999.99"),
    (DECIMAL, "\u0004\u00d2", "12.34"),  # 1234, two's complement, scale 2
    (DECIMAL, "\u00fb\u002e", "-12.34"),
    (MONEY, "\u0001\u0000", "25.6"), (MONEY, "-3.5", "-3.5"),
])
def test_a_decimal_is_sent_as_its_text_or_its_bytes_and_stored_as_its_text(kind, value, stored):
    assert checked(kind, value) == (stored, [])


@pytest.mark.parametrize(("kind", "value"), [
    (DECIMAL, "1234.5"), (DECIMAL, "0.001"), (DECIMAL, "\u0001\u0086\u00a0"),  # 100000
    (MONEY, "3276.8"),  # 32768 holds 5 digits
    (MONEY, "-1000.0"), (MONEY, "\u0001"),
])
def test_a_decimal_beyond_its_precision_scale_or_size_is_refused(kind, value):
    code = "wrong_size" if value == "\u0001" else "invalid_decimal"
    assert [problem[:2] for problem in checked(kind, value)[1]] == [("v", code)]


def test_a_decimal_problem_says_what_the_field_takes():
    assert checked(DECIMAL, "1.234")[1] == [("v", "invalid_decimal", "'1.234' at v is not a "
                                             "decimal of at most 5 digits, 2 of them after the "
                                             'point (such as "0.01").')]


# ---------------------------------------------------------------------------
# Nested fields not in the schema
# ---------------------------------------------------------------------------
def test_nested_fields_not_in_the_schema_are_named_and_left_out_and_defaults_not_filled():
    address = {"type": "record", "name": "address", "fields": [
        {"name": "street", "type": "string"},
        {"name": "floor", "type": "int", "default": 0}]}
    validator = RecordValidator(record(
        ("address", address), ("previous", ["null", "address"]),
        ("others", {"type": "array", "items": "address"})))
    result = validator.check({"address": {"street": "a", "extra": 1},
                              "previous": {"street": "b", "floor": 2, "zip": "x"},
                              "others": [{"street": "c"}, {"street": "d", "more": {}}]})
    assert result.problems == []
    assert result.unknown == ["address.extra", "previous.zip", "others[1].more"]
    assert result.data == {"address": {"street": "a"}, "previous": {"street": "b", "floor": 2},
                           "others": [{"street": "c"}, {"street": "d"}]}


def test_the_nested_fields_of_a_recursive_record_are_left_out_at_any_depth():
    result = RecordValidator(LONG_LIST).check(
        {"value": 1, "next": {"value": 2, "x": 0, "next": {"value": 3, "next": None, "y": 0}}})
    assert result.unknown == ["next.x", "next.next.y"]
    assert result.data == {"value": 1, "next": {"value": 2, "next": {"value": 3, "next": None}}}


# ---------------------------------------------------------------------------
# One stored form for each int and long logical type
# ---------------------------------------------------------------------------
@pytest.mark.parametrize(("logical", "base", "text", "number"), [
    ("date", "int", "2020-05-25", 18407), ("date", "int", "1969-12-31", -1),
    ("time-millis", "int", "14:30:00", 52_200_000),
    ("time-millis", "int", "14:30:00.123", 52_200_123),
    ("time-micros", "long", "14:30:00.000001", 52_200_000_001),
    ("timestamp-millis", "long", "2020-05-25T10:00:00Z", 1_590_400_800_000),
    ("timestamp-millis", "long", "2020-05-25T12:00:00.5+02:00", 1_590_400_800_500),
    ("timestamp-micros", "long", "2020-05-25T10:00:00.000001Z", 1_590_400_800_000_001),
    ("local-timestamp-millis", "long", "2020-05-25T10:00:00", 1_590_400_800_000),
    ("local-timestamp-micros", "long", "2020-05-25T10:00:00.25", 1_590_400_800_250_000),
])
def test_an_int_or_long_logical_type_is_stored_as_its_number_however_it_is_sent(
        logical, base, text, number):
    kind = {"type": base, "logicalType": logical}
    assert checked(kind, text) == (number, [])
    assert checked(kind, number) == (number, [])
    assert checked(["null", kind], text) == (number, [])
    assert query_value(kind, text) == number
    assert query_value(kind, str(number)) == number


@pytest.mark.parametrize(("logical", "text", "base"), [
    ("time-millis", "14:30:00.0001", "int"),  # finer than its unit
    ("time-millis", "14:30", "int"), ("time-millis", "24:00:00", "int"),
    ("timestamp-millis", "2020-05-25T10:00:00", "long"),  # an instant needs its offset
    ("timestamp-millis", "2020-05-25 10:00:00Z", "long"),
    ("local-timestamp-millis", "2020-05-25T10:00:00Z", "long"),  # local: no offset
    ("date", "2020-05-25T00:00:00Z", "int"), ("date", "18407", "int"),
])
def test_logical_type_text_that_is_not_exactly_its_iso_form_is_refused(logical, text, base):
    code = f"invalid_{logical.replace('-', '_')}"
    assert [problem[:2] for problem in checked({"type": base, "logicalType": logical},
                                               text)[1]] == [("v", code)]
    if text != "18407":  # a filter's text is a number when it reads as one
        with pytest.raises(ValueError):
            query_value({"type": base, "logicalType": logical}, text)


def test_a_logical_number_beyond_its_type_is_out_of_range():
    assert checked(DATE, "9999-12-31") == (2_932_896, [])
    assert checked({"type": "int", "logicalType": "time-millis"}, 2**31)[1] == [
        ("v", "out_of_range", "2147483648 does not fit an Avro int (v).")]


def test_a_decimal_filter_is_the_decimal_as_stored():
    assert query_value(DECIMAL, "12.3") == "12.30"
    assert query_value(["null", MONEY], "-3") == "-3.0"
    for raw in ["12.345", "x", "\u0004\u00d2"]:
        with pytest.raises(ValueError):
            query_value(DECIMAL, raw)


# ---------------------------------------------------------------------------
# Reading back
# ---------------------------------------------------------------------------
def test_float_and_double_values_read_back_as_floats_wherever_they_stand():
    reader = RecordReader(record(
        ("d", "double"), ("f", "float"), ("n", "long"), ("maybe", ["null", "double"]),
        ("either", ["long", "double"]), ("list", {"type": "array", "items": "double"}),
        ("by", {"type": "map", "values": "float"}),
        ("inner", record(("x", "double")) | {"name": "inner"})))
    stored = {"d": 10**300, "f": 2, "n": 10**18, "maybe": 3, "either": 10**30, "list": [1, 2.5],
              "by": {"a": 0}, "inner": {"x": 7}, "gone": 1}
    read = reader.read(stored)
    assert read == {"d": 1e300, "f": 2.0, "n": 10**18, "maybe": 3.0, "either": 1e30,
                    "list": [1.0, 2.5], "by": {"a": 0.0}, "inner": {"x": 7.0}, "gone": 1}
    assert [type(read[name]) for name in ("d", "f", "n", "maybe", "either")] == [
        float, float, int, float, float]
    assert reader.read({"d": 0, "either": 5})["either"] == 5  # a long first: 5 is a long


def test_records_of_a_schema_without_floats_are_read_back_as_they_are():
    stored = {"a": 1}
    assert RecordReader(record(("a", "long"))).read(stored) is stored
