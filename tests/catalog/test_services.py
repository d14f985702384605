"""Writes of the catalog, in a rolled-back transaction: collections and their numbered schema
versions, identifiers that fit their collection, and what may not be deleted. A refused write
leaves nothing behind."""

from typing import Any

import pytest

from apps.catalog.builtins import builtin_collections_ensure
from apps.catalog.compatibility import IncompatibleSchema, fingerprint
from apps.catalog.models import Collection, Identifier, SchemaVersion
from apps.catalog.services import (
    collection_create,
    collection_delete,
    collection_update,
    identifier_create,
    identifier_delete,
    schema_version_delete,
    schema_version_register,
)
from apps.core.exceptions import FieldProblem
from apps.orgs.services import org_update
from tests.factories import (
    CollectionFactory,
    IdentifierFactory,
    OrgFactory,
    RecordFactory,
    RejectedRecordFactory,
    SourceFactory,
    key_schema,
)
from tests.fixtures import ACTOR, schema
from tests.helpers import refused

pytestmark = pytest.mark.django_db


def versions(collection: Collection) -> list[tuple[int, dict[str, Any]]]:
    return list(SchemaVersion.objects.filter(collection=collection).order_by("version")
                .values_list("version", "schema"))


def with_field(avro: dict[str, Any], name: str, kind: Any, **more: Any) -> dict[str, Any]:
    return {**avro, "fields": [*avro["fields"], {"name": name, "type": kind, **more}]}


def with_optional(avro: dict[str, Any], name: str, kind: str) -> dict[str, Any]:
    """The schema with a new optional field: one that readers of it fill in (null) in
    records written without it, so the change keeps the mode BACKWARD."""
    return with_field(avro, name, ["null", kind], default=None)


PEOPLE = {"type": "record", "name": "person", "fields": [
    {"name": "personId", "type": "string"}, {"name": "seq", "type": "long"},
    {"name": "age", "type": "int"}, {"name": "score", "type": "double"},
    {"name": "nickname", "type": ["null", "string"], "default": None},
]}


# ---------------------------------------------------------------------------
# Collections
# ---------------------------------------------------------------------------
def test_a_new_collection_has_schema_version_1():
    source = SourceFactory()
    collection = collection_create(actor=ACTOR, org=source.org, source=source, name="bookings",
                                   schema=schema("flight-booking"))
    stored = Collection.objects.get(id=collection.id)
    assert (stored.org, stored.source, stored.name, stored.schema, stored.schema_version,
            stored.event, stored.profile) == (source.org, source, "bookings",
                                              schema("flight-booking"), 1, True, False)
    assert versions(collection) == [(1, schema("flight-booking"))]


@pytest.mark.parametrize(("profile", "event", "kind"), [
    (None, None, (False, True)), (True, None, (True, False)), (None, False, (True, False)),
    (False, None, (False, True)), (None, True, (False, True)), (True, False, (True, False)),
    (False, True, (False, True)),
])
def test_a_collection_is_either_of_events_or_of_profiles(profile, event, kind):
    source = SourceFactory()
    collection = collection_create(actor=ACTOR, org=source.org, source=source, name="c",
                                   profile=profile,
                                   event=event, schema=schema("flight-booking"))
    stored = Collection.objects.get(id=collection.id)
    assert (stored.profile, stored.event) == kind


@pytest.mark.parametrize(("profile", "event"), [(True, True), (False, False)])
def test_a_collection_both_or_neither_is_refused(profile, event):
    source = SourceFactory()
    with refused("invalid_kind"):
        collection_create(actor=ACTOR, org=source.org, source=source, name="c", profile=profile,
                          event=event, schema=schema("flight-booking"))
    assert not Collection.objects.filter(org=source.org).exists()


def test_a_collection_with_an_invalid_schema_is_not_made():
    source = SourceFactory()
    broken = with_field(schema("flight-booking"), "when", "timestamp")
    with refused("invalid_schema"):
        collection_create(actor=ACTOR, org=source.org, source=source, name="c", schema=broken)
    assert not Collection.objects.filter(org=source.org).exists()
    assert not SchemaVersion.objects.filter(collection__org=source.org).exists()


