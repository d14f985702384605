"""The Avro module of the catalog on its own (no database, no server): which schemas are valid
Avro, where each problem of an invalid one stands, which fields can be keys, and how records
are checked, strictly where fastavro is lenient. What is valid follows the Avro 1.12
specification; the module's own strictness is marked where it goes beyond it."""

import copy
from typing import Any

import pytest

from apps.catalog.avro import (
    RecordValidator,
    fields_of,
    key_type,
    query_value,
    record_schema_problems,
    validator_for,
)
from apps.core.ids import new_id
from tests.fixtures import schema

PRIMITIVES = ["null", "boolean", "int", "long", "float", "double", "bytes", "string"]
NAME_RULE = "A name starts with a letter or _ and holds only letters, digits and _."
FIELD_NAME_RULE = ("A field name starts with a letter or _ and holds only letters, digits "
                   "and _.")
REQUIRED = "This field is required."


def record(*fields: dict[str, Any], name: str = "r", **attributes: Any) -> dict[str, Any]:
    return {"type": "record", "name": name, "fields": list(fields), **attributes}


def field(name: str, kind: Any, **attributes: Any) -> dict[str, Any]:
    return {"name": name, "type": kind, **attributes}


def enum(name: str, *symbols: Any, **attributes: Any) -> dict[str, Any]:
    return {"type": "enum", "name": name, "symbols": list(symbols), **attributes}


def unknown_type(name: str) -> str:
    return (f"Unknown type {name!r}. Use a primitive (boolean, bytes, double, float, int, long, "
            "null, string) or the name of a record, enum or fixed defined earlier in the "
            "schema.")


def paths(problems: list[tuple[str, str]]) -> list[str]:
    return [path for path, _ in problems]


# ---------------------------------------------------------------------------
# Valid schemas
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("primitive", PRIMITIVES)
def test_each_primitive_is_a_valid_field_type_by_name_and_as_an_object(primitive):
    assert record_schema_problems(record(field("a", primitive))) == []
    assert record_schema_problems(record(field("a", {"type": primitive}))) == []


@pytest.mark.parametrize("kind", [
    enum("color", "RED", "GREEN", "_BLUE9"),
    enum("color", "RED", "GREEN", default="GREEN"),
    {"type": "array", "items": "int"},
    {"type": "array", "items": {"type": "array", "items": "string"}},
    {"type": "map", "values": "long"},
    {"type": "map", "values": {"type": "map", "values": ["null", "double"]}},
    {"type": "fixed", "name": "md5", "size": 16},
    {"type": "fixed", "name": "empty", "size": 0},
    ["null", "string"],
    ["string", "null"],
    ["null", "boolean", "int", "long", "float", "double", "bytes", "string",
     {"type": "array", "items": "int"}, {"type": "map", "values": "int"}],
    [record(field("a", "int"), name="A"), record(field("b", "int"), name="B")],
    [enum("E", "A"), {"type": "fixed", "name": "F", "size": 1}, record(name="R")],
    # the same short name in two namespaces: two different types
    [record(field("a", "int"), name="one.X"), record(field("b", "int"), name="two.X")],
    record(field("street", "string"), field("city", ["null", "string"], default=None),
           name="address"),
], ids=["enum", "enum-default", "array", "array-of-arrays", "map", "map-of-maps", "fixed",
        "fixed-size-0", "optional", "null-last", "union-of-every-kind", "union-of-records",
        "union-of-named", "union-same-short-name", "record"])
def test_every_complex_type_is_valid(kind):
    assert record_schema_problems(record(field("a", kind))) == []


@pytest.mark.parametrize("kind", [
    {"type": "int", "logicalType": "date"},
    {"type": "int", "logicalType": "time-millis"},
    {"type": "long", "logicalType": "time-micros"},
    {"type": "long", "logicalType": "timestamp-millis"},
    {"type": "long", "logicalType": "timestamp-micros"},
    {"type": "long", "logicalType": "local-timestamp-millis"},
    {"type": "long", "logicalType": "local-timestamp-micros"},
    {"type": "string", "logicalType": "uuid"},
    {"type": "fixed", "name": "uuid16", "size": 16, "logicalType": "uuid"},
    {"type": "bytes", "logicalType": "decimal", "precision": 5},
    {"type": "bytes", "logicalType": "decimal", "precision": 5, "scale": 2},
    {"type": "fixed", "name": "money", "size": 8, "logicalType": "decimal", "precision": 18,
     "scale": 2},
    {"type": "fixed", "name": "span", "size": 12, "logicalType": "duration"},
    # an unknown logical type stands for its underlying type
    {"type": "string", "logicalType": "postal-code"},
    # logical types on strings: the module checks their text (see the record tests below)
    {"type": "string", "logicalType": "date"},
    {"type": "string", "logicalType": "timestamp-millis"},
], ids=lambda kind: f"{kind['type']}-{kind['logicalType']}")
def test_logical_types_are_valid(kind):
    assert record_schema_problems(record(field("a", kind))) == []


