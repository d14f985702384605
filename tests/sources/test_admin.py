"""A web source's admin page shows the snippet a page adds: the tracker from the host the
admin is served from, and a track call that the source's first collection takes."""

import html
import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from apps.catalog.avro import fields_of
from apps.catalog.models import Collection
from apps.ingestion.services import Outcome, collection_batch
from apps.sources.models import Source
from apps.tracker.mapping import Clock, tracker_record
from tests.factories import CollectionFactory, IdentifierFactory, SourceFactory
from tests.fixtures import schema

README = Path(__file__).resolve().parents[2] / "README.md"
TRACK_CALL = re.compile(r'window\._intempt\["(\w+)"\]\.track\(("[^"]*"),\s+(\{.*\})\);')
FLIGHT_BOOKING = ('{"bookingId": "1", "flightId": "1", "bookingStatus": "booked", '
                  '"bookingDate": "2020-05-25"}')


def source_page(admin_client: Any, source: Source) -> str:
    page = admin_client.get(f"/admin/sources/source/{source.pk}/change/")
    assert page.status_code == 200
    return html.unescape(page.content.decode())


def track_call(page: str) -> tuple[str, str, dict[str, Any]]:
    """The tracker id, collection and fields of the snippet's track call."""
    tracker, collection, fields = TRACK_CALL.search(page).groups()  # type: ignore[union-attr]
    return tracker, json.loads(collection), json.loads(fields)


def taken(collection: Collection, fields: dict[str, Any]) -> Outcome:
    """What ingestion makes of a track call's fields, as the tracker sends them: stamped with
    an eventId, a visitorId and the time."""
    item = {"eventId": "e1", "visitorId": "v1", "timestamp": "2020-05-25T14:30:00.000Z",
            "fields": fields}
    clock = Clock(datetime.now(UTC))
    record = tracker_record(item, fields_of(collection.schema), clock)
    outcome = Outcome()
    collection_batch(collection=collection, records=[record], outcome=outcome)
    return outcome


def web_collection(source: Source, avro: dict[str, Any], name: str) -> Collection:
    collection = CollectionFactory(org=source.org, source=source, name=name, schema=avro)
    IdentifierFactory(collection=collection)
    return collection


def test_the_snippet_loads_the_tracker_from_the_admin_s_own_host(admin_client, db, settings):
    source = SourceFactory(type=Source.Type.WEB)
    page = source_page(admin_client, source)
    assert '<script src="http://testserver/static/tracker/sluice.min.js"' in page
    assert f'data-org="{source.org.slug}" data-tracker-id="{source.tracker_id}"' in page
    assert "YOUR-SLUICE-HOST" not in page
    settings.ALLOWED_HOSTS = ["testserver", "sluice.example"]
    secure = admin_client.get(f"/admin/sources/source/{source.pk}/change/", secure=True,
                              HTTP_HOST="sluice.example")
    assert "https://sluice.example/static/tracker/sluice.min.js" in secure.content.decode()


def test_without_a_collection_the_call_is_the_readme_s_flight_booking(admin_client, db):
    source = SourceFactory(type=Source.Type.WEB)
    tracker, name, fields = track_call(source_page(admin_client, source))
    assert (tracker, name, fields) == (source.tracker_id, "flight-booking",
                                       json.loads(FLIGHT_BOOKING))
    assert FLIGHT_BOOKING in README.read_text()  # "Tracking a web page"
    outcome = taken(web_collection(source, schema("flight-booking"), name), fields)
    assert (outcome.accepted, outcome.rejected) == (1, [])


def test_the_call_names_the_first_collection_and_fills_what_its_schema_requires(
        admin_client, db):
    source = SourceFactory(type=Source.Type.WEB)
    first = web_collection(source, schema("flight-booking"), "bookings")
    CollectionFactory(org=source.org, source=source, name="later",
                      schema=schema("every-kind"))
    _, name, fields = track_call(source_page(admin_client, source))
    assert (name, fields) == ("bookings", {"bookingId": "…", "flightId": "…",
                                           "bookingStatus": "…", "bookingDate": "2020-05-25"})
    outcome = taken(first, fields)
    assert (outcome.accepted, outcome.rejected) == (1, [])


def test_the_call_takes_every_kind_of_field_the_schema_requires(admin_client, db):
    source = SourceFactory(type=Source.Type.WEB)
    every_kind = schema("every-kind")
    collection = web_collection(source, {**every_kind, "fields": [
        {"name": "eventId", "type": "string"}, {"name": "visitorId", "type": "string"},
        {"name": "timestamp", "type": {"type": "long", "logicalType": "timestamp-millis"}},
        *every_kind["fields"]]}, "everything")
    _, name, fields = track_call(source_page(admin_client, source))
    assert name == "everything"
    assert {"eventId", "visitorId", "timestamp"}.isdisjoint(fields)  # the tracker's own
    assert fields["status"] == "booked" and fields["day"] == "2020-05-25"
    outcome = taken(collection, fields)
    assert (outcome.accepted, outcome.rejected) == (1, [])


def test_a_source_without_a_tracker_says_so(admin_client, db):
    source = SourceFactory(type=Source.Type.SERVER)
    page = source_page(admin_client, source)
    assert "Only web sources have a tracker." in page
    assert "_intempt" not in page


def test_a_web_source_made_in_the_admin_shows_its_own_write_key_once(admin_client, db):
    from apps.orgs.models import ApiKey
    from tests.factories import OrgFactory

    org = OrgFactory()
    added = admin_client.post("/admin/sources/source/add/", {
        "org": org.id, "name": "shop", "title": "", "description": "", "type": "web",
        "allowed_origins": "[]"}, follow=True)
    message = [str(m) for m in added.context["messages"]][0]
    raw = message.split("write key is ")[1].split(" ")[0]
    source = Source.objects.get(org=org, name="shop")
    key = ApiKey.objects.get(source=source)
    assert source.tracker_id and raw.startswith(key.prefix) and key.kind == "write"