def test_a_collection_name_is_taken_once_per_org():
    first = CollectionFactory(name="bookings")
    with refused("duplicate_name"):
        collection_create(actor=ACTOR, org=first.org, source=first.source, name="bookings",
                          schema=PEOPLE)
    assert list(Collection.objects.filter(org=first.org)) == [first]
    assert versions(first) == [(1, schema("flight-booking"))]
    elsewhere = CollectionFactory(name="bookings")
    assert elsewhere.org != first.org


def test_a_changed_schema_becomes_the_next_version():
    collection = CollectionFactory()
    v2 = with_optional(schema("flight-booking"), "seats", "int")
    v3 = with_optional(v2, "price", "double")
    collection_update(actor=ACTOR, collection=collection, changes={"schema": v2})
    collection_update(actor=ACTOR, collection=collection, changes={"schema": v3})
    stored = Collection.objects.get(id=collection.id)
    assert (stored.schema, stored.schema_version) == (v3, 3)
    assert versions(collection) == [(1, schema("flight-booking")), (2, v2), (3, v3)]


def test_the_same_schema_again_is_no_new_version():
    collection = CollectionFactory()
    collection_update(actor=ACTOR, collection=collection,
                      changes={"schema": schema("flight-booking"),
                                                      "name": "renamed"})
    stored = Collection.objects.get(id=collection.id)
    assert (stored.name, stored.schema_version) == ("renamed", 1)
    assert len(versions(collection)) == 1


def test_update_moves_renames_and_changes_the_kind():
    collection = CollectionFactory()
    other_source = SourceFactory(org=collection.org)
    collection_update(actor=ACTOR, collection=collection, changes={
        "name": "people", "source": other_source, "profile": True})
    stored = Collection.objects.get(id=collection.id)
    assert (stored.name, stored.source, stored.profile, stored.event) == (
        "people", other_source, True, False)


def test_an_invalid_new_schema_changes_nothing():
    collection = CollectionFactory(name="bookings")
    with refused("invalid_schema"):
        collection_update(actor=ACTOR, collection=collection, changes={
            "schema": with_field(schema("flight-booking"), "x", "nope"), "name": "renamed"})
    stored = Collection.objects.get(id=collection.id)
    assert (stored.name, stored.schema, stored.schema_version) == (
        "bookings", schema("flight-booking"), 1)
    assert len(versions(collection)) == 1


def test_a_rename_onto_a_taken_name_changes_nothing():
    taken = CollectionFactory(name="taken")
    collection = CollectionFactory(org=taken.org, source=taken.source, name="mine")
    v2 = with_optional(schema("flight-booking"), "seats", "int")
    with refused("duplicate_name"):
        collection_update(actor=ACTOR, collection=collection, changes={"name": "taken",
                          "schema": v2})
    stored = Collection.objects.get(id=collection.id)
    assert (stored.name, stored.schema_version) == ("mine", 1)
    assert len(versions(collection)) == 1


def test_a_new_schema_must_keep_the_identifiers_fields_with_their_types():
    identifier = IdentifierFactory(key_fields=("eventId",))
    collection = identifier.collection
    without = {**schema("flight-booking"), "fields": [
        f for f in schema("flight-booking")["fields"] if f["name"] != "eventId"]}
    retyped = {**schema("flight-booking"), "fields": [
        {**f, "type": "long"} if f["name"] == "eventId" else f
        for f in schema("flight-booking")["fields"]]}
    for changed in (without, retyped):
        with refused("identifier_field_removed"):
            collection_update(actor=ACTOR, collection=Collection.objects.get(id=collection.id),
                              changes={"schema": changed})
    assert Collection.objects.get(id=collection.id).schema_version == 1
    assert len(versions(collection)) == 1

    kept = with_optional(schema("flight-booking"), "seats", "int")
    collection_update(actor=ACTOR, collection=Collection.objects.get(id=collection.id),
                      changes={"schema": kept})
    assert Collection.objects.get(id=collection.id).schema_version == 2


def test_a_primary_identifiers_field_stays_required():
    identifier = IdentifierFactory(key_fields=("eventId",))
    optional = {**schema("flight-booking"), "fields": [
        {**f, "type": ["null", "string"]} if f["name"] == "eventId" else f
        for f in schema("flight-booking")["fields"]]}
    with refused("optional_key"):
        collection_update(actor=ACTOR, collection=identifier.collection,
                          changes={"schema": optional})
    assert Collection.objects.get(id=identifier.collection_id).schema_version == 1


