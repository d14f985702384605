"""apps/catalog/compatibility.py against the Avro specification's schema resolution rules
(https://avro.apache.org/docs/1.12.0/specification/#schema-resolution): whether a reader of
one schema can read data written with another, as Apache Avro's checker decides it, where it
breaks, and which earlier versions each of Confluent's modes checks."""

import hashlib
from typing import Any

import pytest

from apps.catalog.compatibility import (
    MODES,
    Break,
    IncompatibleSchema,
    breaks,
    compatibility_checked,
    fingerprint,
    incompatibilities,
)
from apps.core.exceptions import InvalidInput


def record(*fields: dict[str, Any], name: str = "booking", **more: Any) -> dict[str, Any]:
    return {"type": "record", "name": name, "fields": list(fields), **more}


def field(name: str, kind: Any, **more: Any) -> dict[str, Any]:
    return {"name": name, "type": kind, **more}


def of(kind: Any) -> dict[str, Any]:
    """A record of one field `x` of this type."""
    return record(field("x", kind))


def enum(*symbols: str, **more: Any) -> dict[str, Any]:
    return {"type": "enum", "name": "status", "symbols": list(symbols), **more}


def fixed(size: int, name: str = "hash") -> dict[str, Any]:
    return {"type": "fixed", "name": name, "size": size}


PRIMITIVES = ["null", "boolean", "int", "long", "float", "double", "bytes", "string"]
# (writer, reader) pairs that the specification resolves between different primitives
PROMOTIONS = {("int", "long"), ("int", "float"), ("int", "double"), ("long", "float"),
              ("long", "double"), ("float", "double"), ("string", "bytes"), ("bytes", "string")}


@pytest.mark.parametrize("writer", PRIMITIVES)
@pytest.mark.parametrize("reader", PRIMITIVES)
def test_primitives_resolve_when_equal_or_promoted(writer, reader):
    readable = writer == reader or (writer, reader) in PROMOTIONS
    found = breaks(reader=of(reader), writer=of(writer))
    if readable:
        assert found == []
    else:
        assert found == [Break("schema.fields[0].type", "type_mismatch", reader, writer,
                               f"the field 'x': reader type: {reader} not compatible with "
                               f"writer type: {writer}")]


@pytest.mark.parametrize(("reader", "writer", "path", "kind", "reason"), [
    # enums: a writer's symbol the reader lacks breaks, unless the reader has a default
    (enum("A", "B", "C"), enum("A", "B"), None, None, None),
    (enum("A"), enum("A", "B"), "schema.fields[0].type.symbols", "missing_enum_symbols",
     "the field 'x': the reader's enum lacks the writer's symbols {'B'}"),
    (enum("A", "Z", default="Z"), enum("A", "B"), None, None, None),
    ({**enum("A"), "name": "state"}, enum("A"), "schema.fields[0].type.name", "name_mismatch",
     "the field 'x': the reader's type has another name and no alias (expected: status)"),
    ({**enum("A"), "name": "state", "aliases": ["status"]}, enum("A"), None, None, None),
    # fixed: the same name and size
    (fixed(16), fixed(16), None, None, None),
    (fixed(32), fixed(16), "schema.fields[0].type.size", "fixed_size_mismatch",
     "the field 'x': the fixed sizes differ (expected: 16, found: 32)"),
    (fixed(16, "digest"), fixed(16), "schema.fields[0].type.name", "name_mismatch",
     "the field 'x': the reader's type has another name and no alias (expected: hash)"),
    # arrays and maps resolve their items and values
    ({"type": "array", "items": "long"}, {"type": "array", "items": "int"}, None, None, None),
    ({"type": "array", "items": "int"}, {"type": "array", "items": "long"},
     "schema.fields[0].type.items", "type_mismatch",
     "the field 'x': reader type: int not compatible with writer type: long"),
    ({"type": "map", "values": "double"}, {"type": "map", "values": "float"}, None, None, None),
    ({"type": "map", "values": "string"}, {"type": "map", "values": "int"},
     "schema.fields[0].type.values", "type_mismatch",
     "the field 'x': reader type: string not compatible with writer type: int"),
    # unions: every branch the writer may write must resolve in the reader
    (["null", "string", "int"], ["null", "string"], None, None, None),
    (["null", "string"], ["null", "string", "int"], "schema.fields[0].type[2]",
     "missing_union_branch", "the field 'x': reader union lacking writer type: INT"),
    (["null", "string"], "string", None, None, None),
    ("string", ["null", "string"], "schema.fields[0].type", "type_mismatch",
     "the field 'x': reader type: string not compatible with writer type: null"),
    (["null", "long"], "int", None, None, None),
    (["null", "string"], "int", "schema.fields[0].type", "missing_union_branch",
     "the field 'x': reader union lacking writer type int"),
])
def test_named_and_complex_types_resolve_by_the_specification(reader, writer, path, kind,
                                                              reason):
    found = breaks(reader=of(reader), writer=of(writer))
    assert found == ([] if path is None else [Break(path, kind, reader, writer, reason)])


