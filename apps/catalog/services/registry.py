"""Collections, their schema versions and identifiers: created, changed, deleted."""

from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any

from django.db import IntegrityError, transaction

from apps.audit.models import Action
from apps.audit.services import record
from apps.catalog import avro
from apps.catalog.compatibility import compatibility_checked, fingerprint
from apps.catalog.models import Collection, Identifier, SchemaVersion
from apps.core.actors import Actor
from apps.core.codes import Code
from apps.core.exceptions import Conflict, FieldProblem, InvalidInput
from apps.core.snapshots import snapshot
from apps.orgs.models import Compatibility, Org
from apps.records.selectors import written_in_version
from apps.sources.models import Source


@dataclass(frozen=True)
class Registered:
    """A schema registered as a version of its collection: `created` False when an
    identical version existed already; `warnings` say what a change let through under the
    compatibility mode NONE breaks."""

    version: SchemaVersion
    created: bool
    warnings: list[FieldProblem] = dataclass_field(default_factory=list)


@dataclass(frozen=True)
class Updated:
    """A changed collection, with the warnings of its new schema (see Registered)."""

    collection: Collection
    warnings: list[FieldProblem] = dataclass_field(default_factory=list)


def checked_schema(schema: Any, path: str = "schema") -> dict[str, Any]:
    """The schema when it is a valid Avro record; else invalid input naming each problem's
    path."""
    problems = avro.record_schema_problems(schema, path)
    if problems:
        raise InvalidInput(errors=[(attr, Code.INVALID_SCHEMA, message)
                                   for attr, message in problems])
    return dict(schema)


def _kind(profile: bool | None, event: bool | None) -> tuple[bool, bool]:
    profile = bool(profile) if profile is not None else not (event if event is not None else True)
    event = bool(event) if event is not None else not profile
    if profile == event:
        raise InvalidInput.field("profile", Code.INVALID_KIND, "A collection is either an event "
                                 "collection (`event: true`) or a profile collection "
                                 "(`profile: true`).")
    return profile, event


def _duplicate(name: str) -> Conflict:
    return Conflict(f"A collection named {name!r} exists already in this org. Choose another "
                    "name or update that collection.", code=Code.DUPLICATE_NAME)


def _recorded(actor: Actor, action: Action, collection: Collection,
              before: dict[str, Any] | None, after: dict[str, Any] | None) -> None:
    """Records a change of the collection (or of one of its schema versions)."""
    record(actor=actor, org=collection.org, action=action, target_type="collection",
           target_id=collection.id, before=before, after=after)


def _save(collection: Collection) -> None:
    try:
        with transaction.atomic():
            collection.save()
    except IntegrityError as error:
        raise _duplicate(collection.name) from error


@transaction.atomic
def collection_create(*, actor: Actor, org: Org, source: Source, name: str, schema: Any,
                      profile: bool | None = None, event: bool | None = None,
                      compatibility: str | None = None) -> Collection:
    """A new collection with schema version 1."""
    profile, event = _kind(profile, event)
    collection = Collection(org=org, source=source, name=name, profile=profile, event=event,
                            schema=checked_schema(schema), schema_version=1,
                            compatibility=compatibility)
    _save(collection)
    SchemaVersion.objects.create(collection=collection, version=1, schema=collection.schema,
                                 fingerprint=fingerprint(collection.schema))
    _recorded(actor, Action.COLLECTION_CREATED, collection, None, snapshot(collection))
    return collection


@transaction.atomic
def collection_update(*, actor: Actor, collection: Collection,
                      changes: dict[str, Any]) -> Updated:
    """Applies the changes; a changed schema is registered as by schema_version_register."""
    before = snapshot(collection)
    if "profile" in changes or "event" in changes:
        collection.profile, collection.event = _kind(changes.get("profile"), changes.get("event"))
    for name in ("name", "source", "compatibility"):
        if name in changes:
            setattr(collection, name, changes[name])
    warnings: list[FieldProblem] = []
    if "schema" in changes and changes["schema"] != collection.schema:
        warnings = _registered(actor, collection, checked_schema(changes["schema"])).warnings
    _save(collection)
    after = snapshot(collection)
    if after != before:
        _recorded(actor, Action.COLLECTION_UPDATED, collection, before, after)
    return Updated(collection, warnings)


