"""Everything Avro, in the one module that imports fastavro. It checks and parses schemas and
validates records, and reports problems as `(field path, message)` pairs. It knows nothing of
HTTP or the ORM, so the API, the admin and ingestion share it. Its plain-Python parts are
avro_schemas (what a schema may say), avro_values (what a value may be, and how it is
stored) and avro_examples (a value of each type, to show senders)."""

import io
import re
import struct
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, cast

import fastavro
import fastavro.schema
import fastavro.validation

from apps.catalog.avro_schemas import Problem, SchemaChecker, default_problems, text_problems
from apps.catalog.avro_values import (
    DECIMAL_TEXT,
    NUMBER_LOGICAL_TYPES,
    Walk,
    holds,
    logical_number,
    read_back,
    stored_value,
)
from apps.catalog.avro_values import (
    RecordProblem as RecordProblem,  # re-exported: the pair every caller names problems by
)

KEY_TYPES = frozenset({"string", "int", "long"})
INTEGER = re.compile(r"^[+-]?\d+$")


def record_schema_problems(schema: Any, path: str = "schema") -> list[Problem]:
    """Every problem of a schema that must be an Avro record, or [] when it is valid."""
    if not isinstance(schema, dict) or schema.get("type") not in ("record",):
        return [(f"{path}.type" if isinstance(schema, dict) else path,
                 'A collection schema is an Avro record: {"type": "record", "name": ..., '
                 '"fields": [...]}.')]
    checker = SchemaChecker()
    checker.check_record(schema, path, "")
    problems = text_problems(schema, path) + checker.problems
    if problems:
        return problems
    names: dict[str, Any] = {}
    try:
        parsed = fastavro.parse_schema(schema, named_schemas=names, _write_hint=False,
                                       _ignore_default_error=True)
    except Exception as error:  # fastavro raises several exception types for bad schemas
        return [(path, f"Not a valid Avro schema: {error}")]
    return default_problems(parsed, names, path)


def fields_of(schema: dict[str, Any]) -> dict[str, Any]:
    """The top-level fields of a record schema by name, each with its type."""
    return {field["name"]: field["type"] for field in schema["fields"]}


def key_type(field_type: Any) -> str | None:
    """The primitive an identifier field holds (`string`, `int` or `long`), or None when the
    field cannot identify anything. A union with null is an optional key."""
    if isinstance(field_type, list):
        others = [branch for branch in field_type if branch != "null"]
        return key_type(others[0]) if len(others) == 1 and len(field_type) == 2 else None
    if isinstance(field_type, dict):
        field_type = field_type.get("type")
    return field_type if isinstance(field_type, str) and field_type in KEY_TYPES else None


# ---------------------------------------------------------------------------
# Records
# ---------------------------------------------------------------------------
# Top-level fields holding these are walked even when fastavro finds the record valid:
# fastavro takes bytes only as Python bytes, ignores fields a nested record does not have,
# and neither checks logical types' text nor gives them their stored form.
WALKED = frozenset({"record", "error", "bytes", "fixed", "logical"})
REALS = frozenset({"float", "double"})


@dataclass(slots=True)
class Checked:
    """A record as checked: the data to store, the nested fields left out of it (as paths),
    and every problem with its path; the data is stored only when there are no problems."""

    data: dict[str, Any]
    unknown: list[str]
    problems: list[RecordProblem]


