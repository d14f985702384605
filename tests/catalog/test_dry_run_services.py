"""Dry runs of a schema change, in a rolled-back transaction: every mode's verdict at once,
records counted without a scan where Apache Avro's checker vouches for their version, read
one by one where it does not, and rejected records validated as ingestion would. The scan is
called here as the worker's task calls it."""

from typing import Any

import pytest

from apps.catalog.models import Collection, SchemaDryRun
from apps.catalog.services import (
    schema_dry_run_scan,
    schema_dry_run_start,
    schema_version_register,
)
from apps.catalog.services.dry_runs import EXAMPLES
from tests.factories import (
    CollectionFactory,
    IdentifierFactory,
    RecordFactory,
    RejectedRecordFactory,
)
from tests.fixtures import ACTOR, record, schema
from tests.helpers import refused

pytestmark = pytest.mark.django_db
MODES = ["NONE", "BACKWARD", "BACKWARD_TRANSITIVE", "FORWARD", "FORWARD_TRANSITIVE", "FULL",
         "FULL_TRANSITIVE"]


def bookings() -> Collection:
    """Flight bookings keyed by eventId, in versions 1 and 2 (fixtures/schemas)."""
    collection = CollectionFactory()
    IdentifierFactory(collection=collection)
    schema_version_register(actor=ACTOR, collection=collection, schema=schema("flight-booking-v2"))
    return collection


def with_fields(avro: dict[str, Any], *fields: dict[str, Any]) -> dict[str, Any]:
    return {**avro, "fields": [*avro["fields"], *fields]}


def scanned(dry_run: SchemaDryRun) -> SchemaDryRun:
    schema_dry_run_scan(dry_run_id=dry_run.id)
    dry_run.refresh_from_db()
    return dry_run


def test_a_compatible_change_counts_the_records_without_reading_them():
    collection = bookings()
    RecordFactory.create_batch(3, collection=collection, schema_version=1)
    RecordFactory(collection=collection)  # version 2
    proposed = with_fields(schema("flight-booking-v2"),
                           {"name": "cabin", "type": ["null", "string"], "default": None})
    started = schema_dry_run_start(collection=collection, schema=proposed)
    assert (started.status, started.to_scan, started.stored, started.would_register) == (
        "running", 0, 4, True)
    assert started.versions == [{"version": 1, "records": 3, "provenReadable": True},
                                {"version": 2, "records": 1, "provenReadable": True}]
    assert all(started.verdicts[mode] == {"compatible": True, "incompatibilities": []}
               for mode in MODES)
    done = scanned(started)
    assert (done.status, done.scanned, done.unreadable, done.error) == ("done", 0, 0, "")
    assert done.finished_at is not None
    assert collection.versions.count() == 2  # nothing registered


def test_every_modes_verdict_is_given_and_each_record_of_an_unproven_version_is_read():
    collection = bookings()
    RecordFactory.create_batch(2, collection=collection, schema_version=1)
    proposed = with_fields(schema("flight-booking-v2"), {"name": "cabin", "type": "string"})
    dry_run = schema_dry_run_start(collection=collection, schema=proposed)
    assert {mode: verdict["compatible"] for mode, verdict in dry_run.verdicts.items()} == {
        "NONE": True, "BACKWARD": False, "BACKWARD_TRANSITIVE": False, "FORWARD": True,
        "FORWARD_TRANSITIVE": True, "FULL": False, "FULL_TRANSITIVE": False}
    assert [(i["version"], i["path"], i["kind"]) for i in
            dry_run.verdicts["BACKWARD_TRANSITIVE"]["incompatibilities"]] == [
        (2, "schema.fields[8]", "reader_field_missing_default_value"),
        (1, "schema.fields[8]", "reader_field_missing_default_value")]
    assert (dry_run.compatibility, dry_run.would_register, dry_run.to_scan) == (
        "BACKWARD", False, 2)
    done = scanned(dry_run)
    assert (done.scanned, done.unreadable) == (2, 2)
    assert done.unreadable_examples[0]["reason"] == (
        "No default value for field cabin in com.intempt.data.source.web.flight_booking_schema")