@transaction.atomic
def schema_version_register(*, actor: Actor, collection: Collection,
                            schema: Any) -> Registered:
    """The version of the collection with this schema: an identical one (the same Parsing
    Canonical Form and the same JSON) when there is one, else a new current version, if it
    keeps the collection's identifiers and compatibility mode."""
    registered = _registered(actor, collection, checked_schema(schema))
    if registered.created:
        _save(collection)
    return registered


def _registered(actor: Actor, collection: Collection, schema: dict[str, Any]) -> Registered:
    """Registers `schema` on `collection` (unsaved) under a lock on the collection's row, so
    that two changes at once are checked one after the other."""
    locked = Collection.objects.select_for_update().get(pk=collection.pk)
    collection.schema, collection.schema_version = locked.schema, locked.schema_version
    printed = fingerprint(schema)
    same = collection.versions.filter(fingerprint=printed)
    existing = next((version for version in same if version.schema == schema), None)
    if existing is not None:
        return Registered(existing, created=False)
    warnings = schema_change_checked(collection=collection, schema=schema)
    current = collection.versions.get(version=collection.schema_version)
    collection.schema, collection.schema_version = schema, _next_version(collection)
    version = SchemaVersion.objects.create(collection=collection,
                                           version=collection.schema_version,
                                           schema=schema, fingerprint=printed)
    _recorded(actor, Action.SCHEMA_VERSION_ADDED, collection, snapshot(current),
              snapshot(version))
    return Registered(version, created=True, warnings=warnings)


def schema_change_checked(*, collection: Collection,
                          schema: dict[str, Any]) -> list[FieldProblem]:
    """The warnings of a new schema of the collection (see Registered) when it keeps the
    identifiers' fields and the collection's compatibility mode against its versions; else
    InvalidInput naming the identifiers' fields, or IncompatibleSchema."""
    mode = collection.compatibility_in_force
    warnings = _identifiers_kept(collection, schema, mode)
    compatibility_checked(mode=mode, schema=schema, versions=list(
        collection.versions.order_by("version").values_list("version", "schema")))
    return warnings


def _next_version(collection: Collection) -> int:
    latest = collection.versions.order_by("-version").values_list("version", flat=True).first()
    return (latest or 0) + 1


def _identifiers_kept(collection: Collection, schema: dict[str, Any],
                      mode: str) -> list[FieldProblem]:
    """Nothing when the schema keeps every identifier's fields with their types; else
    invalid input naming each one, or, under the mode NONE, warnings that say what breaks."""
    problems = identifier_problems(collection, schema)
    if problems and mode != Compatibility.NONE:
        raise InvalidInput(errors=problems)
    return [FieldProblem(attr, code, f"{detail} Taken because the compatibility mode is NONE: "
                         "records without these fields are rejected, and relations through "
                         "the identifier break until you change or delete it.")
            for attr, code, detail in problems]


def identifier_problems(collection: Collection,
                        schema: dict[str, Any]) -> list[tuple[str, str, str]]:
    """What `schema` breaks of the collection's identifiers, as `(attr, code, detail)`."""
    fields, old = avro.fields_of(schema), avro.fields_of(collection.schema)
    problems: list[tuple[str, str, str]] = []
    for identifier in collection.identifiers.all():
        for name in identifier.field_names:
            if name not in fields or avro.key_type(fields[name]) != avro.key_type(old[name]):
                problems.append(("schema", Code.IDENTIFIER_FIELD_REMOVED,
                                 f"The field {name!r} makes the identifier {identifier.name!r}: "
                                 "keep it with its type, or delete the identifier first."))
            elif identifier.type == Identifier.Type.PRIMARY and isinstance(fields[name], list):
                problems.append(("schema", Code.OPTIONAL_KEY, f"The field {name!r} keys the "
                                 f"primary identifier {identifier.name!r}: keep it required "
                                 "(not a union with null)."))
    return problems