def test_the_seed_schema_and_the_fields_attributes_are_valid():
    assert record_schema_problems(schema("flight-booking")) == []
    assert record_schema_problems(record(
        field("a", "int", doc="a count", order="descending", aliases=["count"], default=0),
        field("b", ["null", "int"], default=None, order="ignore"),
        field("c", {"type": "array", "items": "int"}, default=[]),
        field("d", {"type": "map", "values": "int"}, default={"k": 1}),
        field("e", enum("k", "A", "B"), default="B"),
        doc="every field attribute", aliases=["old"],
    )) == []


def test_a_record_may_have_no_fields():
    assert record_schema_problems(record()) == []


def test_a_record_may_refer_to_itself():
    linked_list = record(field("value", "long"), field("next", ["null", "node"]), name="node")
    assert record_schema_problems(linked_list) == []


# ---------------------------------------------------------------------------
# Names and namespaces
# ---------------------------------------------------------------------------
def test_a_short_reference_resolves_in_the_enclosing_namespace_and_a_full_one_anywhere():
    order = record(
        field("status", enum("status", "OPEN")),
        field("previous", ["null", "status"], default=None),
        field("again", "shop.status"),
        name="order", namespace="shop",
    )
    assert record_schema_problems(order) == []


def test_a_nested_definition_inherits_the_namespace_unless_it_has_its_own():
    inherited = record(field("line", record(field("sku", "string"), name="line")),
                       field("other", "shop.line"), name="order", namespace="shop")
    own = record(field("line", record(field("sku", "string"), name="line", namespace="stock")),
                 field("other", "stock.line"), name="order", namespace="shop")
    assert record_schema_problems(inherited) == []
    assert record_schema_problems(own) == []


def test_a_dotted_name_is_a_full_name_whose_namespace_its_children_inherit():
    order = record(
        field("line", record(field("kind", enum("kind", "A")), name="stock.line")),
        field("other", "stock.line"),
        field("kinds", {"type": "array", "items": "stock.kind"}),
        name="order", namespace="shop",
    )
    assert record_schema_problems(order) == []


def test_an_empty_namespace_is_the_null_namespace():
    assert record_schema_problems(record(field("a", "int"), namespace="")) == []


def test_references_must_name_a_type_defined_earlier_in_its_namespace():
    defined_later = record(field("first", "line"),
                           field("line", record(field("sku", "string"), name="line")))
    other_namespace = record(
        field("line", record(field("sku", "string"), name="line", namespace="stock")),
        field("short", "line"), field("wrong", "other.line"),
        name="order", namespace="shop",
    )
    assert record_schema_problems(defined_later) == [
        ("schema.fields[0].type", unknown_type("line"))]
    assert record_schema_problems(other_namespace) == [
        ("schema.fields[1].type", unknown_type("line")),
        ("schema.fields[2].type", unknown_type("other.line")),
    ]


def test_a_full_name_may_be_defined_once():
    assert record_schema_problems(record(field("a", enum("e", "A")),
                                         field("b", enum("e", "B")))) == [
        ("schema.fields[1].type.name", "The type 'e' is defined twice.")]
    assert record_schema_problems(record(field("a", enum("r", "A")), name="r",
                                         namespace="n")) == [
        ("schema.fields[0].type.name", "The type 'n.r' is defined twice.")]
    # the same name in two namespaces is two types
    assert record_schema_problems(record(field("a", enum("e", "A", namespace="x")),
                                         field("b", enum("e", "B", namespace="y")))) == []


def test_a_primitive_name_cannot_name_a_type():
    assert paths(record_schema_problems(record(field("a", enum("int", "A"))))) == [
        "schema.fields[0].type.name"]


@pytest.mark.parametrize("name", ["1r", "r-1", "", None, 5])
def test_a_named_type_needs_a_valid_name(name):
    assert record_schema_problems(record(field("a", "int"), name=name)) == [
        ("schema.name", NAME_RULE)]
    fixed = {"type": "fixed", "name": name, "size": 1}
    assert record_schema_problems(record(field("a", fixed))) == [
        ("schema.fields[0].type.name", NAME_RULE)]


