"""Writes of sources, in a rolled-back transaction: a web source's tracker id, unique names
per org, and a source kept while collections use it."""

import re

import pytest

from apps.catalog.models import Collection
from apps.sources.models import Source
from apps.sources.services import source_create, source_delete, source_update
from tests.factories import CollectionFactory, OrgFactory, SourceFactory
from tests.fixtures import ACTOR
from tests.helpers import refused

pytestmark = pytest.mark.django_db

TRACKER_ID = re.compile(r"^[0-9a-f]{16}$")


def test_a_web_source_is_made_with_a_tracker_id_of_its_own():
    org = OrgFactory()
    one = source_create(actor=ACTOR, org=org, name="site", type=Source.Type.WEB, title="Site",
                        description="The shop", allowed_origins=["https://shop.example"])
    other = source_create(actor=ACTOR, org=org, name="blog", type=Source.Type.WEB)
    stored = Source.objects.get(id=one.id)
    assert (stored.org, stored.name, stored.type, stored.title, stored.description,
            stored.allowed_origins) == (org, "site", "web", "Site", "The shop",
                                        ["https://shop.example"])
    assert TRACKER_ID.match(stored.tracker_id)
    assert other.tracker_id != one.tracker_id


@pytest.mark.parametrize("kind", [Source.Type.SERVER, Source.Type.USAGE, Source.Type.API])
def test_other_sources_have_no_tracker_id(kind):
    source = source_create(actor=ACTOR, org=OrgFactory(), name="backend", type=kind)
    stored = Source.objects.get(id=source.id)
    assert (stored.tracker_id, stored.title, stored.description, stored.allowed_origins) == (
        None, "", "", [])


def test_a_name_is_taken_once_per_org():
    org, other_org = OrgFactory(), OrgFactory()
    first = source_create(actor=ACTOR, org=org, name="backend", type=Source.Type.SERVER)
    with refused("duplicate_name"):
        source_create(actor=ACTOR, org=org, name="backend", type=Source.Type.WEB, title="again")
    assert list(Source.objects.filter(org=org).values_list("id", "title")) == [(first.id, "")]
    elsewhere = source_create(actor=ACTOR, org=other_org, name="backend", type=Source.Type.SERVER)
    assert elsewhere.org == other_org


def test_update_applies_the_given_fields_only():
    source = SourceFactory(title="Old", description="kept", allowed_origins=["https://a.example"])
    updated = source_update(actor=ACTOR, source=source, changes={"title": "New", "name": "renamed"})
    stored = Source.objects.get(id=source.id)
    assert updated.id == source.id
    assert (stored.name, stored.title, stored.description, stored.allowed_origins) == (
        "renamed", "New", "kept", ["https://a.example"])


def test_a_source_becoming_a_web_source_gets_a_tracker_id_and_a_web_source_keeps_its_own():
    server = SourceFactory(type=Source.Type.SERVER)
    source_update(actor=ACTOR, source=server, changes={"type": Source.Type.WEB})
    tracker_id = Source.objects.get(id=server.id).tracker_id
    assert TRACKER_ID.match(tracker_id)

    web = SourceFactory(type=Source.Type.WEB)
    before = web.tracker_id
    source_update(actor=ACTOR, source=web, changes={"title": "renamed"})
    assert Source.objects.get(id=web.id).tracker_id == before


def test_a_rename_onto_a_taken_name_changes_nothing():
    org = OrgFactory()
    SourceFactory(org=org, name="taken")
    source = SourceFactory(org=org, name="mine", title="Mine")
    with refused("duplicate_name"):
        source_update(actor=ACTOR, source=source, changes={"name": "taken", "title": "Changed"})
    stored = Source.objects.get(id=source.id)
    assert (stored.name, stored.title) == ("mine", "Mine")


def test_delete_removes_an_unused_source():
    source = SourceFactory()
    kept = SourceFactory(org=source.org)
    source_delete(actor=ACTOR, source=source)
    assert list(Source.objects.filter(org=source.org)) == [kept]


def test_a_source_with_collections_is_kept():
    collection = CollectionFactory()
    with refused("source_in_use"):
        source_delete(actor=ACTOR, source=collection.source)
    assert Source.objects.filter(id=collection.source_id).exists()
    assert Collection.objects.filter(id=collection.id).exists()


def test_a_source_is_named_by_its_org_slug_and_its_name():
    source = SourceFactory(name="shop")
    assert str(source) == f"{source.org.slug}/shop"