def test_delete_removes_the_collection_its_versions_and_identifiers():
    identifier = IdentifierFactory()
    collection = identifier.collection
    collection_update(actor=ACTOR, collection=collection, changes={
        "schema": with_optional(schema("flight-booking"), "seats", "int")})
    other = CollectionFactory(org=collection.org, source=collection.source)
    collection_delete(actor=ACTOR, collection=collection)
    assert list(Collection.objects.filter(org=collection.org)) == [other]
    assert not SchemaVersion.objects.filter(collection_id=collection.id).exists()
    assert not Identifier.objects.filter(id=identifier.id).exists()


def test_a_collection_another_ones_foreign_identifier_points_at_is_kept():
    primary = IdentifierFactory()
    pointing = CollectionFactory(org=primary.collection.org, source=primary.collection.source)
    foreign = IdentifierFactory(collection=pointing, type=Identifier.Type.FOREIGN,
                                reference=primary)
    with refused("collection_referenced"):
        collection_delete(actor=ACTOR, collection=primary.collection)
    assert Collection.objects.filter(id=primary.collection_id).exists()
    assert Identifier.objects.filter(id__in=[primary.id, foreign.id]).count() == 2


def test_a_collection_whose_foreign_identifier_points_at_itself_is_deleted():
    primary = IdentifierFactory()
    collection = primary.collection
    IdentifierFactory(collection=collection, type=Identifier.Type.FOREIGN, reference=primary,
                      key_fields=("visitorId",))
    collection_delete(actor=ACTOR, collection=collection)
    assert not Collection.objects.filter(id=collection.id).exists()
    assert not Identifier.objects.filter(collection_id=collection.id).exists()


def test_a_built_in_collection_is_kept():
    org = OrgFactory()
    made = builtin_collections_ensure(actor=ACTOR, org=org)
    for name in ("events", "accounts"):
        with refused("builtin_collection"):
            collection_delete(actor=ACTOR, collection=made[name])
    assert Collection.objects.filter(org=org).count() == 5


# ---------------------------------------------------------------------------
# Compatibility modes and registered versions
# ---------------------------------------------------------------------------
REQUIRED_SEATS = with_field(schema("flight-booking"), "seats", "int")
WITHOUT_STATUS = {**schema("flight-booking"), "fields": [
    f for f in schema("flight-booking")["fields"] if f["name"] != "bookingStatus"]}


def current(collection: Collection) -> int:
    return Collection.objects.get(id=collection.id).schema_version


def test_by_default_a_schema_that_cannot_read_the_latest_versions_records_is_refused():
    collection = CollectionFactory(name="bookings")
    with pytest.raises(IncompatibleSchema) as refused_change:
        collection_update(actor=ACTOR, collection=collection, changes={"schema": REQUIRED_SEATS,
                                                          "name": "renamed"})
    assert [(i.found.path, i.found.kind, i.version, i.direction)
            for i in refused_change.value.incompatibilities] == [
        ("schema.fields[6]", "reader_field_missing_default_value", 1, "backward")]
    stored = Collection.objects.get(id=collection.id)
    assert (stored.name, stored.schema_version, len(versions(collection))) == ("bookings", 1, 1)


@pytest.mark.parametrize(("mode", "change", "taken"), [
    ("NONE", REQUIRED_SEATS, True), ("NONE", WITHOUT_STATUS, True),
    ("BACKWARD", REQUIRED_SEATS, False), ("BACKWARD", WITHOUT_STATUS, True),
    ("FORWARD", REQUIRED_SEATS, True), ("FORWARD", WITHOUT_STATUS, False),
    ("FULL", REQUIRED_SEATS, False), ("FULL", WITHOUT_STATUS, False),
    ("FULL", with_optional(schema("flight-booking"), "seats", "int"), True),
])
def test_the_collections_mode_decides(mode, change, taken):
    collection = CollectionFactory(compatibility=mode)
    if taken:
        collection_update(actor=ACTOR, collection=collection, changes={"schema": change})
    else:
        with refused("incompatible_schema"):
            collection_update(actor=ACTOR, collection=collection, changes={"schema": change})
    assert current(collection) == (2 if taken else 1)