@transaction.atomic
def collection_delete(*, actor: Actor, collection: Collection) -> None:
    """Deletes the collection with its identifiers, unless it is built in or another
    collection's foreign identifier points at it."""
    # builtins makes its collections through this module, so it is imported when needed
    from apps.catalog.builtins import collection_is_builtin

    if collection_is_builtin(collection):
        raise Conflict(f"The collection {collection.name!r} is built in: the usage collector "
                       "and the Fuzy-style API write into it, so it cannot be deleted.",
                       code=Code.BUILTIN_COLLECTION)
    pointing = Identifier.objects.filter(reference__collection=collection).exclude(
        collection=collection
    ).select_related("collection")
    if pointing:
        names = ", ".join(f"{i.collection.name}.{i.name}" for i in pointing)
        raise Conflict(f"Foreign identifiers point at this collection ({names}). Delete them "
                       "first.", code=Code.COLLECTION_REFERENCED)
    # its own foreign identifiers may point at its primary one, which protects it from them
    collection.identifiers.filter(type=Identifier.Type.FOREIGN).delete()
    _recorded(actor, Action.COLLECTION_DELETED, collection, snapshot(collection), None)
    collection.delete()


@transaction.atomic
def schema_version_delete(*, actor: Actor, version: SchemaVersion) -> None:
    """Deletes a schema version that is not the collection's current one and that no record
    or rejected record was written in."""
    collection = version.collection
    if version.version == collection.schema_version:
        raise Conflict(f"Version {version.version} is the current schema of {collection.name!r}:"
                       " register another version first, or delete the collection.",
                       code=Code.CURRENT_SCHEMA_VERSION)
    records, rejected = written_in_version(collection=collection, version=version.version)
    if records or rejected:
        held = " and ".join(kind for kind, used in (("records", records),
                                                    ("rejected records", rejected)) if used)
        raise Conflict(f"The collection {collection.name!r} holds {held} written in version "
                       f"{version.version}: they are read in it. Delete them (or replay the "
                       "rejected ones) first.", code=Code.SCHEMA_VERSION_IN_USE)
    _recorded(actor, Action.SCHEMA_VERSION_DELETED, collection, snapshot(version), None)
    version.delete()


@transaction.atomic
def identifier_create(*, actor: Actor, collection: Collection, type: str, name: str,
                      schema: Any, reference: Identifier | None = None) -> Identifier:
    """A new identifier whose fields exist in the collection, with matching key types."""
    schema = identifier_checked(collection=collection, type=type, schema=schema,
                                reference=reference)
    identifier = Identifier(org_id=collection.org_id, collection=collection, type=type, name=name,
                            schema=schema, reference=reference if type == "foreign" else None)
    try:
        with transaction.atomic():
            identifier.save()
    except IntegrityError as error:
        raise Conflict(f"The collection {collection.name!r} has an identifier named {name!r} "
                       "already.", code=Code.DUPLICATE_NAME) from error
    _identifier_recorded(actor, Action.IDENTIFIER_CREATED, identifier, None,
                         snapshot(identifier))
    return identifier


def _identifier_recorded(actor: Actor, action: Action, identifier: Identifier,
                         before: dict[str, Any] | None, after: dict[str, Any] | None) -> None:
    record(actor=actor, org=identifier.org, action=action,
           target_type="identifier", target_id=identifier.id, before=before, after=after)


