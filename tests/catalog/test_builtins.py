"""The built-in collections every org has, made once with their identifiers."""

import json

import pytest

from apps.catalog.builtins import BUILTINS, SCHEMAS, builtin_collections_ensure
from apps.catalog.models import Collection, Identifier, SchemaVersion
from apps.sources.models import Source
from tests.factories import OrgFactory
from tests.fixtures import ACTOR

pytestmark = pytest.mark.django_db


def test_every_org_gets_the_built_in_collections_with_their_identifiers():
    org = OrgFactory()
    made = builtin_collections_ensure(actor=ACTOR, org=org)
    assert sorted(made) == ["accounts", "events", "pages", "products", "users"]
    source = Source.objects.get(org=org)
    assert (source.name, source.type) == ("builtin", "api")
    kinds = {c.name: (c.profile, c.event, c.source_id, c.schema_version)
             for c in Collection.objects.filter(org=org)}
    assert kinds == {
        "products": (True, False, source.id, 1), "accounts": (True, False, source.id, 1),
        "users": (True, False, source.id, 1), "events": (False, True, source.id, 1),
        "pages": (False, True, source.id, 1),
    }
    for builtin in BUILTINS:
        assert made[builtin.name].schema == json.loads(
            (SCHEMAS / f"{builtin.name}.avsc").read_text())
    identifiers = {(i.collection.name, i.name): (i.type, i.field_names, i.reference and (
        i.reference.collection.name, i.reference.name))
        for i in Identifier.objects.filter(org=org).select_related(
            "collection", "reference__collection")}
    assert identifiers == {
        ("products", "productId"): ("primary", ["productId"], None),
        ("accounts", "accountId"): ("primary", ["accountId"], None),
        ("accounts", "parentAccountId"): ("foreign", ["parentAccountId"],
                                          ("accounts", "accountId")),
        ("users", "userId"): ("primary", ["userId"], None),
        ("users", "accountId"): ("foreign", ["accountId"], ("accounts", "accountId")),
        ("events", "eventId"): ("primary", ["eventId"], None),
        ("events", "userId"): ("foreign", ["userId"], ("users", "userId")),
        ("events", "accountId"): ("foreign", ["accountId"], ("accounts", "accountId")),
        ("events", "productId"): ("foreign", ["productId"], ("products", "productId")),
        ("pages", "eventId"): ("primary", ["eventId"], None),
        ("pages", "userId"): ("foreign", ["userId"], ("users", "userId")),
        ("pages", "accountId"): ("foreign", ["accountId"], ("accounts", "accountId")),
    }


def test_ensuring_again_makes_nothing_new():
    org = OrgFactory()
    first = builtin_collections_ensure(actor=ACTOR, org=org)
    counts = (Collection.objects.filter(org=org).count(),
              Identifier.objects.filter(org=org).count(),
              SchemaVersion.objects.filter(collection__org=org).count())
    again = builtin_collections_ensure(actor=ACTOR, org=org)
    assert {name: c.id for name, c in again.items()} == {name: c.id for name, c in first.items()}
    assert (Collection.objects.filter(org=org).count(),
            Identifier.objects.filter(org=org).count(),
            SchemaVersion.objects.filter(collection__org=org).count()) == counts == (5, 12, 5)


def test_each_org_has_built_in_collections_of_its_own():
    one, other = OrgFactory(), OrgFactory()
    mine = builtin_collections_ensure(actor=ACTOR, org=one)
    theirs = builtin_collections_ensure(actor=ACTOR, org=other)
    assert {c.org_id for c in mine.values()} == {one.id}
    assert {c.org_id for c in theirs.values()} == {other.id}
    assert not {c.id for c in mine.values()} & {c.id for c in theirs.values()}


def test_ensuring_makes_the_built_in_collections_an_org_is_missing():
    org = OrgFactory()
    first = builtin_collections_ensure(actor=ACTOR, org=org)
    for name in ("pages", "events", "users"):
        first[name].delete()
    again = builtin_collections_ensure(actor=ACTOR, org=org)
    assert sorted(again) == ["accounts", "events", "pages", "products", "users"]
    assert {name: again[name].id for name in ("accounts", "products")} == {
        name: first[name].id for name in ("accounts", "products")}
    references = {(i.collection.name, i.name): i.reference.collection.name
                  for i in Identifier.objects.filter(org=org, type="foreign").select_related(
                      "collection", "reference__collection")}
    assert references == {
        ("accounts", "parentAccountId"): "accounts", ("users", "accountId"): "accounts",
        ("events", "userId"): "users", ("events", "accountId"): "accounts",
        ("events", "productId"): "products", ("pages", "userId"): "users",
        ("pages", "accountId"): "accounts",
    }
    assert Identifier.objects.filter(org=org).count() == 12


def test_built_ins_made_by_an_earlier_sluice_gain_the_fields_added_since():
    """An org's events made before context and the sender's times existed gets them in a new
    version on the next use, keeping a field of the org's own."""
    from apps.catalog.services import schema_version_register

    org = OrgFactory()
    events = builtin_collections_ensure(actor=ACTOR, org=org)["events"]
    shipped = [f["name"] for f in events.schema["fields"]]
    earlier = [f for f in events.schema["fields"] if f["name"] not in (
        "context", "integrations", "originalTimestamp", "sentAt", "receivedAt")]
    own = {"name": "plan", "type": ["null", "string"], "default": None}
    schema_version_register(actor=ACTOR, collection=events, schema={**events.schema,
                                                       "fields": [*earlier, own]})
    again = builtin_collections_ensure(actor=ACTOR, org=org)["events"]
    assert again.schema_version == 3
    assert [f["name"] for f in again.schema["fields"]] == [
        *(f["name"] for f in earlier), "plan",
        "originalTimestamp", "sentAt", "receivedAt", "context", "integrations"]
    assert set(shipped) < {f["name"] for f in again.schema["fields"]}
    builtin_collections_ensure(actor=ACTOR, org=org)
    assert Collection.objects.get(pk=events.pk).schema_version == 3  # nothing more to add