def test_a_collection_without_a_mode_follows_its_orgs_default():
    collection = CollectionFactory()
    org_update(actor=ACTOR, org=collection.org, changes={"compatibility": "FORWARD"})
    collection = Collection.objects.get(id=collection.id)
    collection_update(actor=ACTOR, collection=collection, changes={"schema": REQUIRED_SEATS})
    assert current(collection) == 2
    with refused("incompatible_schema"):  # its own mode counts in the same change
        collection_update(actor=ACTOR, collection=Collection.objects.get(id=collection.id),
                          changes={
            "compatibility": "BACKWARD", "schema": with_field(REQUIRED_SEATS, "row", "int")})
    assert Collection.objects.get(id=collection.id).compatibility is None


def test_transitive_modes_check_every_version():
    collection = CollectionFactory(compatibility="BACKWARD_TRANSITIVE")
    v2 = with_optional(schema("flight-booking"), "seats", "int")
    collection_update(actor=ACTOR, collection=collection, changes={"schema": v2})
    # seats stays, without its default: version 2's records have it, version 1's not
    v3 = with_field(schema("flight-booking"), "seats", ["null", "int"])
    with pytest.raises(IncompatibleSchema) as refused_change:
        collection_update(actor=ACTOR, collection=Collection.objects.get(id=collection.id),
                          changes={"schema": v3})
    assert [i.version for i in refused_change.value.incompatibilities] == [1]
    collection_update(actor=ACTOR, collection=Collection.objects.get(id=collection.id),
                      changes={"compatibility": "BACKWARD", "schema": v3})
    assert current(collection) == 3


def test_a_change_that_breaks_an_identifier_is_taken_under_none_with_a_warning():
    identifier = IdentifierFactory(key_fields=("eventId",))
    collection = identifier.collection
    with refused("identifier_field_removed"):  # even when the mode lets the change through
        collection_update(actor=ACTOR, collection=collection, changes={
            "compatibility": "FORWARD", "schema": {**schema("flight-booking"), "fields": [
                f for f in schema("flight-booking")["fields"] if f["name"] != "eventId"]}})
    retyped = {**schema("flight-booking"), "fields": [
        {**f, "type": "long"} if f["name"] == "eventId" else f
        for f in schema("flight-booking")["fields"]]}
    updated = collection_update(actor=ACTOR, collection=Collection.objects.get(id=collection.id),
                                changes={"compatibility": "NONE", "schema": retyped})
    assert updated.warnings == [FieldProblem(
        "schema", "identifier_field_removed", f"The field 'eventId' makes the identifier "
        f"{identifier.name!r}: keep it with its type, or delete the identifier first. Taken "
        "because the compatibility mode is NONE: records without these fields are rejected, "
        "and relations through the identifier break until you change or delete it.")]
    assert current(collection) == 2


def test_registering_answers_the_identical_version_or_makes_the_next_one():
    collection = CollectionFactory()
    same = schema_version_register(actor=ACTOR, collection=collection,
                                   schema=schema("flight-booking"))
    assert (same.version.version, same.created, same.warnings) == (1, False, [])
    v2 = with_optional(schema("flight-booking"), "seats", "int")
    registered = schema_version_register(actor=ACTOR, collection=collection, schema=v2)
    assert (registered.version.version, registered.created) == (2, True)
    assert (registered.version.schema, registered.version.fingerprint) == (v2, fingerprint(v2))
    stored = Collection.objects.get(id=collection.id)
    assert (stored.schema, stored.schema_version) == (v2, 2)
    # an earlier version registered again is that version; the current one stays
    again = schema_version_register(actor=ACTOR, collection=stored, schema=schema("flight-booking"))
    assert (again.version.version, again.created, current(collection)) == (1, False, 2)
    # the same canonical form with a doc is a version of its own: docs, defaults and
    # aliases are left out of the canonical form, but readers and people use them
    documented = {**v2, "doc": "bookings"}
    assert fingerprint(documented) == fingerprint(v2)
    assert schema_version_register(actor=ACTOR, collection=stored,
                                   schema=documented).version.version == 3


