"""Storing batches of records in PostgreSQL, in a rolled-back transaction: one row per key,
rejected records kept once, a record the database refuses set aside without losing the others,
and which database failures are worth a retry. Replacement across drains, in the order records
were received, is tested end to end in test_batches_store.py."""

from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from django.db import IntegrityError, OperationalError

from apps.core.ids import new_id
from apps.records.models import Record, RejectedRecord
from apps.records.services import (
    Batch,
    StoreResult,
    batches_store,
    failed_transiently,
    record_delete,
    rejected_update,
)
from tests.factories import CollectionFactory, RecordFactory, RejectedRecordFactory

pytestmark = pytest.mark.django_db

RECEIVED = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def batch(collection, *records, rejected=(), received=RECEIVED) -> Batch:
    """A batch of (key, data) records and (raw, errors) rejected ones."""
    return Batch(collection.org_id, collection.id, collection.schema_version,
                 received.isoformat(),
                 records=[[new_id(), key, {"eventId": key}, data] for key, data in records],
                 rejected=[[new_id(), raw, errors] for raw, errors in rejected])


def stored(collection) -> dict[str, dict]:
    return dict(Record.objects.filter(collection=collection).values_list("key", "data"))


def test_records_and_rejected_records_are_stored_as_given():
    collection = CollectionFactory()
    errors = [{"attr": "n", "code": "invalid_type", "detail": "Expected int at n, got str."}]
    given = batch(collection, ("e1", {"eventId": "e1", "n": 1}), ("e2", {"eventId": "e2"}),
                  rejected=[({"eventId": "e3", "n": "x"}, errors)])
    assert batches_store(batches=[given]) == StoreResult(stored=2, rejected=1)

    record = Record.objects.get(collection=collection, key="e1")
    assert (record.id, record.org_id, record.schema_version, record.identifiers, record.data,
            record.received_at) == (given.records[0][0], collection.org_id, 1,
                                    {"eventId": "e1"}, {"eventId": "e1", "n": 1}, RECEIVED)
    assert record.updated_at >= record.received_at
    rejected = RejectedRecord.objects.get(collection=collection)
    assert (rejected.id, rejected.org_id, rejected.schema_version, rejected.raw,
            rejected.errors, rejected.received_at) == (
        given.rejected[0][0], collection.org_id, 1, {"eventId": "e3", "n": "x"}, errors,
        RECEIVED)


def test_batches_of_several_collections_are_stored_at_once():
    one, other = CollectionFactory(), CollectionFactory()
    result = batches_store(batches=[batch(one, ("a", {"k": 1})), batch(other, ("a", {"k": 2}))])
    assert result == StoreResult(stored=2, rejected=0)
    assert (stored(one), stored(other)) == ({"a": {"k": 1}}, {"a": {"k": 2}})


def test_within_the_batches_a_later_record_of_a_key_replaces_an_earlier_one():
    collection = CollectionFactory()
    first = batch(collection, ("e1", {"v": 1}), ("e2", {"v": 1}), ("e1", {"v": 2}))
    second = batch(collection, ("e2", {"v": 3}), received=RECEIVED + timedelta(seconds=1))
    batches_store(batches=[first, second])
    assert stored(collection) == {"e1": {"v": 2}, "e2": {"v": 3}}
    assert Record.objects.get(collection=collection, key="e1").id == first.records[2][0]


def test_a_record_received_later_replaces_the_stored_one_of_its_key():
    collection = CollectionFactory()
    earlier = RecordFactory(collection=collection, key="e1", data={"v": "old"},
                            received_at=RECEIVED - timedelta(minutes=1))
    RecordFactory(collection=collection, key="e2", data={"v": "newer than the batch"},
                  received_at=RECEIVED + timedelta(minutes=1))
    batches_store(batches=[batch(collection, ("e1", {"v": "new"}), ("e2", {"v": "late"}))])
    assert stored(collection) == {"e1": {"v": "new"}, "e2": {"v": "newer than the batch"}}
    replaced = Record.objects.get(collection=collection, key="e1")
    assert (replaced.received_at, replaced.id) == (RECEIVED, earlier.id)  # its id is kept


