"""Avro values as JSON, the way Sluice takes and keeps them: each value checked against its
type with the path of every fault, and turned into its one stored form. Types are in
fastavro's parsed form (full names; named types defined once and then referred to by name),
so this module needs no Avro library. bytes and fixed travel in Avro's JSON encoding (a
string whose characters U+0000 to U+00FF are the bytes); unions take the plain value."""

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Context, Decimal, InvalidOperation
from typing import Any

from apps.core.codes import Code

RecordProblem = tuple[str, str, str]  # (field path, code, detail)
RANGES = {"int": (-(2**31), 2**31 - 1), "long": (-(2**63), 2**63 - 1)}
NUMBERS = frozenset({"int", "long", "float", "double"})

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

# int and long logical types also take ISO text, kept as their number (days, or millis or
# micros since midnight or since 1970-01-01T00:00:00, UTC for timestamps).
NUMBER_TIME = re.compile(r"^\d{2}:\d{2}:\d{2}(\.\d{1,6})?$")
NUMBER_TIMESTAMP = re.compile(
    r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})$")
NUMBER_LOCAL_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?$")
EPOCH = datetime(1970, 1, 1)
UNITS = {"millis": (1000, "milliseconds", ".000"), "micros": (1, "microseconds", ".000000")}
NUMBER_LOGICAL_TYPES: dict[str, tuple[re.Pattern[str], int, str]] = {  # text, µs per unit
    "date": (ISO_DATE, 0, "an ISO date such as 2020-05-25, or days since 1970-01-01"),
    **{logical: entry for unit, (micros, words, fraction) in UNITS.items() for logical, entry in {
        f"time-{unit}": (NUMBER_TIME, micros, f"an ISO time such as 14:30:00{fraction}, or "
                         f"{words} since midnight"),
        f"timestamp-{unit}": (NUMBER_TIMESTAMP, micros, "an ISO timestamp with its offset such "
                              f"as 2020-05-25T14:30:00{fraction}Z, or {words} since 1970-01-01 "
                              "UTC"),
        f"local-timestamp-{unit}": (NUMBER_LOCAL_TIMESTAMP, micros, "an ISO local timestamp "
                                    f"such as 2020-05-25T14:30:00{fraction}, or {words} since "
                                    "1970-01-01"),
    }.items()},
}
DECIMAL_TEXT = re.compile(r"^[+-]?\d+(\.\d+)?$")


@dataclass(slots=True)
class Walk:
    """What walking one value found: its problems, and the paths of fields not in the schema
    (left out of the stored value). `first_branch` reads unions as defaults do."""

    names: dict[str, Any]
    problems: list[RecordProblem] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    first_branch: bool = False

    def problem(self, path: str, code: str, detail: str) -> None:
        self.problems.append((path, code, detail))


def stored_value(kind: Any, value: Any, path: str, walk: Walk) -> Any:
    """`value` as Sluice stores it for a field of type `kind`; each fault goes to `walk`."""
    if isinstance(kind, str):
        kind = walk.names.get(kind, kind)
    if isinstance(kind, list):
        return _union(kind, value, path, walk)
    base = kind["type"] if isinstance(kind, dict) else kind
    if value is None and base != "null":
        walk.problem(path, Code.REQUIRED, f"The field {path!r} is required ({type_name(kind)}).")
        return value
    return _CHECKS[base](kind, value, path, walk)


def type_name(kind: Any) -> str:
    """A type as a sender reads it: `int`, `string (date)`, `ns.color`, `null or string`."""
    if isinstance(kind, list):
        return " or ".join(type_name(branch) for branch in kind)
    if isinstance(kind, dict):
        logical = kind.get("logicalType")
        base = kind.get("type")
        return f"{base} ({logical})" if logical else str(kind.get("name", base))
    return str(kind)


def _wrong_type(kind: Any, value: Any, path: str, walk: Walk) -> None:
    walk.problem(path, Code.INVALID_TYPE,
                 f"Expected {type_name(kind)} at {path}, got {type(value).__name__}.")


def _logical(kind: Any) -> str | None:
    return kind.get("logicalType") if isinstance(kind, dict) else None


Check = Callable[[Any, Any, str, Walk], Any]


def _plain(accepts: Callable[[Any], bool]) -> Check:
    """The check of a type whose JSON values `accepts` tells apart, kept as they are."""
    def check(kind: Any, value: Any, path: str, walk: Walk) -> Any:
        if not accepts(value):
            _wrong_type(kind, value, path, walk)
        return value
    return check


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _integer(kind: Any, value: Any, path: str, walk: Walk) -> Any:
    base = kind["type"] if isinstance(kind, dict) else kind
    logical = _logical(kind)
    if isinstance(value, str) and logical in NUMBER_LOGICAL_TYPES:
        number = logical_number(logical, value)
        if number is None:
            walk.problem(path, f"invalid_{logical.replace('-', '_')}",
                         f"{value!r} is not {NUMBER_LOGICAL_TYPES[logical][2]}.")
            return value
        value = number
    if not isinstance(value, int) or isinstance(value, bool):
        _wrong_type(kind, value, path, walk)
    elif not RANGES[base][0] <= value <= RANGES[base][1]:
        walk.problem(path, Code.OUT_OF_RANGE, f"{value} does not fit an Avro {base} ({path}).")
    return value