def test_a_version_is_deleted_unless_current_or_records_were_written_in_it():
    collection = CollectionFactory()
    for index in range(3):
        collection_update(actor=ACTOR, collection=Collection.objects.get(id=collection.id),
                          changes={
            "schema": with_optional(versions(collection)[-1][1], f"extra{index}", "int")})
    collection = Collection.objects.get(id=collection.id)
    RecordFactory(collection=collection, schema_version=1)
    RejectedRecordFactory(collection=collection, schema_version=2)
    first, second, third, fourth = collection.versions.order_by("version")
    with refused("current_schema_version"):
        schema_version_delete(actor=ACTOR, version=fourth)
    with refused("schema_version_in_use"):
        schema_version_delete(actor=ACTOR, version=first)
    with refused("schema_version_in_use"):
        schema_version_delete(actor=ACTOR, version=second)
    schema_version_delete(actor=ACTOR, version=third)
    assert [v for v, _ in versions(collection)] == [1, 2, 4]
    nxt = schema_version_register(actor=ACTOR, collection=collection, schema=with_optional(
        fourth.schema, "more", "int"))
    assert nxt.version.version == 5


# ---------------------------------------------------------------------------
# Identifiers
# ---------------------------------------------------------------------------
def people(**fields: Any) -> Collection:
    return CollectionFactory(schema=PEOPLE, profile=True, event=False, **fields)


def test_a_primary_identifier_is_made_on_key_fields_of_the_same_types():
    collection = people()
    made = identifier_create(actor=ACTOR, collection=collection, type=Identifier.Type.PRIMARY,
                             name="person", schema=key_schema("person", [
                                 ("personId", "string"), ("seq", "long")]))
    stored = Identifier.objects.get(id=made.id)
    assert (stored.org_id, stored.collection, stored.type, stored.name, stored.reference) == (
        collection.org_id, collection, "primary", "person", None)
    assert stored.schema == key_schema("person", [("personId", "string"), ("seq", "long")])
    assert stored.field_names == ["personId", "seq"]


@pytest.mark.parametrize(("fields", "code"), [
    ([("nobody", "string")], "unknown_field"),
    ([("score", "double")], "not_a_key_field"),
    ([("nickname", "string"), ("score", "double")], "not_a_key_field"),
    ([("age", "long")], "type_mismatch"),
    ([("personId", "int")], "type_mismatch"),
    ([], "required"),
    ([("personId", ["null", "string"])], "optional_key"),
    ([("nickname", "string")], "optional_key"),
])
def test_an_identifier_that_does_not_fit_its_collection_is_not_made(fields, code):
    collection = people()
    with refused(code):
        identifier_create(actor=ACTOR, collection=collection, type=Identifier.Type.PRIMARY,
                          name="person",
                          schema=key_schema("person", fields))
    assert not Identifier.objects.filter(collection=collection).exists()


def test_an_identifier_with_an_invalid_schema_is_not_made():
    collection = people()
    with refused("invalid_schema"):
        identifier_create(actor=ACTOR, collection=collection, type=Identifier.Type.PRIMARY,
                          name="person",
                          schema=key_schema("person", [("personId", "text")]))
    assert not Identifier.objects.filter(collection=collection).exists()


def test_a_collection_has_one_primary_identifier():
    first = IdentifierFactory(collection=people(), key_fields=("personId",))
    with refused("primary_identifier_exists"):
        IdentifierFactory(collection=first.collection, key_fields=("seq",))
    assert list(Identifier.objects.filter(collection=first.collection)) == [first]


def test_identifier_names_are_taken_once_per_collection():
    first = IdentifierFactory(collection=people(), name="person", key_fields=("personId",))
    with refused("duplicate_name"):
        IdentifierFactory(collection=first.collection, name="person",
                          type=Identifier.Type.FOREIGN, reference=first,
                          key_fields=("personId",))
    assert list(Identifier.objects.filter(collection=first.collection)) == [first]
    elsewhere = IdentifierFactory(collection=people(org=first.collection.org,
                                                    source=first.collection.source),
                                  name="person", key_fields=("personId",))
    assert elsewhere.name == first.name