class RecordValidator:
    """Validates records against one parsed schema version: one fastavro validation of the
    whole record, then a walk of the fields fastavro cannot judge; a full walk, naming every
    fault, only for a record fastavro finds invalid."""

    def __init__(self, schema: dict[str, Any]) -> None:
        self.names: dict[str, Any] = {}
        self.parsed: dict[str, Any] = fastavro.parse_schema(  # type: ignore[assignment]
            schema, named_schemas=self.names, _write_hint=False)  # a record parses to a dict
        self.fields: dict[str, Any] = {f["name"]: f for f in self.parsed["fields"]}
        self._every = [(name, field["type"]) for name, field in self.fields.items()]
        self._walked = [(name, kind) for name, kind in self._every
                        if holds(kind, self.names, WALKED)]
        self._judged = self._judged_by_fastavro({name for name, _ in self._walked})

    def _judged_by_fastavro(self, walked: set[str]) -> Any:
        """The schema fastavro judges: the fields not walked, so each is checked once; the
        whole record when one of them refers to a type defined in a walked field."""
        fields = [field for name, field in self.fields.items() if name not in walked]
        try:
            return fastavro.parse_schema({"type": "record", "name": "judged", "fields": fields},
                                         _write_hint=False)
        except (fastavro.schema.UnknownType, fastavro.schema.SchemaParseException):
            return self.parsed

    def split(self, record: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
        """The record's schema fields (defaults filled in) and the names of the others."""
        known = {name: record[name] for name in self.fields if name in record}
        for name, field in self.fields.items():
            if name not in known and "default" in field:
                known[name] = field["default"]
        return known, [name for name in record if name not in self.fields]

    def check(self, data: dict[str, Any]) -> Checked:
        """`data` (schema fields only, see split) checked, and in the form it is stored."""
        walked = self._walked if self._fastavro_valid(data) else self._every
        walk = Walk(self.names)
        stored = dict(data)
        for name, kind in walked:
            stored[name] = stored_value(kind, data.get(name), name, walk)
        return Checked(stored, walk.unknown, walk.problems)

    def problems(self, data: dict[str, Any]) -> list[RecordProblem]:
        """Every problem of a record holding only schema fields, or [] when it is valid."""
        return self.check(data).problems

    def _fastavro_valid(self, data: dict[str, Any]) -> bool:
        try:
            return bool(fastavro.validation.validate(data, self._judged, raise_errors=False))
        except (ValueError, TypeError, OverflowError):  # fastavro parses date text itself
            return False


_validators: dict[tuple[int, int], RecordValidator] = {}


def validator_for(collection_id: int, version: int, schema: dict[str, Any]) -> RecordValidator:
    """The parsed validator of one schema version, parsed once per process. A new version
    has a new key, so a schema change reaches every process on its next request."""
    key = (collection_id, version)
    validator = _validators.get(key)
    if validator is None:
        validator = _validators[key] = RecordValidator(schema)
        for stale in [k for k in _validators if k[0] == collection_id and k[1] < version]:
            del _validators[stale]
    return validator


class RecordReader:
    """Reads the stored records of one schema version back as its types read."""

    def __init__(self, schema: dict[str, Any]) -> None:
        self.names: dict[str, Any] = {}
        parsed: dict[str, Any] = fastavro.parse_schema(  # type: ignore[assignment]
            schema, named_schemas=self.names, _write_hint=False)
        self._reals = {field["name"]: field["type"] for field in parsed["fields"]
                       if holds(field["type"], self.names, REALS)}

    def read(self, data: dict[str, Any]) -> dict[str, Any]:
        """`data` with each float and double value a float (see read_back); data of a schema
        without them is returned as it is."""
        if not self._reals:
            return data
        return {name: read_back(self._reals[name], value, self.names)
                if name in self._reals else value for name, value in data.items()}


_readers: dict[tuple[int, int], RecordReader] = {}
READERS_KEPT = 4096


def reader_for(collection_id: int, version: int,
               schema_of: Callable[[], dict[str, Any]]) -> RecordReader:
    """The reader of one schema version, made once per process (a version never changes);
    `schema_of` is asked for the schema only the first time."""
    key = (collection_id, version)
    reader = _readers.get(key)
    if reader is None:
        if len(_readers) >= READERS_KEPT:
            _readers.clear()  # made again when next needed
        reader = _readers[key] = RecordReader(schema_of())
    return reader


def query_value(field_type: Any, raw: str) -> Any:
    """A query-string value as the JSON value a field of this type is stored as (the ISO
    text of an int or long logical type as its number, a decimal as its text at its scale);
    ValueError, saying what the field takes, if it cannot be one."""
    kind = field_type
    if isinstance(kind, list):
        if raw == "null" and "null" in kind:
            return None
        kind = next((branch for branch in kind if branch != "null"), "string")
    logical = kind.get("logicalType") if isinstance(kind, dict) else None
    base = kind.get("type") if isinstance(kind, dict) else kind
    if base in ("int", "long") and logical in NUMBER_LOGICAL_TYPES and not INTEGER.match(raw):
        number = logical_number(logical, raw)
        if number is None:
            raise ValueError(NUMBER_LOGICAL_TYPES[logical][2])
        return number
    if base in ("bytes", "fixed") and logical == "decimal":
        return _decimal_query(kind, raw)
    if base in ("int", "long"):
        return int(raw)
    if base in ("float", "double"):
        return float(raw)
    if base == "boolean":
        if raw not in ("true", "false"):
            raise ValueError("true or false")
        return raw == "true"
    if base in ("string", "enum", "bytes", "fixed"):
        return raw
    raise ValueError("only fields of primitive types can be filtered on")


def _decimal_query(kind: dict[str, Any], raw: str) -> str:
    if not DECIMAL_TEXT.match(raw):
        raise ValueError("a decimal number such as 12.34")
    walk = Walk({})
    value = stored_value(kind, raw, "the filter", walk)
    if walk.problems:
        raise ValueError(walk.problems[0][2].rstrip("."))
    return str(value)


# ---------------------------------------------------------------------------
# Reading records in another schema version: Avro's schema resolution, by fastavro. A record
# is written with its writer version and read with the reader version; its JSON values go in
# as validation took them and come out as a record holds them (see RecordResolver).
# ---------------------------------------------------------------------------
MAX_RESOLVERS = 1000


class Unresolvable(Exception):
    """A record that Avro's resolution rules cannot read in the version asked."""


class RecordResolver:
    """Reads records written in one schema version as another version reads them, by Avro's
    rules: defaults filled, aliases followed, promotions applied, removed fields dropped.
    Logical types come out as their underlying type holds them (an ISO date string stays
    one), bytes as ISO-8859-1 text (Avro's JSON encoding), a float as the shortest number
    that is the same 32-bit float."""

    def __init__(self, writer: dict[str, Any], reader: dict[str, Any]) -> None:
        self._written_names: dict[str, Any] = {}
        encoder: dict[str, Any] = fastavro.parse_schema(  # type: ignore[assignment]
            writer, self._written_names)  # takes values as validation took them
        self._encoder = encoder
        self._to_avro = [(field["name"], field["type"]) for field in encoder["fields"]
                         if _holds_binary_or_float(field["type"], self._written_names, set())]
        self._writer = fastavro.parse_schema(_underlying(writer))
        self._named: dict[str, Any] = {}
        parsed: dict[str, Any] = fastavro.parse_schema(  # type: ignore[assignment]
            _underlying(reader), self._named)  # a record schema parses to a dict
        self._reader = parsed
        self._to_json = [(field["name"], field["type"]) for field in parsed["fields"]
                         if _holds_binary_or_float(field["type"], self._named, set())]

    def resolved(self, data: dict[str, Any]) -> dict[str, Any]:
        """The record as the reader version reads it; Unresolvable when Avro's rules cannot."""
        encoded = io.BytesIO()
        if self._to_avro:
            data = {**data, **{name: _avro_value(kind, data.get(name), self._written_names)
                               for name, kind in self._to_avro}}
        try:
            fastavro.schemaless_writer(encoded, self._encoder, data)
            encoded.seek(0)
            read = fastavro.schemaless_reader(encoded, self._writer, self._reader)
        except Exception as error:  # fastavro raises several exception types
            raise Unresolvable(str(error).splitlines()[0][:300]) from error
        record = cast(dict[str, Any], read)
        for name, field_type in self._to_json:
            record[name] = _json_value(field_type, record[name], self._named)
        return record


def _underlying(schema: Any) -> Any:
    """The schema without its logical types but decimal (defaults kept as they are): values
    read come out as a record holds them, a decimal as a Decimal (see _json_value)."""
    if isinstance(schema, list):
        return [_underlying(branch) for branch in schema]
    if isinstance(schema, dict):
        return {key: value if key == "default" else _underlying(value)
                for key, value in schema.items()
                if key != "logicalType" or value == "decimal"}
    return schema


def _avro_value(field_type: Any, value: Any, named: dict[str, Any]) -> Any:
    """A value as a record holds it, as fastavro writes it: bytes and fixed as bytes (stored
    as their ISO-8859-1 text), a decimal as a Decimal (stored as its text)."""
    field_type = named.get(field_type, field_type) if isinstance(field_type, str) else field_type
    if isinstance(field_type, list):
        field_type = _written_branch(field_type, value, named)
    kind = field_type.get("type") if isinstance(field_type, dict) else field_type
    if isinstance(value, str) and kind in ("bytes", "fixed"):
        if isinstance(field_type, dict) and field_type.get("logicalType") == "decimal":
            return Decimal(value)
        return value.encode("iso-8859-1")
    if kind in ("record", "error") and isinstance(value, dict):
        return {**value, **{field["name"]: _avro_value(field["type"], value[field["name"]],
                                                        named)
                            for field in field_type["fields"] if field["name"] in value}}
    if kind == "array" and isinstance(value, list):
        return [_avro_value(field_type["items"], item, named) for item in value]
    if kind == "map" and isinstance(value, dict):
        return {key: _avro_value(field_type["values"], item, named)
                for key, item in value.items()}
    return value


def _written_branch(union: list[Any], value: Any, named: dict[str, Any]) -> Any:
    """The branch of a union a stored value was taken as: for text, the first branch that
    takes text (string, enum, bytes or fixed), as validation chose it."""
    if isinstance(value, str):
        return next((branch for branch in union if _kind_of(branch, named) in (
            "string", "enum", "bytes", "fixed")), "string")
    return _branch_of(union, value, named)


def _holds_binary_or_float(field_type: Any, named: dict[str, Any], seen: set[str]) -> bool:
    """Whether values of this type may hold bytes, fixed or float, which JSON tells apart."""
    if isinstance(field_type, list):
        return any(_holds_binary_or_float(branch, named, seen) for branch in field_type)
    if isinstance(field_type, str):
        if field_type not in named:
            return field_type in ("bytes", "float")
        if field_type in seen:  # a recursive type: looked at once
            return False
        seen.add(field_type)
        return _holds_binary_or_float(named[field_type], named, seen)
    kind = field_type.get("type")
    if kind == "fixed":
        return True
    if kind in ("record", "error"):
        children = [field["type"] for field in field_type["fields"]]
    elif kind in ("array", "map"):
        children = [field_type["items" if kind == "array" else "values"]]
    else:  # a primitive or a name given as {"type": ...}
        children = [kind]
    return any(_holds_binary_or_float(child, named, seen) for child in children)


def _json_value(field_type: Any, value: Any, named: dict[str, Any]) -> Any:
    """A value fastavro read, as the JSON value a record holds."""
    if isinstance(value, bytes):
        return value.decode("iso-8859-1")
    if isinstance(value, Decimal):
        return format(value, "f")
    field_type = named.get(field_type, field_type) if isinstance(field_type, str) else field_type
    if isinstance(field_type, list):
        field_type = _branch_of(field_type, value, named)
    kind = field_type.get("type") if isinstance(field_type, dict) else field_type
    if kind == "float" and isinstance(value, float):
        return _shortest_float32(value)
    if kind in ("record", "error") and isinstance(value, dict):
        return {field["name"]: _json_value(field["type"], value[field["name"]], named)
                for field in field_type["fields"]}
    if kind == "array" and isinstance(value, list):
        return [_json_value(field_type["items"], item, named) for item in value]
    if kind == "map" and isinstance(value, dict):
        return {key: _json_value(field_type["values"], item, named)
                for key, item in value.items()}
    return value


def _kind_of(branch: Any, named: dict[str, Any]) -> Any:
    branch = named.get(branch, branch) if isinstance(branch, str) else branch
    return branch.get("type") if isinstance(branch, dict) else branch


def _branch_of(union: list[Any], value: Any, named: dict[str, Any]) -> Any:
    """The branch of a union that a value read from it came from, as far as it matters for
    its JSON: a float branch (not double), a record with its fields, a map, an array."""
    kinds = [_kind_of(branch, named) for branch in union]
    if isinstance(value, float):
        return "float" if "float" in kinds and "double" not in kinds else "double"
    for branch, kind in zip(union, kinds, strict=True):
        if isinstance(value, dict) and kind in ("record", "error") and set(value) == {
                field["name"] for field in named.get(branch, branch)["fields"]}:
            return branch
        if isinstance(value, dict) and kind == "map" or isinstance(value, list) and (
                kind == "array"):
            return branch
    return "null"


def _shortest_float32(value: float) -> float:
    """The shortest decimal number that is the same 32-bit float as `value`."""
    single = struct.unpack("f", struct.pack("f", value))[0]
    for digits in range(1, 10):
        shorter = float(f"{value:.{digits}g}")
        if struct.unpack("f", struct.pack("f", shorter))[0] == single:
            return shorter
    return value


_resolvers: dict[tuple[int, int, int], RecordResolver] = {}


def resolver_for(collection_id: int, written_in: tuple[int, dict[str, Any]],
                 read_in: tuple[int, dict[str, Any]]) -> RecordResolver:
    """The resolver from one (version, schema) of a collection to another, parsed once per
    process: a version's schema never changes once made."""
    key = (collection_id, written_in[0], read_in[0])
    resolver = _resolvers.get(key)
    if resolver is None:
        if len(_resolvers) >= MAX_RESOLVERS:
            _resolvers.clear()
        resolver = _resolvers[key] = RecordResolver(written_in[1], read_in[1])
    return resolver


def canonical_form(schema: dict[str, Any]) -> str:
    """The schema's Parsing Canonical Form, as the Avro specification defines it."""
    return str(fastavro.schema.to_parsing_canonical_form(
        fastavro.parse_schema(schema, _write_hint=False)))
