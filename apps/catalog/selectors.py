"""Reads of the catalog; every one is scoped to an org."""

from dataclasses import dataclass
from typing import Any, cast

from django.db.models import Q, QuerySet

from apps.catalog.models import Collection, Identifier, SchemaDryRun, SchemaVersion
from apps.core.cache import catalog
from apps.core.codes import Code
from apps.core.exceptions import InvalidInput
from apps.core.selectors import org_object_get
from apps.orgs.models import Org


def collection_list(*, org: Org, source_id: int | None = None) -> QuerySet[Collection]:
    collections = Collection.objects.filter(org=org).select_related(
        "source", "rejected_drops").order_by("id")
    return collections.filter(source_id=source_id) if source_id else collections


def collection_labels(*, collections: set[tuple[int, int]]) -> dict[tuple[int, int],
                                                                    tuple[str, str]]:
    """(org id, collection id) -> (org slug, collection name), each collection in its own
    org, for operators' metrics; a collection gone (or of another org) is left out."""
    found = Collection.objects.filter(id__in=[coll_id for _, coll_id in collections])
    return {(org_id, coll_id): (slug, name) for org_id, coll_id, slug, name in
            found.values_list("org_id", "id", "org__slug", "name")
            if (org_id, coll_id) in collections}


def collection_get(*, org: Org, collection_id: object) -> Collection | None:
    """The org's collection with this id (number or string) or name, or None."""
    return org_object_get(Collection.objects.select_related("source", "rejected_drops"),
                          org=org, ref=collection_id, by_name=True)


def collection_for_ingest(*, org: Org, collection_id: object) -> Collection | None:
    """Like collection_get, with its identifiers loaded. Kept in each process while the
    catalog does not change (apps/core/cache.py): a new schema version is used from the next
    request on."""
    return catalog.get(f"collection:{org.id}:{collection_id}", lambda: org_object_get(
        Collection.objects.select_related("source").prefetch_related("identifiers"), org=org,
        ref=collection_id, by_name=True))


def schema_version_list(*, collection: Collection) -> QuerySet[SchemaVersion]:
    return collection.versions.order_by("version")


def schema_version_get(*, collection: Collection, version: int) -> SchemaVersion | None:
    return collection.versions.filter(version=version).first()


def schema_of_version(*, collection: Collection, version: int) -> dict[str, Any]:
    """The schema of version `version` of the collection (kept in each process while the
    catalog does not change); InvalidInput naming `schemaVersion` when it has no such one."""
    if version == collection.schema_version:
        return cast(dict[str, Any], collection.schema)
    schemas = catalog.get(f"schema-versions:{collection.id}", lambda: dict(
        collection.versions.values_list("version", "schema"))) or {}
    if version not in schemas:
        raise InvalidInput.field("schemaVersion", Code.UNKNOWN_SCHEMA_VERSION, (
            f"The collection {collection.name!r} has no schema version {version}; its "
            f"versions are {', '.join(map(str, sorted(schemas)))}."))
    return cast(dict[str, Any], schemas[version])


def identifier_list(*, org: Org, collection: Collection | None = None) -> QuerySet[Identifier]:
    identifiers = Identifier.objects.filter(org=org).order_by("id")
    return identifiers.filter(collection=collection) if collection else identifiers


def identifier_get(*, org: Org, identifier_id: object) -> Identifier | None:
    return org_object_get(Identifier.objects.select_related("collection"), org=org,
                          ref=identifier_id)


@dataclass(frozen=True)
class Relation:
    """A foreign identifier seen from one of the two collections it joins."""

    foreign: Identifier
    direction: str  # "outgoing" when the collection asked about holds the foreign identifier

    @property
    def primary(self) -> Identifier:
        assert self.foreign.reference is not None
        return self.foreign.reference


def relation_list(*, org: Org, collection: Collection | None = None) -> list[Relation]:
    """The relations that foreign identifiers make, in both directions for `collection`."""
    foreigns = Identifier.objects.filter(org=org, type=Identifier.Type.FOREIGN).select_related(
        "collection", "reference", "reference__collection"
    ).order_by("id")
    if collection is None:
        return [Relation(foreign, "outgoing") for foreign in foreigns]
    foreigns = foreigns.filter(Q(collection=collection) | Q(reference__collection=collection))
    return [
        Relation(foreign, "outgoing" if foreign.collection_id == collection.id else "incoming")
        for foreign in foreigns
    ]


def schema_dry_run_get(*, org: Org, collection: Collection,
                       dry_run_id: object) -> SchemaDryRun | None:
    return org_object_get(SchemaDryRun.objects.filter(collection=collection), org=org,
                          ref=dry_run_id)