def test_a_nested_record_needs_a_name():
    assert record_schema_problems(record(field("a", {"type": "record", "fields": []}))) == [
        ("schema.fields[0].type.name", NAME_RULE)]


@pytest.mark.parametrize("namespace", ["1bad", "a.", ".a", "a..b", "a-b", 5])
def test_a_namespace_is_dot_separated_names(namespace):
    assert record_schema_problems(record(field("a", "int"), namespace=namespace)) == [
        ("schema.namespace", "A namespace is dot-separated names.")]


# ---------------------------------------------------------------------------
# Problems and their paths
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("value", [None, "record", ["record"], 5])
def test_a_collection_schema_must_be_a_json_object(value):
    assert record_schema_problems(value) == [(
        "schema", 'A collection schema is an Avro record: {"type": "record", "name": ..., '
        '"fields": [...]}.')]


@pytest.mark.parametrize("value", [enum("e", "A"), {"type": "error", "name": "e", "fields": []},
                                   {"type": "string"}, {"name": "r", "fields": []}])
def test_a_collection_schema_must_be_a_record(value):
    assert record_schema_problems(value) == [(
        "schema.type", 'A collection schema is an Avro record: {"type": "record", "name": ..., '
        '"fields": [...]}.')]


def test_problems_are_reported_under_the_path_the_caller_names():
    assert paths(record_schema_problems(record(field("a", "nope")), "body.schema")) == [
        "body.schema.fields[0].type"]
    assert paths(record_schema_problems([], "body.schema")) == ["body.schema"]


@pytest.mark.parametrize("fields", [{}, {"fields": None}, {"fields": {"a": "int"}},
                                    {"fields": "a"}], ids=["missing", "null", "object", "text"])
def test_a_record_needs_a_fields_list(fields):
    assert record_schema_problems({"type": "record", "name": "r", **fields}) == [
        ("schema.fields", "A record needs a `fields` list.")]


def test_each_field_problem_names_its_field():
    assert record_schema_problems(record(
        "a",
        field("a-b", "int"),
        field(5, "int"),
        field("ok", "int"),
        field("ok", "string"),
        {"name": "untyped"},
        field("nothing", None),
        field("number", 5),
        field("misspelt", "integer"),
    )) == [
        ("schema.fields[0]", "A field is an object with `name` and `type`."),
        ("schema.fields[1].name", FIELD_NAME_RULE),
        ("schema.fields[2].name", FIELD_NAME_RULE),
        ("schema.fields[4].name", "The field 'ok' is defined twice."),
        ("schema.fields[5].type", REQUIRED),
        ("schema.fields[6].type", "A type is a type name, an object with `type`, or a union "
         "list."),
        ("schema.fields[7].type", "A type is a type name, an object with `type`, or a union "
         "list."),
        ("schema.fields[8].type", unknown_type("integer")),
    ]


def test_complex_types_need_their_parts():
    assert record_schema_problems(record(
        field("a", {"items": "int"}),
        field("b", {"type": "array"}),
        field("c", {"type": "map"}),
        field("d", {"type": "array", "items": {"type": "map", "values": "nope"}}),
        field("e", {"type": 5}),
    )) == [
        ("schema.fields[0].type.type", REQUIRED),
        ("schema.fields[1].type.items", REQUIRED),
        ("schema.fields[2].type.values", REQUIRED),
        ("schema.fields[3].type.items.values", unknown_type("nope")),
        ("schema.fields[4].type.type", "A type is a type name, an object with `type`, or a "
         "union list."),
    ]


def test_an_enum_needs_unique_symbols_that_are_names():
    assert record_schema_problems(record(
        field("a", {"type": "enum", "name": "a"}),
        field("b", enum("b", "RED", "1RED", 1, "RED-ISH")),
        field("c", enum("c", "A", "B", "A")),
    )) == [
        ("schema.fields[0].type.symbols", "An enum needs a non-empty `symbols` list."),
        ("schema.fields[1].type.symbols[1]", "A symbol is a name."),
        ("schema.fields[1].type.symbols[2]", "A symbol is a name."),
        ("schema.fields[1].type.symbols[3]", "A symbol is a name."),
        ("schema.fields[2].type.symbols", "Symbols must be unique."),
    ]


@pytest.mark.parametrize("size", [None, -1, "16", 1.5, True])
def test_a_fixed_needs_a_non_negative_integer_size(size):
    fixed = {"type": "fixed", "name": "f", "size": size}
    if size is None:
        del fixed["size"]
    assert record_schema_problems(record(field("a", fixed))) == [
        ("schema.fields[0].type.size", "A fixed needs a non-negative integer `size`.")]