def test_records_are_read_one_by_one_and_a_few_kept_as_examples():
    """A union that loses its string branch: records holding a string in it cannot be read,
    those holding null can."""
    seat = {"name": "seat", "type": ["null", "string"], "default": None}
    collection = CollectionFactory(schema=with_fields(schema("flight-booking"), seat))
    proposed = with_fields(schema("flight-booking"), {**seat, "type": ["null", "long"]})
    RecordFactory.create_batch(3, collection=collection, schema_version=1)
    seated = [RecordFactory(collection=collection, schema_version=1,
                            data={**record("flight-booking"), "seat": "12A"})
              for _ in range(EXAMPLES + 1)]
    done = scanned(schema_dry_run_start(collection=collection, schema=proposed))
    assert (done.status, done.to_scan, done.scanned, done.unreadable) == (
        "done", EXAMPLES + 4, EXAMPLES + 4, EXAMPLES + 1)
    assert done.unreadable_examples == [
        {"id": str(record.id), "schemaVersion": 1, "reason": "schema mismatch: "
         "['null', 'string'] not found in ['null', 'long']"} for record in seated[:EXAMPLES]]


def test_rejected_records_the_new_schema_would_accept_are_counted():
    collection = bookings()
    soon = RejectedRecordFactory(collection=collection)  # refused for its bookingDate "soon"
    RejectedRecordFactory(collection=collection, raw={"eventId": "e1"})  # no fields at all
    plain_date = {**schema("flight-booking-v2"), "fields": [
        {**field, "type": "string"} if field["name"] == "bookingDate" else field
        for field in schema("flight-booking-v2")["fields"]]}
    dry_run = schema_dry_run_start(collection=collection, schema=plain_date)
    assert (dry_run.rejected, dry_run.to_scan) == (2, 2)
    done = scanned(dry_run)
    assert (done.status, done.scanned, done.accepted) == ("done", 2, 1)
    assert done.accepted_examples == [{"id": str(soon.id), "schemaVersion": 2,
                                       "rejectedFor": soon.errors}]


def test_a_schema_registering_would_refuse_as_invalid_starts_nothing():
    collection = bookings()
    with refused("invalid_schema"):
        schema_dry_run_start(collection=collection, schema={"type": "record", "name": "x",
                                                            "fields": [{"name": "a"}]})
    assert not SchemaDryRun.objects.exists()


def test_the_identifiers_a_schema_breaks_are_named():
    collection = bookings()
    proposed = {**schema("flight-booking-v2"), "fields": [
        field for field in schema("flight-booking-v2")["fields"] if field["name"] != "eventId"]}
    dry_run = schema_dry_run_start(collection=collection, schema=proposed)
    assert [problem["code"] for problem in dry_run.identifiers] == ["identifier_field_removed"]
    assert dry_run.would_register is False


def test_without_a_primary_identifier_the_rejected_records_cannot_be_judged():
    collection = CollectionFactory()
    RejectedRecordFactory(collection=collection)
    done = scanned(schema_dry_run_start(collection=collection, schema=collection.schema))
    assert done.status == "failed"
    assert done.error.startswith(f"The collection {collection.name!r} has no primary identifier")


def test_a_collection_keeps_its_newest_dry_runs_only(monkeypatch):
    monkeypatch.setattr("apps.catalog.services.dry_runs.KEPT", 2)
    collection = bookings()
    started = [schema_dry_run_start(collection=collection, schema=collection.schema).id
               for _ in range(3)]
    assert list(collection.dry_runs.values_list("id", flat=True)) == started[:0:-1]


def test_a_finished_dry_run_is_not_scanned_again():
    collection = bookings()
    RecordFactory(collection=collection, schema_version=1)
    done = scanned(schema_dry_run_start(collection=collection,
                                        schema=schema("flight-booking-flight-number")))
    SchemaDryRun.objects.filter(id=done.id).update(unreadable=42)
    assert scanned(done).unreadable == 42
