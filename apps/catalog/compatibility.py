"""Whether a new schema version may follow a collection's earlier ones: the compatibility
modes of Confluent Schema Registry, decided by Apache Avro's own checker
(`avro.compatibility.ReaderWriterCompatibilityChecker`), never by rules of ours. This module
only picks which pairs of schemas to check, and says where each pair breaks: per top-level
field of the reader, the path in the reader's schema (`schema.fields[3].type`), both types
and the checker's reason. It knows nothing of HTTP or the ORM."""

import hashlib
import warnings
from dataclasses import dataclass
from typing import Any

import avro.errors
import avro.schema
from avro.compatibility import (
    ReaderWriterCompatibilityChecker,
    SchemaCompatibilityResult,
    SchemaCompatibilityType,
    lookup_writer_field,
)

from apps.catalog.avro import canonical_form
from apps.core.codes import Code
from apps.core.exceptions import Conflict, InvalidInput

BACKWARD, FORWARD = "backward", "forward"
# mode: (directions checked, against every earlier version rather than the latest)
MODES: dict[str, tuple[tuple[str, ...], bool]] = {
    "NONE": ((), False),
    "BACKWARD": ((BACKWARD,), False),
    "BACKWARD_TRANSITIVE": ((BACKWARD,), True),
    "FORWARD": ((FORWARD,), False),
    "FORWARD_TRANSITIVE": ((FORWARD,), True),
    "FULL": ((BACKWARD, FORWARD), False),
    "FULL_TRANSITIVE": ((BACKWARD, FORWARD), True),
}
MISSING_DEFAULT = "reader_field_missing_default_value"


@dataclass(frozen=True)
class Break:
    """Where one reader/writer pair of schemas breaks: a path in the reader's schema, the
    checker's name for it, the two types there (None: no such field) and its reason."""

    path: str
    kind: str
    reader_type: Any
    writer_type: Any
    reason: str


@dataclass(frozen=True)
class Incompatibility:
    """A break of the new schema against one earlier version, in one direction: `backward`
    (the new schema reads what `version` wrote) or `forward` (`version` reads what the new
    schema writes)."""

    found: Break
    version: int
    direction: str

    @property
    def detail(self) -> str:
        if self.direction == BACKWARD:
            who = f"The new schema cannot read records written with version {self.version}"
        else:
            who = f"Version {self.version} cannot read records written with the new schema"
        return f"{who}: {self.found.reason}."

    def as_json(self) -> dict[str, Any]:
        return {"path": self.found.path, "kind": self.found.kind,
                "readerType": self.found.reader_type, "writerType": self.found.writer_type,
                "version": self.version, "direction": self.direction, "detail": self.detail}


class IncompatibleSchema(Conflict):
    """The new schema breaks the collection's compatibility mode; `incompatibilities` says
    where, against which version."""

    default_code = Code.INCOMPATIBLE_SCHEMA

    def __init__(self, mode: str, incompatibilities: list[Incompatibility]) -> None:
        versions = sorted({found.version for found in incompatibilities})
        super().__init__(
            f"The schema breaks the collection's compatibility mode {mode} against version"
            f"{'s' if len(versions) > 1 else ''} {', '.join(map(str, versions))}: see "
            "`incompatibilities`. Give new fields a default, keep old ones (or rename them "
            "with `aliases`), widen types only as Avro promotes them, or set the collection's "
            "`compatibility` to NONE.",
            errors=[(found.found.path, Code.INCOMPATIBLE_SCHEMA, found.detail)
                    for found in incompatibilities])
        self.mode = mode
        self.incompatibilities = incompatibilities

    def extensions(self) -> dict[str, Any]:
        return {"compatibility": self.mode,
                "incompatibilities": [found.as_json() for found in self.incompatibilities]}


def fingerprint(schema: dict[str, Any]) -> str:
    """SHA-256, in hex, of the schema's Avro Parsing Canonical Form."""
    return hashlib.sha256(canonical_form(schema).encode()).hexdigest()