def identifier_checked(*, collection: Collection, type: str, schema: Any,
                       reference: Identifier | None) -> dict[str, Any]:
    """The identifier's schema when it fits the collection (and its reference); else invalid
    input or a conflict."""
    checked = checked_schema(schema)
    key_types = _identifier_key_types(collection, checked)
    if type == Identifier.Type.PRIMARY:
        _check_primary(collection, checked)
    else:
        _check_reference(reference, key_types)
    return checked


def _identifier_key_types(collection: Collection, schema: dict[str, Any]) -> list[str]:
    fields = avro.fields_of(collection.schema)
    problems: list[tuple[str, str, str]] = []
    key_types: list[str] = []
    for index, field in enumerate(schema["fields"]):
        path, name = f"schema.fields[{index}]", field["name"]
        if name not in fields:
            problems.append((f"{path}.name", Code.UNKNOWN_FIELD, f"The collection "
                             f"{collection.name!r} has no field {name!r}. Its fields: "
                             f"{', '.join(fields)}."))
            continue
        key = avro.key_type(fields[name])
        if key is None:
            problems.append((f"{path}.name", Code.NOT_A_KEY_FIELD, f"The field {name!r} cannot "
                             "identify records: use a string, int or long field."))
        elif avro.key_type(field["type"]) != key:
            problems.append((f"{path}.type", Code.TYPE_MISMATCH, f"The field {name!r} is a {key} "
                             "in the collection's schema; declare the same type here."))
        else:
            key_types.append(key)
    if not schema["fields"]:
        problems.append(("schema.fields", Code.REQUIRED, "Name at least one field."))
    if problems:
        raise InvalidInput(errors=problems)
    return key_types


def _check_primary(collection: Collection, schema: dict[str, Any]) -> None:
    existing = collection.identifiers.filter(type=Identifier.Type.PRIMARY).first()
    if existing is not None:
        raise Conflict(f"The collection {collection.name!r} has a primary identifier already "
                       f"({existing.name!r}, id {existing.id}). Delete it to make another.",
                       code=Code.PRIMARY_IDENTIFIER_EXISTS)
    fields = avro.fields_of(collection.schema)
    optional = [(f"schema.fields[{index}].name", Code.OPTIONAL_KEY, f"The field {field['name']!r} "
                 "is optional (a union with null): a primary identifier keys every record, so "
                 "make the field required or choose another.")
                for index, field in enumerate(schema["fields"])
                if isinstance(field["type"], list) or isinstance(fields[field["name"]], list)]
    if optional:
        raise InvalidInput(errors=optional)


def _check_reference(reference: Identifier | None, key_types: list[str]) -> None:
    if reference is None:
        raise InvalidInput.field("referenceId", Code.REQUIRED, "A foreign identifier needs "
                                 "`referenceId`: the id of a primary identifier in this org.")
    if reference.type != Identifier.Type.PRIMARY:
        raise InvalidInput.field("referenceId", Code.NOT_PRIMARY,
                                 "`referenceId` must be a primary identifier.")
    fields = avro.fields_of(reference.collection.schema)
    referenced = [avro.key_type(fields[name]) for name in reference.field_names]
    if referenced != key_types:
        raise InvalidInput.field("schema.fields", Code.TYPE_MISMATCH, f"The fields' types "
                                 f"({', '.join(key_types)}) must match those of the primary "
                                 f"identifier {reference.name!r} "
                                 f"({', '.join(str(t) for t in referenced)}).")


@transaction.atomic
def identifier_delete(*, actor: Actor, identifier: Identifier) -> None:
    """Deletes the identifier unless a foreign identifier points at it."""
    pointing = identifier.referenced_by.exclude(id=identifier.id)
    if pointing.exists():
        raise Conflict("Foreign identifiers point at this primary identifier: "
                       f"{', '.join(str(i.id) for i in pointing)}. Delete them first.",
                       code=Code.IDENTIFIER_REFERENCED)
    _identifier_recorded(actor, Action.IDENTIFIER_DELETED, identifier, snapshot(identifier),
                         None)
    identifier.delete()
