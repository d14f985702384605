"""Reads of the catalog: each one answers the org's own collections, schema versions and
identifiers, never another org's."""

import pytest

from apps.catalog.models import Identifier
from apps.catalog.selectors import (
    collection_for_ingest,
    collection_get,
    collection_list,
    identifier_get,
    identifier_list,
    relation_list,
    schema_version_get,
    schema_version_list,
)
from apps.catalog.services import collection_update
from tests.factories import CollectionFactory, IdentifierFactory, OrgFactory, SourceFactory
from tests.fixtures import ACTOR, schema

pytestmark = pytest.mark.django_db


def test_the_list_holds_the_orgs_collections_oldest_first():
    first = CollectionFactory()
    org = first.org
    CollectionFactory()  # another org's
    other_source = SourceFactory(org=org)
    second = CollectionFactory(org=org, source=other_source)
    assert list(collection_list(org=org)) == [first, second]
    assert list(collection_list(org=org, source_id=other_source.id)) == [second]
    assert list(collection_list(org=OrgFactory())) == []


@pytest.mark.parametrize("read", [collection_get, collection_for_ingest])
def test_a_collection_is_found_by_id_or_name_in_its_org_only(read):
    collection = CollectionFactory(name="bookings")
    CollectionFactory(org=collection.org, source=collection.source)
    strangers = CollectionFactory(name="bookings")
    stranger = strangers.org
    for ref in (collection.id, str(collection.id), "bookings"):
        assert read(org=collection.org, collection_id=ref) == collection
    assert read(org=stranger, collection_id=collection.id) is None
    assert read(org=stranger, collection_id=str(collection.id)) is None
    assert read(org=stranger, collection_id="bookings") == strangers
    for ref in ("missing", 0, "-1", None):
        assert read(org=collection.org, collection_id=ref) is None


def test_a_collection_for_ingest_comes_with_its_identifiers(django_assert_num_queries):
    identifier = IdentifierFactory()
    collection = collection_for_ingest(org=identifier.collection.org,
                                       collection_id=identifier.collection_id)
    with django_assert_num_queries(0):
        assert list(collection.identifiers.all()) == [identifier]
        assert collection.source == identifier.collection.source


def test_a_collection_for_ingest_has_its_newest_schema_at_once():
    collection = CollectionFactory()
    org = collection.org
    assert collection_for_ingest(org=org, collection_id=collection.id).schema_version == 1
    v2 = {**schema("flight-booking"), "fields": [
        *schema("flight-booking")["fields"],
        {"name": "seats", "type": ["null", "int"], "default": None}]}
    collection_update(actor=ACTOR, collection=collection, changes={"schema": v2})
    found = collection_for_ingest(org=org, collection_id=collection.id)
    assert (found.schema_version, found.schema) == (2, v2)


def test_schema_versions_are_read_in_order():
    collection = CollectionFactory()
    v2 = {**schema("flight-booking"), "fields": schema("flight-booking")["fields"][:-1]}
    collection_update(actor=ACTOR, collection=collection, changes={"schema": v2})
    CollectionFactory(org=collection.org, source=collection.source)
    assert [(v.version, v.schema) for v in schema_version_list(collection=collection)] == [
        (1, schema("flight-booking")), (2, v2)]
    assert schema_version_get(collection=collection, version=2).schema == v2
    assert schema_version_get(collection=collection, version=3) is None


def test_identifiers_are_listed_per_org_and_per_collection():
    first = IdentifierFactory()
    org = first.collection.org
    other = CollectionFactory(org=org, source=first.collection.source)
    second = IdentifierFactory(collection=other)
    IdentifierFactory()  # another org's
    assert list(identifier_list(org=org)) == [first, second]
    assert list(identifier_list(org=org, collection=other)) == [second]


def test_an_identifier_is_found_by_id_in_its_org_only():
    identifier = IdentifierFactory()
    org = identifier.collection.org
    found = identifier_get(org=org, identifier_id=str(identifier.id))
    assert found == identifier and found.collection == identifier.collection
    assert identifier_get(org=org, identifier_id=identifier.id) == identifier
    assert identifier_get(org=OrgFactory(), identifier_id=identifier.id) is None
    assert identifier_get(org=org, identifier_id=identifier.name) is None
    assert identifier_get(org=org, identifier_id="0") is None


def test_relations_are_seen_from_both_collections_they_join():
    people = CollectionFactory(name="people")
    org, source = people.org, people.source
    primary = IdentifierFactory(collection=people)
    bookings = CollectionFactory(org=org, source=source, name="bookings")
    IdentifierFactory(collection=bookings)
    booker = IdentifierFactory(collection=bookings, type=Identifier.Type.FOREIGN,
                               reference=primary, key_fields=("visitorId",))
    unrelated = CollectionFactory(org=org, source=source)
    referral = IdentifierFactory(collection=people, type=Identifier.Type.FOREIGN,
                                 reference=primary, key_fields=("visitorId",))
    other_org = IdentifierFactory()
    IdentifierFactory(collection=CollectionFactory(org=other_org.collection.org,
                                                   source=other_org.collection.source),
                      type=Identifier.Type.FOREIGN, reference=other_org)

    def seen(relations):
        return [(r.foreign, r.direction, r.primary) for r in relations]

    assert seen(relation_list(org=org)) == [
        (booker, "outgoing", primary), (referral, "outgoing", primary)]
    assert seen(relation_list(org=org, collection=bookings)) == [
        (booker, "outgoing", primary)]
    assert seen(relation_list(org=org, collection=people)) == [
        (booker, "incoming", primary), (referral, "outgoing", primary)]
    assert relation_list(org=org, collection=unrelated) == []
