"""Storing batches in PostgreSQL: replacement by key follows the order records were received
in, whatever order the workers store them in."""

from datetime import UTC, datetime, timedelta

from apps.catalog.models import Collection
from apps.core.ids import new_id
from apps.records.models import Record
from apps.records.services import Batch, batches_store
from tests.helpers import flight_collection


def booking_batch(collection: "Collection", received: datetime, status: str) -> Batch:
    batch = Batch(collection.org_id, collection.id, 1, received.isoformat())
    batch.records.append([new_id(), "e1", {"profileId": "e1"},
                          {"eventId": "e1", "bookingStatus": status}])
    return batch


def test_a_record_received_earlier_does_not_replace_a_later_one_stored_before_it(api, orm):
    collection = Collection.objects.get(id=flight_collection(api))
    first = datetime.now(UTC)
    later = first + timedelta(milliseconds=5)
    batches_store(batches=[booking_batch(collection, later, "cancelled")])
    batches_store(batches=[booking_batch(collection, first, "booked")])  # a late drain
    assert Record.objects.get(collection=collection).data["bookingStatus"] == "cancelled"

    batches_store(batches=[booking_batch(collection, later + timedelta(seconds=1), "booked")])
    assert Record.objects.get(collection=collection).data["bookingStatus"] == "booked"
