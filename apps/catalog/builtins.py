"""The built-in collections every org has (products, accounts, users, events, pages), with
their Avro schemas and identifiers, and the records they start with (the default product).
The usage collector and the Fuzy-style API write into them through the same pipeline as any
collection; they are read like any collection."""

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from django.db import transaction

from apps.audit.models import Action
from apps.audit.services import record
from apps.catalog import services
from apps.catalog.builtin_names import BuiltinCollection
from apps.catalog.models import Collection, Identifier
from apps.core.actors import Actor
from apps.core.snapshots import snapshot
from apps.ingestion.services import Outcome, collection_batch
from apps.orgs.models import Org
from apps.records.services import batches_store
from apps.sources.models import Source

SCHEMAS = Path(__file__).resolve().parent / "builtin_schemas"
SOURCE_NAME = "builtin"


@dataclass(frozen=True)
class Builtin:
    name: BuiltinCollection
    key: str
    profile: bool
    references: tuple[tuple[str, BuiltinCollection], ...] = ()  # (field, collection it points at)
    records: tuple[dict[str, object], ...] = ()  # stored with the collection
    # (field, by, collection): a record leaving `field` null takes it from the record of
    # `collection` that its `by` names, when stored
    inherits: tuple[tuple[str, str, BuiltinCollection], ...] = ()


DEFAULT_PRODUCT: dict[str, object] = {"productId": "default", "name": "Default product",
                                      "description": None, "isDefault": True}
PRODUCTS, ACCOUNTS, USERS = (BuiltinCollection.PRODUCTS, BuiltinCollection.ACCOUNTS,
                             BuiltinCollection.USERS)
BUILTINS = (
    Builtin(PRODUCTS, "productId", profile=True, records=(DEFAULT_PRODUCT,)),
    Builtin(ACCOUNTS, "accountId", profile=True, references=(("parentAccountId", ACCOUNTS),)),
    Builtin(USERS, "userId", profile=True, references=(("accountId", ACCOUNTS),)),
    Builtin(BuiltinCollection.EVENTS, "eventId", profile=False, references=(
        ("userId", USERS), ("accountId", ACCOUNTS), ("productId", PRODUCTS)),
        inherits=(("accountId", "userId", USERS),)),
    Builtin(BuiltinCollection.PAGES, "eventId", profile=False, references=(
        ("userId", USERS), ("accountId", ACCOUNTS)), inherits=(("accountId", "userId", USERS),)),
)
BUILTIN_NAMES = frozenset(builtin.name for builtin in BUILTINS)


def builtin_inherits(collections: dict[str, Collection]) -> dict[str, list[list[object]]]:
    """What each built-in collection's records take from the records they name when stored
    (an event or page naming only its user counts under the user's account), by collection
    name, for source_ingest."""
    return {builtin.name: [[field, by, collections[source].id]
                           for field, by, source in builtin.inherits if source in collections]
            for builtin in BUILTINS if builtin.inherits and builtin.name in collections}


def collection_is_builtin(collection: Collection) -> bool:
    """Whether the collection is one of its org's built-in ones."""
    return collection.source.name == SOURCE_NAME and collection.name in {b.name for b in BUILTINS}


def _key_schema(name: str, field: str) -> dict[str, object]:
    return {"type": "record", "name": name, "namespace": "sluice.builtin",
            "fields": [{"name": field, "type": "string"}]}


@transaction.atomic
def builtin_collections_ensure(*, actor: Actor, org: Org) -> dict[str, Collection]:
    """The org's built-in collections by name, made (with their identifiers) when missing, or
    given the fields they lack; `actor` is recorded as having made them."""
    source, made = Source.objects.get_or_create(
        org=org, name=SOURCE_NAME,
        defaults={"type": Source.Type.API, "title": "Built-in collections",
                  "description": "Products, accounts, users, events and pages."},
    )
    if made:
        record(actor=actor, org=org, action=Action.SOURCE_CREATED, target_type="source",
               target_id=source.id, after=snapshot(source))
    existing = {c.name: c for c in Collection.objects.filter(
        org=org, name__in=[b.name for b in BUILTINS])}
    for collection in existing.values():
        _fields_added(actor, collection)
    if len(existing) == len(BUILTINS):
        return existing
    primaries = {i.collection.name: i for i in Identifier.objects.filter(
        collection__in=existing.values(), type=Identifier.Type.PRIMARY).select_related(
        "collection")}
    for builtin in BUILTINS:
        if builtin.name in existing:
            continue
        schema = _shipped_schema(builtin.name)
        collection = services.collection_create(
            actor=actor, org=org, source=source, name=builtin.name, schema=schema,
            profile=builtin.profile, event=not builtin.profile)
        primaries[builtin.name] = services.identifier_create(
            actor=actor, collection=collection, type=Identifier.Type.PRIMARY, name=builtin.key,
            schema=_key_schema(builtin.key, builtin.key))
        existing[builtin.name] = collection
        for field, target in builtin.references:
            services.identifier_create(
                actor=actor, collection=collection, type=Identifier.Type.FOREIGN, name=field,
                schema=_key_schema(field, field), reference=primaries[target])
        if builtin.records:
            _records_store(collection, builtin.records)
    return existing


@cache
def _shipped_schema(name: str) -> dict[str, Any]:
    schema: dict[str, Any] = json.loads((SCHEMAS / f"{name}.avsc").read_text())
    return schema


def _fields_missing(collection: Collection) -> list[dict[str, Any]]:
    """The fields Sluice ships in the built-in collection that it lacks (an earlier Sluice
    made it)."""
    have = {field["name"] for field in collection.schema["fields"]}
    return [field for field in _shipped_schema(collection.name)["fields"]
            if field["name"] not in have]


def builtins_current(collections: dict[str, Collection]) -> bool:
    """Whether `collections` (an org's, by name) hold every built-in one, each with every
    field Sluice ships: if not, builtin_collections_ensure makes them so."""
    return all(builtin.name in collections and not _fields_missing(collections[builtin.name])
               for builtin in BUILTINS)


def _fields_added(actor: Actor, collection: Collection) -> None:
    """Registers a new version of a built-in collection made by an earlier Sluice, with the
    fields Sluice has added to it since (each optional, with a default); the fields of its
    own that the org added stay."""
    added = _fields_missing(collection)
    if added:
        services.schema_version_register(actor=actor, collection=collection, schema={
            **collection.schema, "fields": [*collection.schema["fields"], *added]})


def _records_store(collection: Collection, records: tuple[dict[str, object], ...]) -> None:
    """Stores a new collection's starting records at once, validated like any record."""
    batch = collection_batch(collection=collection, records=list(records), outcome=Outcome())
    batches_store(batches=[batch])