@pytest.mark.parametrize(("union", "at", "message"), [
    (["null", ["int"]], 1, "A union may not directly contain another union."),
    (["int", "string", "int"], 2, "The union already has a 'int' branch."),
    (["null", "null"], 1, "The union already has a 'null' branch."),
    (["string", {"type": "string", "logicalType": "uuid"}], 1,
     "The union already has a 'string' branch."),
    ([{"type": "array", "items": "int"}, {"type": "array", "items": "string"}], 1,
     "The union already has a 'array' branch."),
    ([{"type": "map", "values": "int"}, {"type": "map", "values": "string"}], 1,
     "The union already has a 'map' branch."),
    (["null", "shop.line", "shop.line"], 2, "The union already has a 'shop.line' branch."),
])
def test_a_union_holds_each_type_once_and_no_union(union, at, message):
    line = record(field("sku", "string"), name="line")
    order = record(field("line", line), field("u", union), name="order", namespace="shop")
    assert record_schema_problems(order) == [(f"schema.fields[1].type[{at}]", message)]


def test_problems_in_union_branches_name_the_branch():
    assert record_schema_problems(record(field("u", ["null", "nope", {"type": "array"}]))) == [
        ("schema.fields[0].type[1]", unknown_type("nope")),
        ("schema.fields[0].type[2].items", REQUIRED),
    ]


def test_problems_deep_in_nested_records_name_the_whole_path():
    deep = record(field("outer", record(
        field("ok", "int"),
        field("inner", {"type": "array", "items": record(
            field("bad", {"type": "map", "values": ["null", "nope"]}), name="leaf")}),
        name="middle")))
    assert record_schema_problems(deep) == [
        ("schema.fields[0].type.fields[1].type.items.fields[0].type.values[1]",
         unknown_type("nope"))]


def test_defaults_are_checked_against_their_type_at_their_path():
    assert record_schema_problems(record(
        field("a", "int", default="x"), field("b", "int", default=None))) == [
        ("schema.fields[0].default",
         "The default is not a value of the field's type: Expected int at default, got str."),
        ("schema.fields[1].default",
         "null is not a value of int: leave the default out for a field that must be sent."),
    ]
    assert record_schema_problems(record(field("c", enum("k", "A", "B", default="C")))) == [
        ("schema.fields[0].type.default", "An enum's default is one of its symbols (A, B).")]


def test_fastavro_is_asked_only_once_the_module_finds_no_problem():
    # the default is wrong too, but the field name problem is the only one reported
    assert record_schema_problems(record(field("a-b", "int", default="x"))) == [
        ("schema.fields[0].name", FIELD_NAME_RULE)]


def test_every_problem_is_reported_at_once_in_document_order():
    problems = record_schema_problems(record(
        field("a", "nope"), field("b", enum("b")), field("a", "int"), name="1r"))
    assert paths(problems) == ["schema.name", "schema.fields[0].type",
                               "schema.fields[1].type.symbols", "schema.fields[2].name"]


def test_the_schema_is_not_changed_by_checking_it():
    original = record(field("a", enum("e", "A")), field("b", "e"), namespace="n")
    given = copy.deepcopy(original)
    record_schema_problems(given)
    assert given == original


# ---------------------------------------------------------------------------
# Fields and keys
# ---------------------------------------------------------------------------
def test_fields_of_maps_each_top_level_field_to_its_type():
    assert fields_of(schema("flight-booking")) == {
        "eventId": "string", "visitorId": "string", "bookingId": "string",
        "flightId": "string", "bookingStatus": "string",
        "bookingDate": {"type": "string", "logicalType": "date"},
    }


@pytest.mark.parametrize(("kind", "key"), [
    ("string", "string"), ("int", "int"), ("long", "long"),
    ({"type": "string"}, "string"),
    ({"type": "string", "logicalType": "uuid"}, "string"),
    ({"type": "int", "logicalType": "date"}, "int"),
    ({"type": "long", "logicalType": "timestamp-millis"}, "long"),
    (["null", "string"], "string"), (["long", "null"], "long"),
    (["null", {"type": "string", "logicalType": "uuid"}], "string"),
    ("null", None), ("boolean", None), ("float", None), ("double", None), ("bytes", None),
    ({"type": "double"}, None),
    (["null"], None), (["int", "string"], None), (["null", "int", "string"], None),
    (["null", "double"], None),
    (enum("e", "A"), None), ({"type": "fixed", "name": "f", "size": 4}, None),
    ({"type": "array", "items": "string"}, None), ({"type": "map", "values": "string"}, None),
    (record(field("a", "string")), None), ("shop.status", None),
])
def test_only_strings_ints_and_longs_optional_or_not_can_be_keys(kind, key):
    assert key_type(kind) == key


