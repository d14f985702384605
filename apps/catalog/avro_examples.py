"""Example values of Avro types, for showing a sender what a collection takes: a record that
its schema accepts, each field without a default holding a plain value of its type. Types are
in fastavro's parsed form, as in avro_values, so this module needs no Avro library."""

from decimal import Decimal
from typing import Any

from apps.catalog.avro_values import NUMBER_LOGICAL_TYPES, STRING_LOGICAL_TYPES

# The texts the errors of avro_values quote: each is taken by its logical type, on strings
# and on the int and long types that take ISO text.
LOGICAL_EXAMPLES = {
    "date": "2020-05-25",
    "time-millis": "14:30:00.000",
    "time-micros": "14:30:00.000000",
    "timestamp-millis": "2020-05-25T14:30:00Z",
    "timestamp-micros": "2020-05-25T14:30:00Z",
    "local-timestamp-millis": "2020-05-25T14:30:00",
    "local-timestamp-micros": "2020-05-25T14:30:00",
    "uuid": "3f1c6a52-6b0e-4d0a-9c1e-5b2f0f7a9d11",
}
PLAIN_EXAMPLES: dict[str, Any] = {
    "null": None, "boolean": True, "int": 1, "long": 1, "float": 1, "double": 1,
    "string": "…", "bytes": "...",  # bytes travel as text of the characters U+0000 to U+00FF
}


def example_record(record: dict[str, Any], names: dict[str, Any]) -> dict[str, Any]:
    """A record of the parsed record type `record` that validation accepts: a value in each
    field without a default, and no other field."""
    return _fields(record, names, frozenset({record["name"]}))


def _fields(record: dict[str, Any], names: dict[str, Any], seen: frozenset[str]
            ) -> dict[str, Any]:
    return {field["name"]: example_value(field["type"], names, seen)
            for field in record["fields"] if "default" not in field}


def example_value(kind: Any, names: dict[str, Any], seen: frozenset[str] = frozenset()) -> Any:
    """A value of type `kind`; `seen` names the records being filled in, which a union
    avoids (a record that holds itself ends in another branch, an empty array or map)."""
    if isinstance(kind, str):
        kind = names.get(kind, kind)
    if isinstance(kind, list):
        branches = [b for b in kind if not (isinstance(b, str) and b in seen)] or ["null"]
        return example_value(branches[0], names, seen)
    if not isinstance(kind, dict):
        return PLAIN_EXAMPLES[kind]
    base, logical = kind["type"], kind.get("logicalType")
    if base in ("record", "error"):
        return _fields(kind, names, seen | {kind["name"]})
    if logical == "decimal" and base in ("bytes", "fixed"):
        return f"{Decimal(1).scaleb(-kind.get('scale', 0)):f}"
    if (base == "string" and logical in STRING_LOGICAL_TYPES) or (
            base in ("int", "long") and logical in NUMBER_LOGICAL_TYPES):
        return LOGICAL_EXAMPLES[logical]
    return _by_base(kind)


def _by_base(kind: dict[str, Any]) -> Any:
    base = kind["type"]
    if base == "enum":
        return kind["symbols"][0]
    if base == "fixed":
        return "." * kind["size"]
    if base == "array":
        return []
    if base == "map":
        return {}
    return PLAIN_EXAMPLES[base]  # a primitive with a logical type that takes plain values