def test_a_field_the_reader_adds_needs_a_default():
    old = record(field("a", "string"))
    assert breaks(reader=record(field("a", "string"), field("b", "int", default=0)),
                  writer=old) == []
    assert breaks(reader=record(field("a", "string"), field("b", "int")), writer=old) == [
        Break("schema.fields[1]", "reader_field_missing_default_value", "int", None,
              "the reader's field 'b' has no default, and the writer has no such field")]


def test_a_field_the_writer_has_and_the_reader_not_is_skipped():
    assert breaks(reader=record(field("a", "string")),
                  writer=record(field("a", "string"), field("b", "int"))) == []


def test_a_renamed_field_resolves_through_the_readers_aliases():
    old = record(field("flight", "string"))
    renamed = record(field("flightId", "string"))
    assert breaks(reader=record(field("flightId", "string", aliases=["flight"])),
                  writer=old) == []
    assert breaks(reader=renamed, writer=old) == [
        Break("schema.fields[0]", "reader_field_missing_default_value", "string", None,
              "the reader's field 'flightId' has no default, and the writer has no such field")]


def test_a_renamed_record_resolves_through_its_aliases():
    old = record(field("a", "string"))
    assert breaks(reader=record(field("a", "string"), name="trip", aliases=["booking"]),
                  writer=old) == []
    assert breaks(reader=record(field("a", "string"), name="trip"), writer=old) == [
        Break("schema.name", "name_mismatch", "trip", "booking",
              "the record is named 'trip', not 'booking', and has no alias of that name")]


def test_a_nested_record_breaks_at_its_field():
    inner = {"type": "record", "name": "seat", "fields": [field("row", "int")]}
    wider = {**inner, "fields": [field("row", "int"), field("letter", "string")]}
    assert breaks(reader=of(wider), writer=of(inner)) == [
        Break("schema.fields[0].type.fields[1]", "reader_field_missing_default_value", wider,
              inner, "the field 'x': the reader's field letter has no default, and the writer "
              "has no such field")]


def test_each_broken_field_is_listed_with_its_own_path():
    old = record(field("a", "int"), field("b", "string"), field("c", "long"))
    new = record(field("a", "string"), field("b", "string"), field("c", "int"),
                 field("d", "boolean"))
    assert [(b.path, b.kind) for b in breaks(reader=new, writer=old)] == [
        ("schema.fields[0].type", "type_mismatch"), ("schema.fields[2].type", "type_mismatch"),
        ("schema.fields[3]", "reader_field_missing_default_value")]


def test_a_logical_type_on_a_string_is_a_string():
    dated = of({"type": "string", "logicalType": "date"})
    timed = of({"type": "string", "logicalType": "timestamp-millis"})
    assert breaks(reader=timed, writer=dated) == []
    assert breaks(reader=of("string"), writer=dated) == []


def test_a_schema_apache_avro_cannot_read_is_invalid_input():
    with pytest.raises(InvalidInput) as refused:
        breaks(reader=of("int"), writer=record(field("x", "int"), field("x", "long")))
    assert refused.value.errors[0].attr == "schema"


# ---------------------------------------------------------------------------
# Modes: which versions, which way
# ---------------------------------------------------------------------------
V1 = record(field("a", "int"))
V2 = record(field("a", "int"), field("b", "string", default=""))
V3 = record(field("a", "long"), field("b", "string", default=""))  # a widened: reads V1, V2
VERSIONS = [(1, V1), (2, V2)]


