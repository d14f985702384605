"""Everything Avro, in the one module that imports fastavro. It checks and parses schemas and
validates records, and reports problems as `(field path, message)` pairs. It knows nothing of
HTTP or the ORM, so the API, the admin and ingestion share it."""

import io
import json
import re
import struct
from datetime import date, datetime
from typing import Any, cast

import fastavro
import fastavro.validation

Problem = tuple[str, str]

PRIMITIVES = frozenset({"null", "boolean", "int", "long", "float", "double", "bytes", "string"})
NAMED = frozenset({"record", "error", "enum", "fixed"})
KEY_TYPES = frozenset({"string", "int", "long"})
NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
NAMESPACE = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)(\.[A-Za-z_][A-Za-z0-9_]*)*$")


class _SchemaChecker:
    """Walks a schema the way Avro's specification reads it, collecting every problem with
    the path where it stands (e.g. `schema.fields[3].type`)."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []
        self.named: set[str] = set()

    def problem(self, path: str, message: str) -> None:
        self.problems.append((path, message))

    def check_type(self, value: Any, path: str, namespace: str) -> None:
        if isinstance(value, str):
            self._check_reference(value, path, namespace)
        elif isinstance(value, list):
            self._check_union(value, path, namespace)
        elif isinstance(value, dict):
            self._check_complex(value, path, namespace)
        else:
            self.problem(path, "A type is a type name, an object with `type`, or a union list.")

    def _check_reference(self, name: str, path: str, namespace: str) -> None:
        if name in PRIMITIVES:
            return
        full = name if "." in name or not namespace else f"{namespace}.{name}"
        if name not in self.named and full not in self.named:
            self.problem(
                path,
                f"Unknown type {name!r}. Use a primitive ({', '.join(sorted(PRIMITIVES))}) "
                "or the name of a record, enum or fixed defined earlier in the schema.",
            )

    def _check_union(self, branches: list[Any], path: str, namespace: str) -> None:
        if not branches:
            self.problem(path, "A union needs at least one type.")
        seen: set[str] = set()
        for index, branch in enumerate(branches):
            branch_path = f"{path}[{index}]"
            if isinstance(branch, list):
                self.problem(branch_path, "A union may not directly contain another union.")
                continue
            self.check_type(branch, branch_path, namespace)
            kind = _branch_kind(branch)
            if kind in seen:
                self.problem(branch_path, f"The union already has a {kind!r} branch.")
            seen.add(kind)

    def _check_complex(self, value: dict[str, Any], path: str, namespace: str) -> None:
        kind = value.get("type")
        if kind is None:
            self.problem(f"{path}.type", "This field is required.")
        elif kind in ("record", "error"):
            self.check_record(value, path, namespace)
        elif kind == "enum":
            self._check_enum(value, path, namespace)
        elif kind == "fixed":
            self._check_fixed(value, path, namespace)
        elif kind == "array":
            self._check_child(value, "items", path, namespace)
        elif kind == "map":
            self._check_child(value, "values", path, namespace)
        elif isinstance(kind, str) and kind in PRIMITIVES:
            self._check_logical(value, path)
        else:
            self.check_type(kind, f"{path}.type", namespace)

    def _check_child(self, value: dict[str, Any], key: str, path: str, namespace: str) -> None:
        if key not in value:
            self.problem(f"{path}.{key}", "This field is required.")
        else:
            self.check_type(value[key], f"{path}.{key}", namespace)

    def _check_logical(self, value: dict[str, Any], path: str) -> None:
        if value.get("logicalType") == "decimal" and not isinstance(value.get("precision"), int):
            self.problem(f"{path}.precision", "A decimal needs an integer `precision`.")

    def _define(self, value: dict[str, Any], path: str, namespace: str) -> str:
        """Registers a named type and answers the namespace its children inherit."""
        name = value.get("name")
        if not isinstance(name, str) or not NAME.match(name.rpartition(".")[2]):
            self.problem(f"{path}.name", "A name starts with a letter or _ and holds only "
                         "letters, digits and _.")
            return namespace
        own = value.get("namespace", namespace)
        if own and (not isinstance(own, str) or not NAMESPACE.match(own)):
            self.problem(f"{path}.namespace", "A namespace is dot-separated names.")
            own = namespace
        if "." in name:
            own, _, name = name.rpartition(".")
        full = f"{own}.{name}" if own else name
        if full in self.named or name in PRIMITIVES:
            self.problem(f"{path}.name", f"The type {full!r} is defined twice.")
        self.named.add(full)
        return str(own or "")

    def check_record(self, value: dict[str, Any], path: str, namespace: str) -> None:
        inner = self._define(value, path, namespace)
        fields = value.get("fields")
        if not isinstance(fields, list):
            self.problem(f"{path}.fields", "A record needs a `fields` list.")
            return
        names: set[str] = set()
        for index, field in enumerate(fields):
            self._check_field(field, f"{path}.fields[{index}]", inner, names)

    def _check_field(self, field: Any, path: str, namespace: str, names: set[str]) -> None:
        if not isinstance(field, dict):
            self.problem(path, "A field is an object with `name` and `type`.")
            return
        name = field.get("name")
        if not isinstance(name, str) or not NAME.match(name):
            self.problem(f"{path}.name", "A field name starts with a letter or _ and holds "
                         "only letters, digits and _.")
        elif name in names:
            self.problem(f"{path}.name", f"The field {name!r} is defined twice.")
        else:
            names.add(name)
        if "type" not in field:
            self.problem(f"{path}.type", "This field is required.")
        else:
            self.check_type(field["type"], f"{path}.type", namespace)

    def _check_enum(self, value: dict[str, Any], path: str, namespace: str) -> None:
        self._define(value, path, namespace)
        symbols = value.get("symbols")
        if not isinstance(symbols, list) or not symbols:
            self.problem(f"{path}.symbols", "An enum needs a non-empty `symbols` list.")
            return
        for index, symbol in enumerate(symbols):
            if not isinstance(symbol, str) or not NAME.match(symbol):
                self.problem(f"{path}.symbols[{index}]", "A symbol is a name.")
        if len(set(map(str, symbols))) != len(symbols):
            self.problem(f"{path}.symbols", "Symbols must be unique.")

    def _check_fixed(self, value: dict[str, Any], path: str, namespace: str) -> None:
        self._define(value, path, namespace)
        size = value.get("size")
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            self.problem(f"{path}.size", "A fixed needs a non-negative integer `size`.")


def _branch_kind(branch: Any) -> str:
    if isinstance(branch, dict):
        kind = branch.get("type")
        return str(branch.get("name", kind)) if kind in NAMED else str(kind)
    return str(branch)


def record_schema_problems(schema: Any, path: str = "schema") -> list[Problem]:
    """Every problem of a schema that must be an Avro record, or [] when it is valid."""
    if not isinstance(schema, dict) or schema.get("type") not in ("record",):
        return [(f"{path}.type" if isinstance(schema, dict) else path,
                 'A collection schema is an Avro record: {"type": "record", "name": ..., '
                 '"fields": [...]}.')]
    checker = _SchemaChecker()
    checker.check_record(schema, path, "")
    if checker.problems:
        return checker.problems
    try:
        fastavro.parse_schema(schema, _write_hint=False)
    except Exception as error:  # fastavro raises several exception types for bad schemas
        return [(path, f"Not a valid Avro schema: {error}")]
    return []


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
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
ISO_TIME = re.compile(r"^\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?$")
ISO_DATETIME = re.compile(
    r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?$"
)
UUID = re.compile(r"^[0-9a-fA-F]{8}-?([0-9a-fA-F]{4}-?){3}[0-9a-fA-F]{12}$")
STRING_LOGICAL_TYPES: dict[str, tuple[re.Pattern[str], str]] = {
    "date": (ISO_DATE, "an ISO date such as 2020-05-25"),
    "time-millis": (ISO_TIME, "an ISO time such as 14:30:00.000"),
    "time-micros": (ISO_TIME, "an ISO time such as 14:30:00.000000"),
    "timestamp-millis": (ISO_DATETIME, "an ISO timestamp such as 2020-05-25T14:30:00Z"),
    "timestamp-micros": (ISO_DATETIME, "an ISO timestamp such as 2020-05-25T14:30:00Z"),
    "local-timestamp-millis": (ISO_DATETIME, "an ISO timestamp such as 2020-05-25T14:30:00"),
    "local-timestamp-micros": (ISO_DATETIME, "an ISO timestamp such as 2020-05-25T14:30:00"),
    "uuid": (UUID, "a UUID such as 3f1c6a52-6b0e-4d0a-9c1e-5b2f0f7a9d11"),
}
RecordProblem = tuple[str, str, str]  # (field path, code, detail)


def _valid_calendar(kind: str, value: str) -> bool:
    try:
        if kind == "date":
            date.fromisoformat(value)
        elif "timestamp" in kind:
            datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


class RecordValidator:
    """Validates records against one parsed schema version: fastavro for the Avro types, and
    strict checks where fastavro is lenient (logical types on strings)."""

    def __init__(self, schema: dict[str, Any]) -> None:
        self.parsed = fastavro.parse_schema(schema, _write_hint=False)
        expanded: dict[str, Any] = fastavro.parse_schema(  # type: ignore[assignment]
            schema, _write_hint=False, expand=True)  # a record schema parses to a dict
        self.fields: dict[str, Any] = {f["name"]: f for f in expanded["fields"]}
        self._with_logical_strings = [
            (name, field["type"]) for name, field in self.fields.items()
            if '"logicalType"' in json.dumps(field["type"])
        ]

    def split(self, record: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
        """The record's schema fields (defaults filled in) and the names of the others."""
        known = {name: record[name] for name in self.fields if name in record}
        for name, field in self.fields.items():
            if name not in known and "default" in field:
                known[name] = field["default"]
        return known, [name for name in record if name not in self.fields]

    def problems(self, record: dict[str, Any]) -> list[RecordProblem]:
        """Every problem of a record holding only schema fields, or [] when it is valid."""
        if fastavro.validation.validate(record, self.parsed, raise_errors=False):
            return self._logical_problems(record)
        found: list[RecordProblem] = []
        for name, field in self.fields.items():
            value = record.get(name)
            try:
                fastavro.validation.validate(value, field["type"], field=name, raise_errors=True)
            except fastavro.validation.ValidationError as error:
                found.append((name, *_describe(name, value, field["type"], error)))
        reported = {path for path, _, _ in found}
        return found + [p for p in self._logical_problems(record) if p[0] not in reported]

    def _logical_problems(self, record: dict[str, Any]) -> list[RecordProblem]:
        found: list[RecordProblem] = []
        for name, field_type in self._with_logical_strings:
            _check_strings(field_type, record.get(name), name, found)
        return found


