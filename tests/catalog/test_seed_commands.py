"""The tracker document's three curl commands, sent as curl sends them (its default form
content type with a JSON body), answer with the documented shape."""

import json

from tests.helpers import CURL_FORM, create_collection, create_source

SEED_COLLECTION = """{
"sourceId": "%s",
"name": "flight-booking",
"profile": false,
"event": true,
"schema": {
"type": "record",
"name": "flight_booking_schema",
"namespace": "com.intempt.data.source.web",
"fields": [
{
"name": "eventId",
"type": "string"
},
{
"name": "visitorId",
"type": "string"
},
  {
"name": "bookingId",
"type": "string",
"display": true,
"title": "Booking ID"
},
{
"name": "flightId",
"type": "string",
"display": true,
"title": "Flight ID"
},
  {
"name": "bookingStatus",
"type": "string",
"display": true,
"title": "Booking Status"
},
  {
 "name": "bookingDate",
  "type": {
     "type": "string",
     "logicalType": "date"
          },
"display": true,
"title": "Booking Date"
}
]
}
}"""

SEED_PRIMARY = """{
"collId": "%s",
"type": "primary",
"name": "profileId",
"schema": {
"type": "record",
"name": "profileId",
"namespace": "com.intempt.data.source.web",
"fields": [
  {
"name": "eventId",
"type": "string"
}
]
}
}"""

SEED_FOREIGN = """{
"collId": "%s",
"type": "foreign",
"name": "foreignId",
"referenceId": %s, 
"schema": {
"type": "record",
"name": "foreignId",
"namespace": "com.intempt.data.source.web",
"fields": [
  {
"name": "eventId",
"type": "string"
}
]
}
}"""


def test_the_three_seed_commands_answer_the_documented_shape(api):
    source = create_source(api, "mywebsource", title="myWebSource")
    base = f"{api.root}/v1/{api.org.slug}"

    created = api.post("/collections", content=SEED_COLLECTION % source["id"], headers=CURL_FORM)
    assert created.status_code == 201, created.text
    collection = created.json()
    coll_id = collection["id"]
    assert coll_id.isdigit()
    assert collection == {
        "id": coll_id, "sourceId": source["id"], "sourceName": "mywebsource",
        "sourceTitle": "myWebSource", "name": "flight-booking", "profile": False, "event": True,
        "schema": json.loads(SEED_COLLECTION % source["id"])["schema"], "schemaVersion": 1,
        "compatibility": None, "rejectedDropped": 0,
        "_links": {
            "self": {"href": f"{base}/collections/{coll_id}"},
            "source": {"href": f"{base}/sources/{source['id']}"},
            "data": {"href": f"{base}/collections/{coll_id}/data"},
            "identifiers": {"href": f"{base}/collections/{coll_id}/identifiers"},
            "relations": {"href": f"{base}/relations?collId={coll_id}"},
            "schemas": {"href": f"{base}/collections/{coll_id}/schemas"},
        },
    }
    assert collection["schema"]["fields"][2] == {
        "name": "bookingId", "type": "string", "display": True, "title": "Booking ID"}

    primary = api.post("/collections", content=SEED_PRIMARY % coll_id, headers=CURL_FORM)
    assert primary.status_code == 201, primary.text
    primary_id = primary.json()["id"]
    assert primary.json() == {
        "collId": coll_id, "id": primary_id, "type": "primary", "name": "profileId",
        "schema": json.loads(SEED_PRIMARY % coll_id)["schema"],
        "_links": {"self": {"href": f"{base}/identifiers/{primary_id}"},
                   "collection": {"href": f"{base}/collections/{coll_id}"}},
    }

    # The seed's foreign identifier points at a primary identifier of another collection.
    other = create_collection(api, source["id"], name="visitor-events")
    other_primary = api.post("/collections", content=SEED_PRIMARY % other["id"],
                             headers=CURL_FORM).json()
    foreign = api.post("/collections", content=SEED_FOREIGN % (coll_id, other_primary["id"]),
                       headers=CURL_FORM)
    assert foreign.status_code == 201, foreign.text
    foreign_id = foreign.json()["id"]
    assert foreign.json() == {
        "collId": coll_id, "id": foreign_id, "type": "foreign", "name": "foreignId",
        "schema": json.loads(SEED_FOREIGN % (coll_id, 1))["schema"],
        "referenceId": other_primary["id"],
        "_links": {"self": {"href": f"{base}/identifiers/{foreign_id}"},
                   "collection": {"href": f"{base}/collections/{coll_id}"},
                   "reference": {"href": f"{base}/identifiers/{other_primary['id']}"}},
    }
