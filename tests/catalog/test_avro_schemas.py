"""Schemas the Avro specification forbids are refused with the path of each fault (no
database, no server): defaults that are not values of their type, names with an invalid
part, unknown sort orders, invalid aliases, and text PostgreSQL cannot keep."""

from typing import Any

import pytest

from apps.catalog.avro import record_schema_problems

NOT_A_VALUE = "The default is not a value of the field's type: "


def record(*fields: dict[str, Any], name: str = "r", **attributes: Any) -> dict[str, Any]:
    return {"type": "record", "name": name, "fields": list(fields), **attributes}


def field(name: str, kind: Any, **attributes: Any) -> dict[str, Any]:
    return {"name": name, "type": kind, **attributes}


ADDRESS = record(field("street", "string"), field("floor", "int", default=0), name="address")


@pytest.mark.parametrize(("kind", "default", "message"), [
    ("int", 2**31, NOT_A_VALUE + "2147483648 does not fit an Avro int (default)."),
    ("long", 2**63, NOT_A_VALUE + "9223372036854775808 does not fit an Avro long (default)."),
    ("int", 1.5, NOT_A_VALUE + "Expected int at default, got float."),
    ("float", "1.0", NOT_A_VALUE + "Expected float at default, got str."),
    ("double", True, NOT_A_VALUE + "Expected double at default, got bool."),
    ("string", 5, NOT_A_VALUE + "Expected string at default, got int."),
    ("bytes", "\u0100", NOT_A_VALUE + "Expected bytes at default in Avro's JSON encoding: a "
     "string whose characters U+0000 to U+00FF are the bytes."),
    (["null", "string"], "some text", "A union's default is a value of its first type (null); put "
     "the default's type first or change it."),
    (["string", "null"], None, "A union's default is a value of its first type (string); put "
     "the default's type first or change it."),
    (ADDRESS, {"floor": 1}, NOT_A_VALUE + "The field 'default.street' is required (string)."),
    (ADDRESS, {"street": "x", "zip": "1"},
     "The default has a field its record does not: default.zip."),
    ({"type": "enum", "name": "e", "symbols": ["A", "B"]}, "C",
     NOT_A_VALUE + "Expected e at default, got str."),
    ({"type": "fixed", "name": "f", "size": 2}, "ab3",
     NOT_A_VALUE + "f at default holds exactly 2 bytes, got 3."),
    ({"type": "array", "items": "int"}, [1, "2"],
     NOT_A_VALUE + "Expected int at default[1], got str."),
    ({"type": "map", "values": "int"}, {"a": None},
     NOT_A_VALUE + "The field 'default.a' is required (int)."),
    ({"type": "bytes", "logicalType": "decimal", "precision": 3, "scale": 1}, "123.4",
     NOT_A_VALUE + "'123.4' at default is not a decimal of at most 3 digits, 1 of them after "
     'the point (such as "0.1").'),
    ("int", None, "null is not a value of int: leave the default out for a field that must "
     "be sent."),
], ids=["int-2^31", "long-2^63", "int-fraction", "float-text", "double-bool", "string-number",
        "bytes-beyond-ff", "union-not-first", "union-null-not-first", "record-missing-field",
        "record-extra-field", "enum-not-a-symbol", "fixed-wrong-size", "array-item",
        "map-value", "decimal-precision", "null"])
def test_a_default_must_be_a_value_of_its_type(kind, default, message):
    assert record_schema_problems(record(field("ok", "int", default=1),
                                         field("a", kind, default=default))) == [
        ("schema.fields[1].default", message)]


@pytest.mark.parametrize(("kind", "default"), [
    ("int", -(2**31)), ("float", 1), ("double", 1e300), ("bytes", "\u00ff\u0001"),
    (["null", "string"], None), (["string", "null"], "x"), (ADDRESS, {"street": "x"}),
    ({"type": "fixed", "name": "f", "size": 2}, "\u00ffa"),
    ({"type": "int", "logicalType": "date"}, 18407),
    ({"type": "bytes", "logicalType": "decimal", "precision": 4, "scale": 2}, "12.34"),
])
def test_defaults_that_are_values_of_their_type_are_valid(kind, default):
    assert record_schema_problems(record(field("a", kind, default=default))) == []


def test_defaults_are_checked_in_nested_records_arrays_and_unions():
    inner = record(field("n", "int", default="x"), name="inner")
    assert record_schema_problems(record(
        field("a", {"type": "array", "items": inner}),
        field("b", ["null", record(field("m", "float", default="y"), name="other")]))) == [
        ("schema.fields[0].type.items.fields[0].default",
         NOT_A_VALUE + "Expected int at default, got str."),
        ("schema.fields[1].type[1].fields[0].default",
         NOT_A_VALUE + "Expected float at default, got str."),
    ]


def test_an_enum_default_must_be_one_of_its_symbols():
    enum = {"type": "enum", "name": "e", "symbols": ["A", "B"], "default": "C"}
    assert record_schema_problems(record(field("a", enum))) == [
        ("schema.fields[0].type.default", "An enum's default is one of its symbols (A, B).")]


def test_a_recursive_schema_is_valid_and_its_defaults_are_checked():
    long_list = record(field("value", "long"), field("next", ["null", "LongList"], default=None),
                       name="LongList")
    assert record_schema_problems(long_list) == []
    wrong = record(field("value", "long"),
                   field("next", ["null", "LongList"], default={"value": 1}), name="LongList")
    assert [path for path, _ in record_schema_problems(wrong)] == ["schema.fields[1].default"]


@pytest.mark.parametrize("name", ["com.1x.R", "com..R", ".R", "com.x-y.R"])
def test_every_part_of_a_dotted_name_is_a_name(name):
    problems = record_schema_problems(record(field("a", "int"), name=name))
    assert [path for path, _ in problems] == ["schema.name"]


def test_a_field_order_is_ascending_descending_or_ignore():
    assert record_schema_problems(record(field("a", "int", order="sideways"))) == [
        ("schema.fields[0].order", "A field's order is one of ascending, descending, ignore.")]


def test_aliases_are_names():
    assert record_schema_problems(record(
        field("a", "int", aliases=["ok", "1a", "a.b"]), aliases=["x.y", "x-y"],
    )) == [
        ("schema.aliases[1]", "An alias is a name: it starts with a letter or _ and holds only "
         "letters, digits and _ (a type's alias may be dotted)."),
        ("schema.fields[0].aliases[1]", "An alias is a name: it starts with a letter or _ and "
         "holds only letters, digits and _."),
        ("schema.fields[0].aliases[2]", "An alias is a name: it starts with a letter or _ and "
         "holds only letters, digits and _."),
    ]
    assert record_schema_problems(record(field("a", "int", aliases="b"))) == [
        ("schema.fields[0].aliases", "Aliases are a list of names.")]


def test_no_text_of_a_schema_may_hold_a_nul_character():
    nul = ("Sluice keeps schemas as PostgreSQL JSON, which cannot hold the NUL character "
           "(\\u0000): leave it out.")
    assert record_schema_problems(record(field("b", "bytes", default="\u00ff\u0000"),
                                         field("c", "int", doc="a\u0000b"))) == [
        ("schema.fields[0].default", nul), ("schema.fields[1].doc", nul)]
