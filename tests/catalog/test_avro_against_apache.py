"""Sluice takes a record exactly when Apache's own `avro` package (the reference) takes it:
generated schemas (primitives, records, enums, arrays, maps, unions, fixed, logical types)
and generated JSON records, mostly of their schema and sometimes not, checked by both.

Apache's Python package validates Python values, not JSON, so each JSON record is first
turned into what Avro's JSON encoding says it stands for: bytes and fixed text into bytes
(its characters U+0000 to U+00FF are the bytes), a decimal's text into the bytes of its
unscaled number. Where Sluice differs on purpose, the record given to Apache says so:
- JSON true and false are not numbers: Apache's Python takes a bool for an int, long, float
  or double (a bool is a Python int); Sluice does not.
- A field a record does not have is left out with a warning, not refused.
- The int and long logical types (date, time-*, timestamp-*) are their numbers: Apache's
  Python wants date and datetime objects there, so Apache is given the plain int or long.
  Sluice also takes their ISO text (tests/catalog/test_avro_values.py), not generated here.
- A decimal beyond its precision or scale is refused (Apache's Python takes any Decimal);
  generated decimals fit theirs. A uuid is 32 hex digits, hyphens between the groups or
  none; Apache's Python also takes braces and a `urn:uuid:` prefix.
- A union holds the first branch the whole value fits; Apache picks the first branch of
  the value's shape and fails when that one does not fit. Generated unions hold at most
  one record or map, where the two rules agree."""

import itertools
import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import avro.io
import avro.schema
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.catalog.avro import RecordValidator
from apps.catalog.avro_values import DECIMAL_TEXT

NUMBERS = {"int", "long", "float", "double"}
PRIMITIVES = ["null", "boolean", "int", "long", "float", "double", "bytes", "string"]
LOGICAL = [
    {"type": "int", "logicalType": "date"}, {"type": "int", "logicalType": "time-millis"},
    {"type": "long", "logicalType": "time-micros"},
    {"type": "long", "logicalType": "timestamp-millis"},
    {"type": "long", "logicalType": "local-timestamp-micros"},
    {"type": "string", "logicalType": "uuid"},
    {"type": "bytes", "logicalType": "decimal", "precision": 6, "scale": 2},
]
NOTHING = object()  # a value Apache takes for no type
LATIN1 = st.characters(max_codepoint=0xFF)
JUNK = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**65), 2**65),
    st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=6),
    st.text(LATIN1, max_size=6), st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=2), st.integers(), max_size=2),
)


@st.composite
def schemas(draw: Any, depth: int, names: Iterator[int]) -> Any:
    """An Avro type; named types get names of their own from `names`."""
    simple = st.one_of(st.sampled_from(PRIMITIVES), st.sampled_from(LOGICAL),
                       st.builds(lambda size: {"type": "fixed", "name": f"F{next(names)}",
                                               "size": size}, st.integers(0, 3)),
                       st.builds(lambda symbols: {"type": "enum", "name": f"E{next(names)}",
                                                  "symbols": symbols},
                                 st.lists(st.sampled_from(["A", "B", "C"]), min_size=1,
                                          max_size=3, unique=True)))
    if depth >= 2:
        return draw(simple)
    inner = schemas(depth + 1, names)
    return draw(st.one_of(
        simple,
        st.builds(lambda items: {"type": "array", "items": items}, inner),
        st.builds(lambda values: {"type": "map", "values": values}, inner),
        records(depth + 1, names),
        unions(depth + 1, names),
    ))


@st.composite
def records(draw: Any, depth: int, names: Iterator[int]) -> dict[str, Any]:
    types = draw(st.lists(schemas(depth, names), max_size=3))
    return {"type": "record", "name": f"R{next(names)}",
            "fields": [{"name": f"f{index}", "type": kind} for index, kind in enumerate(types)]}


@st.composite
def unions(draw: Any, depth: int, names: Iterator[int]) -> list[Any]:
    """A union of different kinds, holding at most one record or map, and no uuid (Apache's
    Python raises on a value that is not text at a uuid, even in a union)."""
    branches: list[Any] = []
    for branch in draw(st.lists(schemas(depth, names), min_size=1, max_size=3)):
        kinds = {_kind(b) for b in branches}
        uuid = isinstance(branch, dict) and branch.get("logicalType") == "uuid"
        if isinstance(branch, list) or _kind(branch) in kinds or uuid or (
                _kind(branch) in ("record", "map") and {"record", "map"} & kinds):
            continue
        branches.append(branch)
    return branches


def _kind(kind: Any) -> str:
    """What tells a union's branches apart: the type, or a named type's name ("record" for
    records, which a union here holds once)."""
    if not isinstance(kind, dict):
        return str(kind)
    return str(kind["name"] if kind["type"] in ("enum", "fixed") else kind["type"])


def values(kind: Any) -> st.SearchStrategy[Any]:
    """JSON values mostly of `kind`, and now and then anything."""
    return st.integers(0, 9).flatmap(lambda roll: JUNK if roll == 0 else _of(kind))