def logical_number(logical: str, text: str) -> int | None:
    """The number an ISO text stands for in an int or long logical type, or None."""
    pattern, micros_per_unit, _ = NUMBER_LOGICAL_TYPES[logical]
    if not pattern.match(text):
        return None
    try:
        if logical == "date":
            return (date.fromisoformat(text) - EPOCH.date()).days
        if logical in ("time-millis", "time-micros"):
            moment = time.fromisoformat(text)
            micros = ((moment.hour * 60 + moment.minute) * 60 + moment.second) * 10**6
            return _in_units(micros + moment.microsecond, micros_per_unit)
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    naive = parsed.astimezone(UTC).replace(tzinfo=None) if parsed.tzinfo else parsed
    return _in_units((naive - EPOCH) // timedelta(microseconds=1), micros_per_unit)


def _in_units(micros: int, micros_per_unit: int) -> int | None:
    """Microseconds in the type's unit, or None when the text is more precise than it."""
    return None if micros % micros_per_unit else micros // micros_per_unit


def _string(kind: Any, value: Any, path: str, walk: Walk) -> Any:
    if not isinstance(value, str):
        _wrong_type(kind, value, path, walk)
        return value
    logical = _logical(kind)
    if logical in STRING_LOGICAL_TYPES:
        pattern, example = STRING_LOGICAL_TYPES[logical]
        if not pattern.match(value) or not _valid_calendar(logical, value):
            walk.problem(path, f"invalid_{logical.replace('-', '_')}",
                         f"{value!r} is not {example}.")
    return value


def _valid_calendar(kind: str, value: str) -> bool:
    try:
        if kind == "date":
            date.fromisoformat(value)
        elif "timestamp" in kind:
            datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def _bytes(kind: Any, value: Any, path: str, walk: Walk) -> Any:
    if not _is_bytes(kind, value, path, walk):
        return value
    return _decimal(kind, value, path, walk) if _logical(kind) == "decimal" else value


def _fixed(kind: Any, value: Any, path: str, walk: Walk) -> Any:
    decimal = _logical(kind) == "decimal"
    if decimal and isinstance(value, str) and DECIMAL_TEXT.match(value):
        return _decimal(kind, value, path, walk)
    if not _is_bytes(kind, value, path, walk):
        return value
    if len(value) != kind["size"]:
        walk.problem(path, Code.WRONG_SIZE, f"{kind['name']} at {path} holds exactly "
                     f"{kind['size']} bytes, got {len(value)}.")
        return value
    return _decimal(kind, value, path, walk) if decimal else value


def _is_bytes(kind: Any, value: Any, path: str, walk: Walk) -> bool:
    """Whether `value` is bytes in Avro's JSON encoding; else tells `walk` why not."""
    if not isinstance(value, str):
        _wrong_type(kind, value, path, walk)
        return False
    if value and max(value) > "\xff":
        walk.problem(path, Code.INVALID_BYTES, f"Expected {type_name(kind)} at {path} in Avro's "
                     "JSON encoding: a string whose characters U+0000 to U+00FF are the bytes.")
        return False
    return True


def _decimal(kind: dict[str, Any], value: str, path: str, walk: Walk) -> Any:
    """A decimal sent as its text ("12.34") or as the bytes of its unscaled two's-complement
    number, stored as its text with exactly `scale` digits after the point."""
    precision, scale = kind["precision"], kind.get("scale", 0)
    if DECIMAL_TEXT.match(value):
        number = Decimal(value)
    else:
        number = Decimal(int.from_bytes(value.encode("latin-1"), "big", signed=True)).scaleb(
            -scale)
    try:
        exact = number.quantize(Decimal(1).scaleb(-scale), context=Context(prec=precision + 2))
    except InvalidOperation:
        exact = Decimal("NaN")
    unscaled = int(exact.scaleb(scale)) if exact == number else 0
    if exact != number or len(str(abs(unscaled))) > precision or (
            "size" in kind and unscaled.bit_length() > kind["size"] * 8 - 1):
        walk.problem(path, Code.INVALID_DECIMAL, f"{value!r} at {path} is not a decimal of at "
                     f"most {precision} digits, {scale} of them after the point (such as "
                     f"\"{Decimal(1).scaleb(-scale):f}\").")
        return value
    return f"{exact:f}"


def _enum(kind: Any, value: Any, path: str, walk: Walk) -> Any:
    if not isinstance(value, str) or value not in kind["symbols"]:
        _wrong_type(kind, value, path, walk)
    return value


def _array(kind: Any, value: Any, path: str, walk: Walk) -> Any:
    if not isinstance(value, list):
        _wrong_type(kind, value, path, walk)
        return value
    return [stored_value(kind["items"], item, f"{path}[{index}]", walk)
            for index, item in enumerate(value)]


def _map(kind: Any, value: Any, path: str, walk: Walk) -> Any:
    if not isinstance(value, dict):
        _wrong_type(kind, value, path, walk)
        return value
    return {key: stored_value(kind["values"], item, f"{path}.{key}", walk)
            for key, item in value.items()}


def _record(kind: Any, value: Any, path: str, walk: Walk) -> Any:
    if not isinstance(value, dict):
        _wrong_type(kind, value, path, walk)
        return value
    known = {spec["name"] for spec in kind["fields"]}
    walk.unknown.extend(f"{path}.{name}" for name in value if name not in known)
    stored = {}
    for spec in kind["fields"]:
        name = spec["name"]
        if name in value or "default" not in spec:  # left out with a default: stays out
            stored[name] = stored_value(spec["type"], value.get(name), f"{path}.{name}", walk)
    return stored


def _union(branches: list[Any], value: Any, path: str, walk: Walk) -> Any:
    """The first branch the whole value fits; when none does, the faults of the one branch of
    the value's JSON kind, else that no branch fits."""
    if walk.first_branch:
        return stored_value(branches[0], value, path, walk)
    for branch in branches:
        trial = Walk(walk.names)
        stored = stored_value(branch, value, path, trial)
        if not trial.problems:
            walk.unknown.extend(trial.unknown)
            return stored
    alike = [branch for branch in branches if _same_kind(branch, value, walk.names)]
    if len(alike) == 1:
        return stored_value(alike[0], value, path, walk)
    if value is None:
        walk.problem(path, Code.REQUIRED,
                     f"The field {path!r} is required ({type_name(branches)}).")
    else:
        _wrong_type(branches, value, path, walk)
    return value


JSON_KINDS: dict[str, type | tuple[type, ...]] = {
    "record": dict, "error": dict, "map": dict, "array": list, "boolean": bool,
    "int": int, "long": int, "float": (int, float), "double": (int, float),
    "string": str, "bytes": str, "fixed": str, "enum": str,
}


def _same_kind(kind: Any, value: Any, names: dict[str, Any]) -> bool:
    """Whether `value` is of the JSON kind that `kind` is sent as."""
    if isinstance(kind, str):
        kind = names.get(kind, kind)
    base = kind["type"] if isinstance(kind, dict) else kind
    expected = JSON_KINDS.get(base)
    if isinstance(value, str) and _logical(kind) in NUMBER_LOGICAL_TYPES:
        return True
    if expected is None or (isinstance(value, bool) and base != "boolean"):
        return False
    return isinstance(value, expected)


_CHECKS: dict[str, Check] = {
    "null": _plain(lambda value: value is None),
    "boolean": _plain(lambda value: isinstance(value, bool)),
    "int": _integer, "long": _integer, "float": _plain(_is_number),
    "double": _plain(_is_number), "string": _string, "bytes": _bytes, "fixed": _fixed,
    "enum": _enum,
    "array": _array, "map": _map, "record": _record, "error": _record,
}


def read_back(kind: Any, value: Any, names: dict[str, Any]) -> Any:
    """A stored value as its type reads: float and double values as JSON numbers with a
    fraction or exponent (PostgreSQL keeps 1e300 as a 301-digit integer)."""
    if value is None:
        return value
    if isinstance(kind, str):
        kind = names.get(kind, kind)
    if isinstance(kind, list):
        return read_back(_stored_branch(kind, value, names), value, names)
    base = kind["type"] if isinstance(kind, dict) else kind
    if base in ("float", "double") and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if base == "array" and isinstance(value, list):
        return [read_back(kind["items"], item, names) for item in value]
    if base == "map" and isinstance(value, dict):
        return {key: read_back(kind["values"], item, names) for key, item in value.items()}
    if base in ("record", "error") and isinstance(value, dict):
        types = {spec["name"]: spec["type"] for spec in kind["fields"]}
        return {key: read_back(types[key], item, names) if key in types else item
                for key, item in value.items()}
    return value


def _stored_branch(branches: list[Any], value: Any, names: dict[str, Any]) -> Any:
    """The branch a stored value was kept in: as at ingestion, the first that takes it."""
    for branch in branches:
        walk = Walk(names)
        stored_value(branch, value, "", walk)
        if not walk.problems:
            return branch
    return "null"


def holds(kind: Any, names: dict[str, Any], wanted: frozenset[str],
          seen: frozenset[str] = frozenset()) -> bool:
    """Whether a type is, or holds at any depth, a type whose base is one of `wanted`
    (`logical` stands for any logical type)."""
    if isinstance(kind, str):
        if kind in seen:
            return False
        seen = seen | {kind}
        kind = names.get(kind, kind)
    if isinstance(kind, list):
        return any(holds(branch, names, wanted, seen) for branch in kind)
    if not isinstance(kind, dict):
        return kind in wanted
    if kind["type"] in wanted or ("logical" in wanted and "logicalType" in kind):
        return True
    children = [spec["type"] for spec in kind.get("fields", [])]
    children += [kind[key] for key in ("items", "values") if key in kind]
    return any(holds(child, names, wanted, seen) for child in children)