def found(mode: str, schema: dict[str, Any],
          versions: list[tuple[int, dict[str, Any]]]) -> list[tuple[int, str, str]]:
    return [(i.version, i.direction, i.found.path)
            for i in incompatibilities(mode=mode, schema=schema, versions=versions)]


def test_the_seven_modes_of_confluent_schema_registry():
    assert set(MODES) == {"NONE", "BACKWARD", "BACKWARD_TRANSITIVE", "FORWARD",
                          "FORWARD_TRANSITIVE", "FULL", "FULL_TRANSITIVE"}


@pytest.mark.parametrize(("mode", "expected"), [
    ("NONE", []),
    ("BACKWARD", []),  # V3 reads V2's records: int is promoted to long
    ("BACKWARD_TRANSITIVE", []),
    ("FORWARD", [(2, "forward", "schema.fields[0].type")]),  # V2 cannot read V3's long
    ("FORWARD_TRANSITIVE", [(2, "forward", "schema.fields[0].type"),
                            (1, "forward", "schema.fields[0].type")]),
    ("FULL", [(2, "forward", "schema.fields[0].type")]),
    ("FULL_TRANSITIVE", [(2, "forward", "schema.fields[0].type"),
                         (1, "forward", "schema.fields[0].type")]),
])
def test_each_mode_checks_its_direction_against_the_latest_or_every_version(mode, expected):
    assert found(mode, V3, VERSIONS) == expected


def test_transitive_modes_reach_versions_the_latest_does_not_break():
    new = record(field("a", "int"), field("c", "int"))  # c has no default: breaks both
    assert found("BACKWARD", new, VERSIONS) == [(2, "backward", "schema.fields[1]")]
    assert found("BACKWARD_TRANSITIVE", new, VERSIONS) == [
        (2, "backward", "schema.fields[1]"), (1, "backward", "schema.fields[1]")]
    # b loses its default: version 2 wrote it, version 1 did not
    without_default = record(field("a", "int"), field("b", "string"))
    assert found("BACKWARD", without_default, VERSIONS) == []
    assert found("BACKWARD_TRANSITIVE", without_default, VERSIONS) == [
        (1, "backward", "schema.fields[1]")]


def test_an_incompatible_schema_is_a_conflict_naming_each_break():
    with pytest.raises(IncompatibleSchema) as refused:
        compatibility_checked(mode="FULL", schema=record(field("a", "string")),
                              versions=VERSIONS)
    error = refused.value
    assert (error.code, error.attr) == ("incompatible_schema", None)
    assert error.detail == (
        "The schema breaks the collection's compatibility mode FULL against version 2: see "
        "`incompatibilities`. Give new fields a default, keep old ones (or rename them with "
        "`aliases`), widen types only as Avro promotes them, or set the collection's "
        "`compatibility` to NONE.")
    assert error.extensions() == {"compatibility": "FULL", "incompatibilities": [
        {"path": "schema.fields[0].type", "kind": "type_mismatch", "readerType": "string",
         "writerType": "int", "version": 2, "direction": "backward",
         "detail": "The new schema cannot read records written with version 2: the field 'a': "
                   "reader type: string not compatible with writer type: int."},
        {"path": "schema.fields[0].type", "kind": "type_mismatch", "readerType": "int",
         "writerType": "string", "version": 2, "direction": "forward",
         "detail": "Version 2 cannot read records written with the new schema: the field 'a': "
                   "reader type: int not compatible with writer type: string."},
    ]}
    assert [(e.attr, e.code) for e in error.errors] == [
        ("schema.fields[0].type", "incompatible_schema")] * 2


def test_the_fingerprint_is_the_sha256_of_the_parsing_canonical_form():
    spelled_out = {"type": "record", "name": "b", "namespace": "com.example", "doc": "x",
                   "fields": [{"name": "a", "type": {"type": "string"}, "default": ""}]}
    short = {"type": "record", "name": "com.example.b", "fields": [{"name": "a",
                                                                    "type": "string"}]}
    canonical = b'{"name":"com.example.b","type":"record","fields":[{"name":"a","type":"string"}]}'
    assert fingerprint(spelled_out) == fingerprint(short) == hashlib.sha256(canonical).hexdigest()
    assert fingerprint(record(field("a", "int"))) != fingerprint(short)
