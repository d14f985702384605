
from apps.catalog.models import Collection, Identifier, SchemaDryRun, SchemaVersion
from apps.catalog.selectors import Relation
from apps.core import links


def _collection(org: str, collection_id: int) -> str:
    return links.path("collection-detail", org=org, collection_id=collection_id)


def _identifier(org: str, identifier_id: int) -> str:
    return links.path("identifier-detail", org=org, identifier_id=identifier_id)


@links.register(Collection)
def collection_links(collection: Collection, org: str) -> dict[str, str]:
    own = _collection(org, collection.id)
    return {
        "self": own,
        "source": links.path("source-detail", org=org, source_id=collection.source_id),
        "data": links.path("collection-data", org=org, collection_id=collection.id),
        "identifiers": f"{own}/identifiers",
        "relations": links.path("relation-list", org=org) + f"?collId={collection.id}",
        "schemas": f"{own}/schemas",
    }


@links.register(Identifier)
def identifier_links(identifier: Identifier, org: str) -> dict[str, str]:
    found = {"self": _identifier(org, identifier.id),
             "collection": _collection(org, identifier.collection_id)}
    if identifier.reference_id:
        found["reference"] = _identifier(org, identifier.reference_id)
    return found


@links.register(SchemaVersion)
def schema_version_links(version: SchemaVersion, org: str) -> dict[str, str]:
    own = _collection(org, version.collection_id)
    return {"self": f"{own}/schemas/{version.version}", "collection": own}


@links.register(Relation)
def relation_links(relation: Relation, org: str) -> dict[str, str]:
    return {
        "self": _identifier(org, relation.foreign.id),
        "from": _collection(org, relation.foreign.collection_id),
        "to": _collection(org, relation.primary.collection_id),
        "foreignIdentifier": _identifier(org, relation.foreign.id),
        "primaryIdentifier": _identifier(org, relation.primary.id),
    }


@links.register(SchemaDryRun)
def schema_dry_run_links(dry_run: SchemaDryRun, org: str) -> dict[str, str]:
    own = _collection(org, dry_run.collection_id)
    return {"self": links.path("schema-dry-run-detail", org=org,
                               collection_id=dry_run.collection_id, dry_run_id=dry_run.id),
            "collection": own, "schemas": f"{own}/schemas"}