# ---------------------------------------------------------------------------
# Records: splitting off unknown fields, filling defaults
# ---------------------------------------------------------------------------
def test_split_keeps_the_schema_fields_fills_defaults_and_names_the_others():
    validator = RecordValidator(record(
        field("a", "int"), field("b", ["null", "int"], default=None),
        field("c", "string", default="x"), field("d", "string")))
    assert validator.split({"z": 1, "a": 1, "c": None, "y": 2}) == (
        {"a": 1, "b": None, "c": None}, ["z", "y"])
    assert validator.split({}) == ({"b": None, "c": "x"}, [])


# ---------------------------------------------------------------------------
# Records: Avro types
# ---------------------------------------------------------------------------
ALL_TYPES = record(
    field("n", "int"), field("l", "long"), field("f", "float"), field("d", "double"),
    field("b", "boolean"), field("s", "string"), field("nothing", "null"),
    field("e", enum("color", "RED", "GREEN")),
    field("a", {"type": "array", "items": "int"}),
    field("m", {"type": "map", "values": "long"}),
    field("u", ["null", "string", "int"]),
    field("inner", record(field("x", "int"), field("leaves", {"type": "array", "items": record(
        field("z", "string"), name="leaf")}), name="inner")),
    field("again", "inner"),
    namespace="ns",
)
VALID = {"n": 1, "l": 2**40, "f": 1.5, "d": 2.25, "b": True, "s": "x", "nothing": None,
         "e": "RED", "a": [1, 2], "m": {"k": 3}, "u": None,
         "inner": {"x": 1, "leaves": [{"z": "q"}]}, "again": {"x": 2, "leaves": []}}


@pytest.fixture(scope="module")
def every_type():
    return RecordValidator(ALL_TYPES)


def problems_with(validator: RecordValidator, **changes: Any) -> list[tuple[str, str, str]]:
    return validator.problems({**copy.deepcopy(VALID), **changes})


def test_a_record_of_every_type_is_valid(every_type):
    assert every_type.problems(VALID) == []


@pytest.mark.parametrize("changes", [
    {"n": 0}, {"n": -(2**31)}, {"n": 2**31 - 1}, {"l": 2**63 - 1}, {"l": -(2**63)},
    {"f": 2}, {"d": -3}, {"d": 1e300}, {"b": False}, {"s": ""}, {"s": "é ✓"},
    {"e": "GREEN"}, {"a": []}, {"m": {}}, {"m": {"a": -1, "b": 2**62}},
    {"u": "text"}, {"u": 7}, {"inner": {"x": -1, "leaves": []}},
], ids=lambda changes: "-".join(f"{k}={v!r}" for k, v in changes.items()))
def test_values_that_fit_their_type_are_valid(every_type, changes):
    assert problems_with(every_type, **changes) == []


@pytest.mark.parametrize(("changes", "problem"), [
    ({"n": 2**31}, ("n", "out_of_range", "2147483648 does not fit an Avro int (n).")),
    ({"n": -(2**31) - 1}, ("n", "out_of_range", "-2147483649 does not fit an Avro int (n).")),
    ({"l": 2**63}, ("l", "out_of_range", "9223372036854775808 does not fit an Avro long (l).")),
    ({"n": True}, ("n", "invalid_type", "Expected int at n, got bool.")),
    ({"n": 1.5}, ("n", "invalid_type", "Expected int at n, got float.")),
    ({"n": "1"}, ("n", "invalid_type", "Expected int at n, got str.")),
    ({"l": 1.5}, ("l", "invalid_type", "Expected long at l, got float.")),
    ({"f": "1.5"}, ("f", "invalid_type", "Expected float at f, got str.")),
    ({"d": True}, ("d", "invalid_type", "Expected double at d, got bool.")),
    ({"b": 1}, ("b", "invalid_type", "Expected boolean at b, got int.")),
    ({"b": "true"}, ("b", "invalid_type", "Expected boolean at b, got str.")),
    ({"s": 5}, ("s", "invalid_type", "Expected string at s, got int.")),
    ({"s": ["x"]}, ("s", "invalid_type", "Expected string at s, got list.")),
    ({"nothing": 0}, ("nothing", "invalid_type", "Expected null at nothing, got int.")),
    ({"e": "BLUE"}, ("e", "invalid_type", "Expected ns.color at e, got str.")),
    ({"e": "red"}, ("e", "invalid_type", "Expected ns.color at e, got str.")),
    ({"a": "1,2"}, ("a", "invalid_type", "Expected array at a, got str.")),
    ({"a": [1, "x"]}, ("a[1]", "invalid_type", "Expected int at a[1], got str.")),
    ({"m": [["k", 1]]}, ("m", "invalid_type", "Expected map at m, got list.")),
    ({"m": {"k": "v"}}, ("m.k", "invalid_type", "Expected long at m.k, got str.")),
    ({"inner": "x"}, ("inner", "invalid_type", "Expected ns.inner at inner, got str.")),
], ids=lambda value: "-".join(f"{k}={v!r}" for k, v in value.items())
    if isinstance(value, dict) else "")