def test_a_foreign_identifier_points_at_a_primary_one_with_the_same_key_types():
    primary = IdentifierFactory(collection=people(), key_fields=("personId",))
    bookings = CollectionFactory(org=primary.collection.org, source=primary.collection.source)
    foreign = identifier_create(actor=ACTOR, collection=bookings, type=Identifier.Type.FOREIGN,
                                name="booker", reference=primary,
                                schema=key_schema("booker", [("visitorId", "string")]))
    stored = Identifier.objects.get(id=foreign.id)
    assert (stored.type, stored.reference, stored.field_names) == (
        "foreign", primary, ["visitorId"])


def test_a_foreign_identifier_may_be_optional():
    primary = IdentifierFactory(collection=people(), key_fields=("personId",))
    other = people(org=primary.collection.org, source=primary.collection.source)
    foreign = identifier_create(actor=ACTOR, collection=other, type=Identifier.Type.FOREIGN,
                                name="alias",
                                reference=primary,
                                schema=key_schema("alias", [("nickname", ["null", "string"])]))
    assert Identifier.objects.get(id=foreign.id).reference == primary


def test_a_primary_identifier_keeps_no_reference():
    primary = IdentifierFactory(collection=people(), key_fields=("personId",))
    other = IdentifierFactory(collection=CollectionFactory(
        org=primary.collection.org, source=primary.collection.source), reference=primary)
    assert Identifier.objects.get(id=other.id).reference is None


@pytest.mark.parametrize(("reference", "fields", "code"), [
    (None, [("visitorId", "string")], "required"),
    ("foreign", [("visitorId", "string")], "not_primary"),
    ("primary", [("visitorId", "string"), ("bookingId", "string")], "type_mismatch"),
])
def test_a_foreign_identifier_needs_a_primary_one_whose_keys_match(reference, fields, code):
    primary = IdentifierFactory(collection=people(), key_fields=("personId",))
    org, source = primary.collection.org, primary.collection.source
    foreign = IdentifierFactory(collection=people(org=org, source=source),
                                type=Identifier.Type.FOREIGN, reference=primary,
                                key_fields=("personId",))
    bookings = CollectionFactory(org=org, source=source)
    target = {"primary": primary, "foreign": foreign, None: None}[reference]
    with refused(code):
        identifier_create(actor=ACTOR, collection=bookings, type=Identifier.Type.FOREIGN,
                          name="booker",
                          reference=target, schema=key_schema("booker", fields))
    assert not Identifier.objects.filter(collection=bookings).exists()


def test_a_foreign_identifiers_key_types_must_match_in_order():
    primary = IdentifierFactory(collection=people(), key_fields=("personId", "seq"))
    other = people(org=primary.collection.org, source=primary.collection.source)
    with refused("type_mismatch"):
        identifier_create(actor=ACTOR, collection=other, type=Identifier.Type.FOREIGN,
                          name="swapped",
                          reference=primary,
                          schema=key_schema("swapped", [("seq", "long"), ("personId", "string")]))
    made = identifier_create(actor=ACTOR, collection=other, type=Identifier.Type.FOREIGN,
                             name="same",
                             reference=primary,
                             schema=key_schema("same", [("nickname", "string"), ("seq", "long")]))
    assert made.reference == primary


def test_identifier_delete_removes_an_identifier_no_one_points_at():
    primary = IdentifierFactory()
    other = CollectionFactory(org=primary.collection.org, source=primary.collection.source)
    foreign = IdentifierFactory(collection=other, type=Identifier.Type.FOREIGN,
                                reference=primary)
    identifier_delete(actor=ACTOR, identifier=foreign)
    identifier_delete(actor=ACTOR, identifier=primary)
    assert not Identifier.objects.filter(id__in=[primary.id, foreign.id]).exists()


def test_a_primary_identifier_a_foreign_one_points_at_is_kept():
    primary = IdentifierFactory()
    other = CollectionFactory(org=primary.collection.org, source=primary.collection.source)
    foreign = IdentifierFactory(collection=other, type=Identifier.Type.FOREIGN,
                                reference=primary)
    with refused("identifier_referenced"):
        identifier_delete(actor=ACTOR, identifier=primary)
    assert Identifier.objects.filter(id__in=[primary.id, foreign.id]).count() == 2