def _of(kind: Any) -> st.SearchStrategy[Any]:
    if isinstance(kind, list):
        return st.one_of(*[values(branch) for branch in kind])
    base = kind["type"] if isinstance(kind, dict) else kind
    logical = kind.get("logicalType") if isinstance(kind, dict) else None
    if logical == "decimal":
        return st.decimals(-9999, 9999, places=2).map(str)
    if logical == "uuid":
        return st.one_of(st.uuids().map(str), st.text(max_size=4))
    strategies: dict[str, Any] = {
        "null": lambda: st.none(), "boolean": st.booleans,
        "int": lambda: st.integers(-(2**31), 2**31 - 1),
        "long": lambda: st.integers(-(2**63), 2**63 - 1),
        "float": lambda: st.one_of(st.floats(allow_nan=False, allow_infinity=False),
                                   st.integers(-(2**70), 2**70)),
        "double": lambda: st.floats(allow_nan=False, allow_infinity=False),
        "bytes": lambda: st.text(LATIN1, max_size=4), "string": lambda: st.text(max_size=4),
        "fixed": lambda: st.text(LATIN1, min_size=kind.get("size", 0),
                                 max_size=kind.get("size", 0)),
        "enum": lambda: st.sampled_from(kind["symbols"]),
        "array": lambda: st.lists(values(kind["items"]), max_size=3),
        "map": lambda: st.dictionaries(st.text(max_size=2), values(kind["values"]), max_size=3),
        "record": lambda: st.fixed_dictionaries(
            {field["name"]: values(field["type"]) for field in kind["fields"]}),
    }
    return strategies[base]()  # type: ignore[no-any-return]


def apache_schema(kind: Any) -> Any:
    """The schema Apache checks: int and long logical types as their plain type, a decimal
    as its bytes (the JSON record carries numbers and bytes there, not Python objects)."""
    if isinstance(kind, list):
        return [apache_schema(branch) for branch in kind]
    if not isinstance(kind, dict):
        return kind
    if kind.get("logicalType") not in (None, "uuid"):
        return kind["type"]
    plain = {**kind}
    for key in ("items", "values"):
        if key in kind:
            plain[key] = apache_schema(kind[key])
    if "fields" in kind:
        plain["fields"] = [{**field, "type": apache_schema(field["type"])}
                           for field in kind["fields"]]
    return plain


def as_apache_value(kind: avro.schema.Schema, value: Any, logical: Any) -> Any:
    """The Python value a JSON value stands for under `kind` (see the module docstring)."""
    if isinstance(kind, avro.schema.UnionSchema):
        for branch, original in zip(kind.schemas, logical, strict=True):
            converted = as_apache_value(branch, value, original)
            if apache_takes(branch, converted):
                return converted
        return NOTHING  # no branch takes the value as Avro's JSON encoding reads it
    if kind.type in NUMBERS and isinstance(value, bool):
        return "a bool is not a number"
    if kind.type in ("bytes", "fixed") and isinstance(value, str):
        if isinstance(logical, dict) and logical.get("logicalType") == "decimal":
            return _decimal_bytes(value, logical)
        return value.encode("latin-1") if all(c <= "\xff" for c in value) else value
    if isinstance(kind, avro.schema.ArraySchema) and isinstance(value, list):
        return [as_apache_value(kind.items, item, logical["items"]) for item in value]
    if isinstance(kind, avro.schema.MapSchema) and isinstance(value, dict):
        return {key: as_apache_value(kind.values, item, logical["values"])
                for key, item in value.items()}
    if isinstance(kind, avro.schema.RecordSchema) and isinstance(value, dict):
        types = {field["name"]: field["type"] for field in logical["fields"]}
        return {field.name: as_apache_value(field.type, value[field.name], types[field.name])
                for field in kind.fields if field.name in value}
    return value


def _decimal_bytes(value: str, decimal: dict[str, Any]) -> Any:
    """The bytes of a decimal's unscaled number; NOTHING beyond its precision."""
    if DECIMAL_TEXT.match(value):
        scaled = Decimal(value).scaleb(decimal["scale"])
        if scaled != scaled.to_integral_value():
            return NOTHING  # more digits after the point than its scale
        unscaled = int(scaled)
    elif all(c <= "\xff" for c in value):
        unscaled = int.from_bytes(value.encode("latin-1"), "big", signed=True)
    else:
        return value
    if len(str(abs(unscaled))) > decimal["precision"]:
        return NOTHING
    return unscaled.to_bytes(8, "big", signed=True)


def apache_takes(kind: avro.schema.Schema, value: Any) -> bool:
    """Apache's verdict; its Python raises AttributeError on a uuid that is not text."""
    try:
        return bool(avro.io.validate(kind, value))
    except AttributeError:
        return False


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_sluice_takes_a_record_exactly_when_apache_avro_does(data):
    schema = data.draw(records(0, itertools.count()))
    record = data.draw(_of(schema))
    validator = RecordValidator(schema)
    sluice = not validator.check(validator.split(record)[0]).problems
    reference = avro.schema.parse(json.dumps(apache_schema(schema)))
    assert sluice == apache_takes(reference, as_apache_value(reference, record, schema)), (
        schema, record)