def test_values_that_do_not_fit_their_type_are_named_with_a_code(every_type, changes, problem):
    assert problems_with(every_type, **changes) == [problem]


@pytest.mark.parametrize(("changes", "at", "code"), [
    ({"u": 1.5}, "u", "invalid_type"), ({"u": True}, "u", "invalid_type"),
    ({"u": ["x"]}, "u", "invalid_type"),
    ({"inner": {"x": "1", "leaves": []}}, "inner.x", "invalid_type"),
    ({"inner": {"x": 1, "leaves": [{"z": "ok"}, {"z": 5}]}}, "inner.leaves[1].z",
     "invalid_type"),
    ({"inner": {"x": 1}}, "inner.leaves", "required"),
    ({"again": {"x": 1, "leaves": "none"}}, "again.leaves", "invalid_type"),
])
def test_problems_inside_unions_and_nested_records_are_reported_at_their_own_path(
        every_type, changes, at, code):
    assert [(path, code) for path, code, _ in problems_with(every_type, **changes)] == [
        (at, code)]


@pytest.mark.parametrize(("missing", "expected"), [
    ("n", "int"), ("s", "string"), ("e", "ns.color"), ("a", "array"), ("m", "map"),
    ("inner", "ns.inner"), ("again", "ns.inner"),
])
def test_a_missing_field_is_required_with_its_type(every_type, missing, expected):
    given = copy.deepcopy(VALID)
    del given[missing]
    assert every_type.problems(given) == [
        (missing, "required", f"The field {missing!r} is required ({expected}).")]


def test_a_null_field_and_optional_fields_may_be_missing():
    validator = RecordValidator(record(field("nothing", "null"),
                                       field("maybe", ["null", "string"], default=None)))
    data, unknown = validator.split({})
    assert validator.problems(data) == []
    assert RecordValidator(record(field("either", ["int", "string"]))).problems({}) == [
        ("either", "required", "The field 'either' is required (int or string).")]


def test_every_problem_of_a_record_is_reported_in_field_order(every_type):
    given = {**copy.deepcopy(VALID), "s": 1, "n": "1", "m": None, "e": "BLUE"}
    assert every_type.problems(given) == [
        ("n", "invalid_type", "Expected int at n, got str."),
        ("s", "invalid_type", "Expected string at s, got int."),
        ("e", "invalid_type", "Expected ns.color at e, got str."),
        ("m", "required", "The field 'm' is required (map)."),
    ]


def test_the_record_is_not_changed_by_validating_it(every_type):
    given = {**copy.deepcopy(VALID), "n": "1"}
    before = copy.deepcopy(given)
    every_type.problems(given)
    assert given == before


# ---------------------------------------------------------------------------
# Records: logical types
# ---------------------------------------------------------------------------
def test_spec_logical_types_hold_numbers():
    validator = RecordValidator(record(
        field("day", {"type": "int", "logicalType": "date"}),
        field("at", {"type": "long", "logicalType": "timestamp-millis"}),
        field("micros", {"type": "long", "logicalType": "timestamp-micros"}),
        field("time", {"type": "int", "logicalType": "time-millis"}),
    ))
    assert validator.problems({"day": 18407, "at": 1590400800000, "micros": 1590400800000000,
                               "time": 52200000}) == []
    assert validator.problems({"day": 18407, "at": True, "micros": 1.5, "time": 2**31}) == [
        ("at", "invalid_type", "Expected long (timestamp-millis) at at, got bool."),
        ("micros", "invalid_type", "Expected long (timestamp-micros) at micros, got float."),
        ("time", "out_of_range", "2147483648 does not fit an Avro int (time)."),
    ]