def parsed(schema: dict[str, Any]) -> avro.schema.Schema:
    """The schema as Apache Avro reads it. A logical type on a type it does not annotate (a
    `date` string) is ignored, as the specification says, so it is no problem."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", avro.errors.IgnoredLogicalType)
            return avro.schema.make_avsc_object(schema)
    except avro.errors.AvroException as error:
        raise InvalidInput.field("schema", Code.INVALID_SCHEMA,
                                 f"Apache Avro cannot read this schema: {error}") from error


def breaks(*, reader: dict[str, Any], writer: dict[str, Any]) -> list[Break]:
    """Where a reader of `reader` cannot read data written with `writer` ([]: it can)."""
    reader_schema, writer_schema = parsed(reader), parsed(writer)
    verdict = _checked(reader_schema, writer_schema)
    if verdict.compatibility is not SchemaCompatibilityType.incompatible:
        return []
    found = _name_break(reader_schema, writer_schema, verdict)
    found += _field_breaks(reader, writer, reader_schema, writer_schema, verdict)
    return found or [Break("schema", _kinds(verdict), reader, writer, _reason(verdict))]


def _checked(reader: avro.schema.Schema, writer: avro.schema.Schema) -> SchemaCompatibilityResult:
    checker = ReaderWriterCompatibilityChecker()  # type: ignore[no-untyped-call]
    return checker.get_compatibility(reader, writer)


def _kinds(result: SchemaCompatibilityResult) -> str:
    return ", ".join(sorted({kind.value for kind in result.incompatibilities}))


REASONS = {  # the checker's kinds of break, each with what its message names
    MISSING_DEFAULT: "the reader's field {} has no default, and the writer has no such field",
    "missing_enum_symbols": "the reader's enum lacks the writer's symbols {}",
    "name_mismatch": "the reader's type has another name and no alias ({})",
    "fixed_size_mismatch": "the fixed sizes differ ({})",
}


def _reason(result: SchemaCompatibilityResult) -> str:
    messages = sorted(result.messages)
    if len(result.incompatibilities) == 1 and len(messages) == 1:
        return REASONS.get(result.incompatibilities[0].value, "{}").format(messages[0])
    return "; ".join(messages)


def _name_break(reader: Any, writer: Any, verdict: SchemaCompatibilityResult) -> list[Break]:
    if "/name" not in verdict.locations:
        return []
    return [Break("schema.name", "name_mismatch", reader.fullname, writer.fullname,
                  f"the record is named {reader.fullname!r}, not {writer.fullname!r}, and "
                  "has no alias of that name")]


def _field_breaks(reader_json: dict[str, Any], writer_json: dict[str, Any], reader: Any,
                  writer: Any, verdict: SchemaCompatibilityResult) -> list[Break]:
    """The breaks of each top-level field of the reader: the checker is asked again about
    each field's pair of types, so that each break has its own path and reason."""
    writer_types = {field["name"]: field["type"] for field in writer_json["fields"]}
    found = []
    for index, field in enumerate(reader.fields):
        path, reader_type = f"schema.fields[{index}]", reader_json["fields"][index]["type"]
        other = lookup_writer_field(writer_schema=writer, reader_field=field)
        if other is None:
            if f"/fields/{index}" in verdict.locations:
                found.append(Break(path, MISSING_DEFAULT, reader_type, None,
                                   f"the reader's field {field.name!r} has no default, and "
                                   "the writer has no such field"))
            continue
        result = _checked(field.type, other.type)
        if result.compatibility is SchemaCompatibilityType.incompatible:
            found.append(Break(f"{path}.type{_suffix(result)}", _kinds(result), reader_type,
                               writer_types[other.name], f"the field {field.name!r}: "
                               f"{_reason(result)}"))
    return found


def _suffix(result: SchemaCompatibilityResult) -> str:
    """The checker's one location (`/fields/1/type`) as a path (`.fields[1].type`); nothing
    when it found several."""
    # a merge with a compatible result adds its location, the root, to the others
    locations = result.locations - {"/"} or result.locations
    if len(locations) != 1:
        return ""
    parts = [part for part in next(iter(locations)).split("/") if part]
    return "".join(f"[{part}]" if part.isdigit() else f".{part}" for part in parts)


def incompatibilities(*, mode: str, schema: dict[str, Any],
                      versions: list[tuple[int, dict[str, Any]]]) -> list[Incompatibility]:
    """How `schema` breaks `mode` against the earlier `versions` (oldest first; the last is
    the latest): [] when it does not."""
    directions, transitive = MODES[mode]
    against = versions if transitive else versions[-1:]
    found = []
    for version, earlier in reversed(against):
        for direction in directions:
            reader, writer = (schema, earlier) if direction == BACKWARD else (earlier, schema)
            found += [Incompatibility(one, version, direction)
                      for one in breaks(reader=reader, writer=writer)]
    return found


def verdicts(*, schema: dict[str, Any],
             versions: list[tuple[int, dict[str, Any]]]) -> dict[str, list[Incompatibility]]:
    """How `schema` breaks each mode against the earlier `versions` (oldest first), as
    `incompatibilities` says it for one mode; each pair of schemas is checked once."""
    pairs = {(version, direction): [Incompatibility(one, version, direction) for one in breaks(
        reader=schema if direction == BACKWARD else earlier,
        writer=earlier if direction == BACKWARD else schema)]
        for version, earlier in versions for direction in (BACKWARD, FORWARD)}
    latest = versions[-1][0]
    return {mode: [found for version, _ in reversed(versions)
                   if transitive or version == latest
                   for direction in directions for found in pairs[version, direction]]
            for mode, (directions, transitive) in MODES.items()}


def compatibility_checked(*, mode: str, schema: dict[str, Any],
                          versions: list[tuple[int, dict[str, Any]]]) -> None:
    """Nothing when `schema` keeps `mode` against `versions`; else IncompatibleSchema."""
    found = incompatibilities(mode=mode, schema=schema, versions=versions)
    if found:
        raise IncompatibleSchema(mode, found)