def test_a_rejected_record_is_kept_once_however_often_it_is_stored():
    collection = CollectionFactory()
    given = batch(collection, rejected=[({"n": "x"}, [])])
    batches_store(batches=[given])
    batches_store(batches=[given])
    assert RejectedRecord.objects.filter(collection=collection).count() == 1


def test_a_record_the_database_refuses_is_rejected_and_the_others_stored():
    """PostgreSQL refuses a NUL in text: here in a key (ingestion refuses NULs earlier)."""
    collection = CollectionFactory()
    given = batch(collection, ("ok1", {"v": 1}), ("bad\x00key", {"v": "refused"}),
                  ("ok2", {"v": 2}), rejected=[({"n": "x"}, [])])
    assert batches_store(batches=[given]) == StoreResult(stored=2, rejected=2)
    assert stored(collection) == {"ok1": {"v": 1}, "ok2": {"v": 2}}
    refused = RejectedRecord.objects.get(id=given.records[1][0])
    assert (refused.raw, refused.org_id, refused.schema_version) == (
        {"v": "refused"}, collection.org_id, 1)
    assert [(e["attr"], e["code"]) for e in refused.errors] == [(None, "storage_failed")]
    assert refused.errors[0]["detail"].startswith("The database refused this record: ")
    assert RejectedRecord.objects.filter(collection=collection).count() == 2


@pytest.mark.parametrize("sqlstate", [
    "08006",  # connection failure
    "40001",  # serialization failure
    "40P01",  # deadlock
    "53300",  # too many connections
    "55P03",  # lock not available (lock_timeout)
    "57014",  # query canceled (statement_timeout)
    "57P01",  # admin shutdown
    "58030",  # io error
    "25006",  # read-only transaction: a standby in a failover
    "25P03",  # idle in transaction timeout
])
def test_the_database_failing_for_itself_is_transient(sqlstate):
    error = psycopg.errors.lookup(sqlstate)()
    assert failed_transiently(error)
    wrapped = OperationalError("wrapped by Django")
    wrapped.__cause__ = error
    assert failed_transiently(wrapped)


@pytest.mark.parametrize("sqlstate", [
    "23505",  # unique violation
    "22P05",  # untranslatable character (a NUL in jsonb)
    "22003",  # numeric value out of range
    "42P01",  # undefined table
    "21000",  # cardinality violation
])
def test_the_database_refusing_the_data_is_not_transient(sqlstate):
    error = psycopg.errors.lookup(sqlstate)()
    assert not failed_transiently(error)
    wrapped = IntegrityError("wrapped by Django")
    wrapped.__cause__ = error
    assert not failed_transiently(wrapped)


def test_a_connection_lost_without_a_state_is_transient_and_other_errors_are_not():
    assert failed_transiently(OperationalError("server closed the connection unexpectedly"))
    assert failed_transiently(psycopg.OperationalError("connection lost"))
    assert failed_transiently(psycopg.InterfaceError("the connection is closed"))
    assert not failed_transiently(IntegrityError("duplicate key"))
    assert not failed_transiently(ValueError("not a database error"))


def test_record_delete_deletes_that_record_only():
    record = RecordFactory()
    kept = RecordFactory(collection=record.collection)
    record_delete(record=record)
    assert list(Record.objects.filter(collection=record.collection)) == [kept]


def test_rejected_update_keeps_the_new_errors_and_schema_version():
    rejected = RejectedRecordFactory()
    other = RejectedRecordFactory(collection=rejected.collection)
    errors = [{"attr": "bookingDate", "code": "invalid_date", "detail": "still wrong"}]
    rejected_update(rejected=rejected, errors=errors, schema_version=2)
    stored_row = RejectedRecord.objects.get(id=rejected.id)
    assert (stored_row.errors, stored_row.schema_version) == (errors, 2)
    assert RejectedRecord.objects.get(id=other.id).errors == other.errors