def strings(logical: str) -> RecordValidator:
    return RecordValidator(record(field("v", {"type": "string", "logicalType": logical})))


@pytest.mark.parametrize(("logical", "value"), [
    ("date", "2020-05-25"), ("date", "2024-02-29"),
    ("timestamp-millis", "2020-05-25T14:30:00Z"),
    ("timestamp-millis", "2020-05-25T14:30:00.123Z"),
    ("timestamp-millis", "2020-05-25T14:30:00+02:00"),
    ("timestamp-micros", "2020-05-25T14:30:00.123456Z"),
    ("local-timestamp-millis", "2020-05-25T14:30:00"),
    ("local-timestamp-micros", "2020-05-25T14:30:00.000001"),
    ("time-millis", "14:30:00.000"), ("time-millis", "14:30"),
    ("time-micros", "14:30:00.000000"),
    ("uuid", "3f1c6a52-6b0e-4d0a-9c1e-5b2f0f7a9d11"),
    ("uuid", "3F1C6A52-6B0E-4D0A-9C1E-5B2F0F7A9D11"),
    ("postal-code", "anything at all"),
])
def test_strings_that_read_as_their_logical_type_are_valid(logical, value):
    assert strings(logical).problems({"v": value}) == []


@pytest.mark.parametrize(("logical", "value", "code", "example"), [
    ("date", "2020-02-30", "invalid_date", "an ISO date such as 2020-05-25"),
    ("date", "2023-02-29", "invalid_date", "an ISO date such as 2020-05-25"),
    ("date", "2020-13-01", "invalid_date", "an ISO date such as 2020-05-25"),
    ("date", "20200525", "invalid_date", "an ISO date such as 2020-05-25"),
    ("date", "2020-5-25", "invalid_date", "an ISO date such as 2020-05-25"),
    ("date", "2020-05-25T00:00:00Z", "invalid_date", "an ISO date such as 2020-05-25"),
    ("date", "", "invalid_date", "an ISO date such as 2020-05-25"),
    ("timestamp-millis", "2020-05-25", "invalid_timestamp_millis",
     "an ISO timestamp such as 2020-05-25T14:30:00Z"),
    ("timestamp-millis", "2020-05-25T25:00:00Z", "invalid_timestamp_millis",
     "an ISO timestamp such as 2020-05-25T14:30:00Z"),
    ("timestamp-millis", "2020-02-30T10:00:00Z", "invalid_timestamp_millis",
     "an ISO timestamp such as 2020-05-25T14:30:00Z"),
    ("timestamp-millis", "yesterday", "invalid_timestamp_millis",
     "an ISO timestamp such as 2020-05-25T14:30:00Z"),
    ("timestamp-micros", "1590400800000000", "invalid_timestamp_micros",
     "an ISO timestamp such as 2020-05-25T14:30:00Z"),
    ("local-timestamp-millis", "14:30", "invalid_local_timestamp_millis",
     "an ISO timestamp such as 2020-05-25T14:30:00"),
    ("time-millis", "2:30", "invalid_time_millis", "an ISO time such as 14:30:00.000"),
    ("time-micros", "noon", "invalid_time_micros", "an ISO time such as 14:30:00.000000"),
    ("uuid", "not-a-uuid", "invalid_uuid", "a UUID such as 3f1c6a52-6b0e-4d0a-9c1e-5b2f0f7a9d11"),
    ("uuid", "3f1c6a52-6b0e-4d0a-9c1e-5b2f0f7a9d1", "invalid_uuid",
     "a UUID such as 3f1c6a52-6b0e-4d0a-9c1e-5b2f0f7a9d11"),
    ("uuid", "3f1c6a52-6b0e-4d0a-9c1e-5b2f0f7a9dxx", "invalid_uuid",
     "a UUID such as 3f1c6a52-6b0e-4d0a-9c1e-5b2f0f7a9d11"),
])
def test_strings_that_do_not_read_as_their_logical_type_are_refused(logical, value, code,
                                                                     example):
    assert strings(logical).problems({"v": value}) == [("v", code, f"{value!r} is not {example}.")]


DATE = {"type": "string", "logicalType": "date"}