def _describe(name: str, value: Any, field_type: Any, error: Exception) -> tuple[str, str]:
    if value is None:
        return "required", f"The field {name!r} is required ({_type_name(field_type)})."
    inner = getattr(error, "errors", [None])[0]
    where = getattr(inner, "field", "") or name
    expected = _type_name(getattr(inner, "schema", field_type))
    if isinstance(value, int) and not isinstance(value, bool) and expected in ("int", "long"):
        return "out_of_range", f"{value} does not fit an Avro {expected} ({where})."
    got = type(getattr(inner, "datum", value)).__name__
    return "invalid_type", f"Expected {expected} at {where}, got {got}."


def _type_name(field_type: Any) -> str:
    if isinstance(field_type, list):
        return " or ".join(_type_name(branch) for branch in field_type)
    if isinstance(field_type, dict):
        logical = field_type.get("logicalType")
        base = field_type.get("type")
        return f"{base} ({logical})" if logical else str(field_type.get("name", base))
    return str(field_type)


def _check_strings(field_type: Any, value: Any, path: str, found: list[RecordProblem]) -> None:
    """Adds a problem for each string that its logical type does not admit."""
    if value is None:
        return
    if isinstance(field_type, list):
        for branch in field_type:
            if isinstance(branch, dict) and branch.get("type") == "string" and isinstance(
                value, str
            ):
                _check_strings(branch, value, path, found)
        return
    if not isinstance(field_type, dict):
        return
    kind = field_type.get("type")
    if kind == "string" and isinstance(value, str):
        logical = field_type.get("logicalType")
        if logical in STRING_LOGICAL_TYPES:
            pattern, example = STRING_LOGICAL_TYPES[logical]
            if not pattern.match(value) or not _valid_calendar(logical, value):
                found.append((path, f"invalid_{logical.replace('-', '_')}",
                               f"{value!r} is not {example}."))
    elif kind == "record" and isinstance(value, dict):
        for field in field_type["fields"]:
            name = field["name"]
            _check_strings(field["type"], value.get(name), f"{path}.{name}", found)
    elif kind == "array" and isinstance(value, list):
        for index, item in enumerate(value):
            _check_strings(field_type["items"], item, f"{path}[{index}]", found)
    elif kind == "map" and isinstance(value, dict):
        for key, item in value.items():
            _check_strings(field_type["values"], item, f"{path}.{key}", found)


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


def query_value(field_type: Any, raw: str) -> Any:
    """A query-string value as the JSON value a field of this type holds; ValueError if it
    cannot be one."""
    kind = field_type
    if isinstance(kind, list):
        if raw == "null" and "null" in kind:
            return None
        kind = next((branch for branch in kind if branch != "null"), "string")
    if isinstance(kind, dict):
        kind = kind.get("type")
    if kind in ("int", "long"):
        return int(raw)
    if kind in ("float", "double"):
        return float(raw)
    if kind == "boolean":
        if raw not in ("true", "false"):
            raise ValueError("true or false")
        return raw == "true"
    if kind in ("string", "enum", "bytes", "fixed"):
        return raw
    raise ValueError("only fields of primitive types can be filtered on")


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
        self._encoder = fastavro.parse_schema(writer)  # takes values as validation took them
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
    """The schema without its logical types (defaults kept as they are)."""
    if isinstance(schema, list):
        return [_underlying(branch) for branch in schema]
    if isinstance(schema, dict):
        return {key: value if key == "default" else _underlying(value)
                for key, value in schema.items() if key != "logicalType"}
    return schema


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
