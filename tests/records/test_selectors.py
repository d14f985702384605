"""Reads of records and rejected records: newest first, paged by cursor, bounded in time by
their time-ordered ids, and never another org's or collection's."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection

from apps.catalog.services import collection_update
from apps.core.ids import id_at
from apps.records.models import Record
from apps.records.selectors import (
    RecordQuery,
    identifier_is,
    record_get,
    record_page,
    records_in_version,
    records_stream,
    rejected_for_replay,
    rejected_get,
    rejected_page,
    related_page,
)
from tests.factories import CollectionFactory, RecordFactory, RejectedRecordFactory
from tests.fixtures import ACTOR, record, schema
from tests.helpers import refused

pytestmark = pytest.mark.django_db

START = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def made_at(moment: datetime, sequence: int = 0) -> int:
    """An id such as Sluice gives a record accepted at `moment`."""
    return id_at(int(moment.timestamp() * 1000)) + sequence


def keys(rows) -> list[str]:
    return [row.key for row in rows]


@pytest.fixture
def ten():
    """Ten records of one collection, one a minute from START (event-0 the oldest), and a
    record of another collection of the same org."""
    collection = CollectionFactory()
    for minute in range(10):
        RecordFactory(collection=collection, key=f"event-{minute}",
                      id=made_at(START + timedelta(minutes=minute)))
    RecordFactory(collection=CollectionFactory(org=collection.org, source=collection.source),
                  id=made_at(START + timedelta(minutes=5), 1))
    return collection


def test_records_are_read_newest_first_a_page_at_a_time(ten):
    page, cursor = record_page(collection=ten, query=RecordQuery(limit=4))
    assert keys(page) == ["event-9", "event-8", "event-7", "event-6"]
    assert cursor == page[-1].id
    page, cursor = record_page(collection=ten, query=RecordQuery(limit=4, before=cursor))
    assert keys(page) == ["event-5", "event-4", "event-3", "event-2"]
    page, cursor = record_page(collection=ten, query=RecordQuery(limit=4, before=cursor))
    assert (keys(page), cursor) == (["event-1", "event-0"], None)


def test_a_page_that_holds_the_rest_exactly_has_no_next(ten):
    page, cursor = record_page(collection=ten, query=RecordQuery(limit=10))
    assert (len(page), cursor) == (10, None)


def test_since_and_until_bound_when_records_were_accepted(ten):
    query = RecordQuery(since=START + timedelta(minutes=3), until=START + timedelta(minutes=5))
    page, _ = record_page(collection=ten, query=query)
    assert keys(page) == ["event-5", "event-4", "event-3"]
    page, _ = record_page(collection=ten, query=RecordQuery(
        since=START + timedelta(minutes=8, seconds=1)))
    assert keys(page) == ["event-9"]
    page, _ = record_page(collection=ten, query=RecordQuery(
        until=START + timedelta(seconds=59)))
    assert keys(page) == ["event-0"]


def test_equals_picks_records_by_top_level_field_values():
    collection = CollectionFactory()
    RecordFactory(collection=collection, key="a", data={"status": "booked", "seats": 2})
    RecordFactory(collection=collection, key="b", data={"status": "cancelled", "seats": 2})
    RecordFactory(collection=collection, key="c", data={"status": "booked", "seats": 3})
    RecordFactory(collection=CollectionFactory(), data={"status": "booked", "seats": 2})

    def matching(*equals):
        return sorted(keys(record_page(collection=collection,
                                       query=RecordQuery(equals=equals))[0]))

    assert matching(("status", "booked")) == ["a", "c"]
    assert matching(("status", "booked"), ("seats", 2)) == ["a"]
    assert matching(("seats", "2")) == []  # a string is not the number
    assert matching(("status", "lost")) == []


def test_a_record_is_found_in_its_collection_only():
    stored = RecordFactory()
    other = CollectionFactory(org=stored.org, source=stored.collection.source)
    assert record_get(collection=stored.collection, record_id=str(stored.id)) == stored
    assert record_get(collection=stored.collection, record_id=stored.id) == stored
    assert record_get(collection=other, record_id=stored.id) is None
    assert record_get(collection=stored.collection, record_id=stored.key) is None


def test_rejected_records_are_read_per_org_and_per_collection_newest_first():
    collection = CollectionFactory()
    other = CollectionFactory(org=collection.org, source=collection.source)
    oldest = RejectedRecordFactory(collection=collection, id=made_at(START))
    middle = RejectedRecordFactory(collection=other, id=made_at(START + timedelta(minutes=1)))
    newest = RejectedRecordFactory(collection=collection,
                                   id=made_at(START + timedelta(minutes=2)))
    RejectedRecordFactory(id=made_at(START + timedelta(minutes=1), 1))  # another org's
    org = collection.org
    assert rejected_page(org=org, collection=None, query=RecordQuery()) == (
        [newest, middle, oldest], None)
    assert rejected_page(org=org, collection=collection, query=RecordQuery()) == (
        [newest, oldest], None)
    assert rejected_page(org=org, collection=None, query=RecordQuery(limit=2)) == (
        [newest, middle], middle.id)
    assert rejected_page(org=org, collection=None, query=RecordQuery(
        limit=2, before=middle.id)) == ([oldest], None)
    assert rejected_page(org=org, collection=None, query=RecordQuery(
        since=START + timedelta(minutes=1))) == ([newest, middle], None)


def test_a_rejected_record_is_found_in_its_org_only():
    rejected = RejectedRecordFactory()
    stranger = RejectedRecordFactory().org
    assert rejected_get(org=rejected.org, rejected_id=str(rejected.id)) == rejected
    assert rejected_get(org=stranger, rejected_id=rejected.id) is None
    assert rejected_get(org=rejected.org, rejected_id="x") is None


def test_replay_takes_the_orgs_rejected_records_oldest_first():
    collection = CollectionFactory()
    other = CollectionFactory(org=collection.org, source=collection.source)
    first = RejectedRecordFactory(collection=collection, id=made_at(START))
    second = RejectedRecordFactory(collection=other, id=made_at(START, 1))
    third = RejectedRecordFactory(collection=collection, id=made_at(START, 2))
    strangers = RejectedRecordFactory(id=made_at(START, 3))
    org = collection.org
    assert list(rejected_for_replay(org=org, ids=None, collection=None)) == [
        first, second, third]
    assert list(rejected_for_replay(org=org, ids=None, collection=collection)) == [
        first, third]
    assert list(rejected_for_replay(org=org, ids=[third.id, strangers.id, second.id],
                                    collection=None)) == [second, third]
    assert list(rejected_for_replay(org=org, ids=[second.id], collection=collection)) == []


def test_identifier_is_matches_any_of_the_keys_of_one_identifier():
    collection = CollectionFactory()
    RecordFactory(collection=collection, key="a", identifiers={"userId": "u1", "accountId": "x"})
    RecordFactory(collection=collection, key="b", identifiers={"userId": "u2"})
    RecordFactory(collection=collection, key="c", identifiers={"accountId": "u1"})
    RecordFactory(collection=collection, key="d", identifiers={"userId": None})
    found = Record.objects.filter(collection=collection).filter(
        identifier_is("userId", ["u1", "u2", "u3"]))
    assert sorted(found.values_list("key", flat=True)) == ["a", "b"]
    assert not Record.objects.filter(identifier_is("userId", ["nobody"])).exists()


def test_related_records_point_at_the_keys_or_were_sent_by_merged_visitors():
    events = CollectionFactory()
    at = START
    for key, identifiers, visitor in [("e1", {"userId": "u1"}, "v9"), ("e2", {}, "v1"),
                                      ("e3", {"userId": "u2"}, "v2"), ("e4", {}, None),
                                      ("e5", {"userId": "u1"}, None)]:
        at += timedelta(minutes=1)
        RecordFactory(collection=events, key=key, identifiers=identifiers, id=made_at(at),
                      data={"eventId": key, "visitorId": visitor})
    RecordFactory(identifiers={"userId": "u1"})  # another collection's

    def related(visitor_ids, **query):
        page, cursor = related_page(collection=events, identifier="userId", keys=["u1"],
                                    visitor_ids=visitor_ids, query=RecordQuery(**query))
        return keys(page), cursor

    assert related([]) == (["e5", "e1"], None)
    assert related(["v1"]) == (["e5", "e2", "e1"], None)
    page, cursor = related(["v1"], limit=2)
    assert page == ["e5", "e2"]
    assert related(["v1"], limit=2, before=cursor) == (["e1"], None)


def open_cursors() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM pg_cursors")
        return [name for (name,) in cursor.fetchall()]


def test_a_stream_yields_every_record_once_oldest_first_through_a_server_side_cursor():
    collection = CollectionFactory()
    Record.objects.bulk_create([
        Record(id=made_at(START, n), org=collection.org, collection=collection, key=f"r{n}",
               schema_version=1, identifiers={}, received_at=START, updated_at=START,
               data={"n": n})
        for n in reversed(range(5000))])
    RecordFactory(collection=CollectionFactory(org=collection.org, source=collection.source))
    stream = records_stream(org=collection.org, collection=collection, chunk_size=500)
    first = next(stream)
    # the rows are fetched 500 at a time from a cursor PostgreSQL holds, not read all at once
    assert len(open_cursors()) == 1
    ids = [first.id, *(record.id for record in stream)]
    assert ids == [made_at(START, n) for n in range(5000)]
    assert open_cursors() == []


def test_a_stream_reads_only_its_orgs_records_in_the_querys_window(ten):
    stranger = CollectionFactory()
    query = RecordQuery(since=START + timedelta(minutes=3), until=START + timedelta(minutes=5))
    assert keys(records_stream(org=ten.org, collection=ten, query=query)) == [
        "event-3", "event-4", "event-5"]
    assert list(records_stream(org=stranger.org, collection=ten)) == []


@pytest.fixture
def bookings_in_two_versions():
    """Flight bookings, one written in version 1 and one in version 2 (seats and fare)."""
    collection = CollectionFactory()
    v1 = RecordFactory(collection=collection, key="v1")
    collection_update(actor=ACTOR, collection=collection,
                      changes={"schema": schema("flight-booking-v2")})
    v2 = RecordFactory(collection=collection, key="v2", data={
        **record("flight-booking"), "eventId": "v2", "seats": 3, "fare": 99.5})
    return collection, v1, v2


def test_records_read_in_a_version_are_resolved_from_their_own(bookings_in_two_versions):
    collection, v1, v2 = bookings_in_two_versions
    read = records_in_version(collection=collection, records=[v2, v1], version=2)
    assert read[0] is v2  # written in the version asked: as it is
    assert (read[1].id, read[1].schema_version, read[1].data) == (
        v1.id, 2, {**v1.data, "seats": 1, "fare": None})
    assert (v1.schema_version, Record.objects.get(id=v1.id).data) == (1, v1.data)  # unchanged
    [older] = records_in_version(collection=collection, records=[v2], version=1)
    assert (older.schema_version, older.data) == (1, {**record("flight-booking"),
                                                      "eventId": "v2"})


def test_a_version_the_collection_lacks_or_cannot_read_a_record_is_refused(
        bookings_in_two_versions):
    collection, v1, v2 = bookings_in_two_versions
    with refused("unknown_schema_version"):
        records_in_version(collection=collection, records=[], version=3)
    without_flight = schema("flight-booking-v2")
    without_flight["fields"] = [f for f in without_flight["fields"] if f["name"] != "flightId"]
    collection_update(actor=ACTOR, collection=collection, changes={"schema": without_flight})
    v3 = RecordFactory(collection=collection, key="v3", data={
        name: value for name, value in v2.data.items() if name != "flightId"})
    with refused("unreadable_in_version"):  # version 1 has no default for flightId
        records_in_version(collection=collection, records=[v1, v3], version=1)
    assert records_in_version(collection=collection, records=[v1, v3], version=3)[0].data == {
        name: value for name, value in v1.data.items() if name != "flightId"} | {
        "seats": 1, "fare": None}