def test_logical_strings_are_checked_wherever_they_stand():
    validator = RecordValidator(record(
        field("maybe", ["null", DATE], default=None),
        field("days", {"type": "array", "items": DATE}),
        field("byName", {"type": "map", "values": DATE}),
        field("inner", record(field("day", DATE), field("more", {"type": "array", "items": DATE}),
                              name="inner")),
        field("again", "inner"),
    ))
    good = {"maybe": "2020-05-25", "days": ["2020-05-25"], "byName": {"a": "2020-05-25"},
            "inner": {"day": "2020-05-25", "more": []},
            "again": {"day": "2020-05-25", "more": ["2020-05-26"]}}
    assert validator.problems(good) == []
    assert validator.problems({
        "maybe": "soon", "days": ["2020-05-25", "later"], "byName": {"a": "2020-02-30"},
        "inner": {"day": "x", "more": ["2020-05-25", "y"]},
        "again": {"day": "2020-05-25", "more": ["z"]},
    }) == [
        ("maybe", "invalid_date", "'soon' is not an ISO date such as 2020-05-25."),
        ("days[1]", "invalid_date", "'later' is not an ISO date such as 2020-05-25."),
        ("byName.a", "invalid_date", "'2020-02-30' is not an ISO date such as 2020-05-25."),
        ("inner.day", "invalid_date", "'x' is not an ISO date such as 2020-05-25."),
        ("inner.more[1]", "invalid_date", "'y' is not an ISO date such as 2020-05-25."),
        ("again.more[0]", "invalid_date", "'z' is not an ISO date such as 2020-05-25."),
    ]


def test_a_field_of_the_wrong_type_is_not_also_reported_for_its_logical_type():
    validator = RecordValidator(record(field("day", DATE), field("n", "int"),
                                       field("other", DATE)))
    assert validator.problems({"day": 5, "n": "x", "other": "soon"}) == [
        ("day", "invalid_type", "Expected string (date) at day, got int."),
        ("n", "invalid_type", "Expected int at n, got str."),
        ("other", "invalid_date", "'soon' is not an ISO date such as 2020-05-25."),
    ]


# ---------------------------------------------------------------------------
# Validators kept per schema version
# ---------------------------------------------------------------------------
def test_a_validator_is_parsed_once_per_collection_and_version():
    collection, other = new_id(), new_id()
    booking = schema("flight-booking")
    first = validator_for(collection, 1, booking)
    assert validator_for(collection, 1, {"ignored": "once parsed"}) is first
    assert validator_for(other, 1, booking) is not first


def test_a_new_version_replaces_the_older_ones_of_its_collection():
    collection, other = new_id(), new_id()
    v1_schema = record(field("a", "int"))
    v2_schema = record(field("a", "int"), field("b", "string", default=""))
    v1 = validator_for(collection, 1, v1_schema)
    elsewhere = validator_for(other, 1, v1_schema)
    v2 = validator_for(collection, 2, v2_schema)
    assert v2.problems({"a": 1, "b": 5}) == [
        ("b", "invalid_type", "Expected string at b, got int.")]
    assert validator_for(collection, 2, v2_schema) is v2
    assert validator_for(other, 1, v1_schema) is elsewhere  # another collection's is kept
    assert validator_for(collection, 1, v1_schema) is not v1  # parsed again: it was dropped
    assert validator_for(collection, 2, v2_schema) is v2  # an older version drops no newer


# ---------------------------------------------------------------------------
# Query-string values
# ---------------------------------------------------------------------------
@pytest.mark.parametrize(("kind", "raw", "value"), [
    ("int", "42", 42), ("long", "-7", -7), ("float", "1.5", 1.5), ("double", "2", 2.0),
    ("boolean", "true", True), ("boolean", "false", False),
    ("string", "42", "42"), ("bytes", "ab", "ab"),
    (enum("e", "A"), "A", "A"), ({"type": "fixed", "name": "f", "size": 2}, "ab", "ab"),
    ({"type": "string", "logicalType": "date"}, "2020-05-25", "2020-05-25"),
    ({"type": "long", "logicalType": "timestamp-millis"}, "1590400800000", 1590400800000),
    (["null", "int"], "null", None), (["null", "int"], "5", 5),
    (["null", "string"], "null", None), (["int", "null"], "3", 3),
    (["string"], "null", "null"),
])
def test_query_values_become_the_json_value_their_field_holds(kind, raw, value):
    result = query_value(kind, raw)
    assert result == value and type(result) is type(value)


@pytest.mark.parametrize(("kind", "raw"), [
    ("int", "4.5"), ("long", "x"), ("double", "one"), ("boolean", "True"), ("boolean", "1"),
    ({"type": "array", "items": "int"}, "1"), ({"type": "map", "values": "int"}, "a"),
    (record(field("a", "int")), "a"), ("null", "null"),
])
def test_query_values_that_cannot_be_the_fields_type_are_refused(kind, raw):
    with pytest.raises(ValueError):
        query_value(kind, raw)
