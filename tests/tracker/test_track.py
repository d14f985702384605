"""POST /v1/<org>/track: the browser tracker's batches, through a live server and worker."""

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from apps.records.models import Record, RejectedRecord
from apps.tracker import services
from tests.helpers import (
    NOT_AUTHENTICATED,
    NOT_FOUND,
    create_collection,
    hal_links,
    org_base,
    problem,
    wait_for,
)
from tests.tracker.conftest import ORIGIN_REFUSED, OTHER_SHOP, SHOP, preflight_of

PLAIN = {"Content-Type": "text/plain;charset=UTF-8"}
UNKNOWN = ("This org has no collection named 'nope'. Create it first "
           "(POST /v1/<org>/collections) or correct the name.")


def booking(**fields):
    return {"bookingId": "1", "flightId": "1", "bookingStatus": "booked",
            "bookingDate": "2020-05-25", **fields}


def item(collection="flight-booking", **extra):
    return {"collection": collection, "eventId": str(uuid.uuid4()), "visitorId": "v-1",
            "timestamp": "2024-03-01T10:00:00.000Z", "fields": booking(), **extra}


def track(api, batch, key=None, headers=None, **body):
    """Sends a batch the way the tracker's beacon does: text/plain, key in the body."""
    sent = {"writeKey": api.org.write_key if key is None else key,
            "sentAt": "2024-03-01T10:00:01.000Z", "batch": batch, **body}
    if key is False:
        del sent["writeKey"]
    return api.post("/track", content=json.dumps(sent),
                    headers={"Authorization": "", **PLAIN, **(headers or {})})


def stored(collection_id, count):
    return wait_for(lambda: (rows := list(Record.objects.filter(
        collection_id=int(collection_id)).order_by("id"))) and len(rows) >= count and rows)


def builtin(api, name):
    return api.get(f"/collections/{name}").json()


def test_a_beacon_batch_is_stored_with_the_system_fields_its_schema_has(api, web, orm):
    sent = item(userId="u-9")
    answer = track(api, [sent])
    assert answer.status_code == 202, answer.text
    assert answer.json() == {"accepted": 1, "rejected": [], "warnings": [],
                             "_links": hal_links(org_base(api), "/track")}
    [row] = stored(web["collection"]["id"], 1)
    assert row.key == sent["eventId"]
    assert row.data == {"eventId": sent["eventId"], "visitorId": "v-1", **booking()}


def test_the_key_may_come_in_a_header_and_the_body_as_json(api, web, orm):
    for headers in ({"x-api-key": api.org.write_key, "Authorization": ""},
                    {"Authorization": f"ApiKey {api.org.write_key}"}):
        answer = api.post("/track", json={"batch": [item()]}, headers=headers)
        assert answer.status_code == 202, answer.text
    assert len(stored(web["collection"]["id"], 2)) == 2


def test_a_retried_batch_is_stored_once(api, web, orm):
    batch = [item(), item()]
    for _ in range(3):
        assert track(api, batch).status_code == 202
    track(api, [marker := item()])
    rows = stored(web["collection"]["id"], 3)
    assert sorted(r.key for r in rows) == sorted(i["eventId"] for i in [*batch, marker])


def test_the_timestamp_is_corrected_by_the_senders_clock_skew(api, web, orm):
    """The page's clock is an hour behind: its times are moved an hour forward."""
    behind = datetime.now(UTC) - timedelta(hours=1)
    at = behind - timedelta(seconds=30)
    sent = item("pages", fields={"url": "https://shop.example/a", "title": "A",
                                 "referrer": None, "path": "/a"},
                timestamp=at.isoformat().replace("+00:00", "Z"))
    before = datetime.now(UTC)
    answer = track(api, [sent], sentAt=behind.isoformat().replace("+00:00", "Z"))
    after = datetime.now(UTC)
    assert answer.json() == {"accepted": 1, "rejected": [], "warnings": [],
                             "_links": hal_links(org_base(api), "/track")}
    [row] = stored(builtin(api, "pages")["id"], 1)
    stamp = datetime.fromisoformat(row.data["timestamp"].replace("Z", "+00:00"))
    assert before - timedelta(seconds=31) <= stamp <= after - timedelta(seconds=29)
    assert row.data == {"eventId": sent["eventId"], "url": "https://shop.example/a",
                        "title": "A", "referrer": None, "path": "/a", "userId": None,
                        "accountId": None, "visitorId": "v-1", "properties": {},
                        "timestamp": row.data["timestamp"], "name": None, "category": None,
                        "originalTimestamp": None, "sentAt": None, "context": {},
                        "integrations": {}, "receivedAt": row.data["receivedAt"]}


def test_the_own_api_maps_page_and_identify_onto_the_builtin_schemas(api, web, orm):
    page = item("pages", fields={"url": "https://shop.example/p?q=1", "title": "P",
                                 "referrer": "https://search.example/", "path": "/p",
                                 "plan": "pro", "tags": ["a", "b"]})
    identify = item("users", userId="u-7", fields={
        "userId": "u-7", "email": "ann@shop.example", "firstName": "Ann", "plan": "pro",
        "seats": 3, "address": {"city": "Oakland", "country": "United States"}})
    answer = track(api, [page, identify])
    assert answer.json() == {"accepted": 2, "rejected": [], "warnings": [],
                             "_links": hal_links(org_base(api), "/track")}
    [stored_page] = stored(builtin(api, "pages")["id"], 1)
    assert stored_page.data["properties"] == {"plan": "pro", "tags": '["a", "b"]'}
    assert stored_page.data["url"] == "https://shop.example/p?q=1"
    [user] = stored(builtin(api, "users")["id"], 1)
    assert user.key == "u-7"
    assert user.data == {
        "userId": "u-7", "accountId": None, "visitorId": "v-1", "email": "ann@shop.example",
        "firstName": "Ann", "lastName": None, "phone": None, "paymentProcessorIds": {},
        "address": {"city": "Oakland", "country": "United States"},
        "traits": {"plan": "pro", "seats": 3}}


def test_each_bad_item_is_rejected_alone_with_its_index(api, web, orm):
    good = item()
    batch = [
        item("nope"), good, "not an item", item(fields=booking(bookingDate="soon")),
        {"eventId": "x", "fields": {}}, item(fields="x"), item(fields=booking(flightId="a\x00")),
        item("events", fields={"event": "clicked", "nested": {"deep": 1}}),
    ]
    answer = track(api, batch)
    assert answer.status_code == 202
    body = answer.json()
    assert body["accepted"] == 2 and body["warnings"] == []
    assert body["rejected"] == [
        {"index": 0, "errors": [{"attr": "collection", "code": "unknown_collection",
                                 "detail": UNKNOWN}]},
        {"index": 2, "errors": [{"attr": None, "code": "not_an_object",
                                 "detail": "A record is a JSON object."}]},
        {"index": 3, "errors": [{"attr": "bookingDate", "code": "invalid_date",
                                 "detail": "'soon' is not an ISO date such as 2020-05-25."}]},
        {"index": 4, "errors": [{"attr": "collection", "code": "required",
                                 "detail": "Name the collection of the item in `collection`."}]},
        {"index": 5, "errors": [{"attr": "fields", "code": "invalid",
                                 "detail": "`fields` must be a JSON object."}]},
        {"index": 6, "errors": [{"attr": "fields.flightId", "code": "nul_character",
                                 "detail": "Strings may not contain the NUL character "
                                 "(\\u0000)."}]},
    ]
    rows = stored(web["collection"]["id"], 1)
    assert [r.key for r in rows] == [good["eventId"]]
    [event] = stored(builtin(api, "events")["id"], 1)
    assert event.data["properties"] == {"nested": '{"deep": 1}'}
    [kept] = wait_for(lambda: list(RejectedRecord.objects.filter(
        collection_id=int(web["collection"]["id"]))))
    assert kept.raw["bookingDate"] == "soon"


def test_fields_not_in_a_custom_schema_are_warned_about_but_system_fields_are_not(api, web):
    answer = track(api, [item(userId="u-1", fields=booking(seat="12A"))])
    assert answer.json() == {"accepted": 1, "rejected": [], "warnings": [
        {"index": 0, "fields": ["seat"],
         "detail": "Fields not in the schema were not stored: seat."}],
        "_links": hal_links(org_base(api), "/track")}


def test_a_batch_with_nothing_valid_is_a_400_naming_each_item(api, web):
    answer = track(api, [item("nope")])
    assert answer.status_code == 400
    detail = UNKNOWN
    assert answer.json() == {
        **problem(400, "all_records_rejected", "No record was valid; each is kept in the "
                  "rejected list (GET /v1/<org>/rejected) with its reasons.", [
                      {"attr": "records[0].collection", "code": "unknown_collection",
                       "detail": detail}]),
        "accepted": 0, "warnings": [],
        "rejected": [{"index": 0, "errors": [{"attr": "collection",
                                              "code": "unknown_collection",
                                              "detail": detail}]}],
        "_links": hal_links(org_base(api), "/track", rejected="/rejected"),
    }


def test_a_collection_without_primary_identifier_rejects_only_its_items(api, web):
    create_collection(api, web["source"]["id"], name="unkeyed")
    answer = track(api, [item("unkeyed"), item()])
    assert answer.status_code == 202
    assert answer.json()["accepted"] == 1
    assert answer.json()["rejected"][0]["errors"][0]["code"] == "no_primary_identifier"


@pytest.mark.parametrize("body, status, attr", [
    ({}, 400, "batch"), ({"batch": {}}, 400, "batch"), ([], 400, "body"),
])
def test_a_body_without_a_batch_is_a_400(api, web, body, status, attr):
    answer = api.post("/track", json=body, headers={"x-api-key": api.org.write_key,
                                                      "Authorization": ""})
    assert answer.status_code == status
    assert answer.json()["errors"][0]["attr"] == attr


def test_too_many_items_is_a_413(api, web):
    answer = track(api, [{}] * 2501)
    assert answer.status_code == 413
    assert answer.json()["code"] == "too_many_records"


def test_without_a_valid_key_of_the_org_nothing_is_taken(api, web, make_org):
    assert track(api, [item()], key=False).json() == problem(401, "not_authenticated",
                                                             NOT_AUTHENTICATED)
    assert track(api, [item()], key="sluice_wk_nope").status_code == 401
    assert track(api, [item()], key=42).status_code == 401
    other = make_org()
    assert track(api, [item()], key=other.write_key).json() == problem(404, "not_found",
                                                                       NOT_FOUND)


def test_the_batch_goes_to_the_queue_as_one_message(api, web, orm, monkeypatch):
    """Items of several collections (the built-in ones too) make one queue message."""
    from apps.orgs.models import Org

    messages = []
    monkeypatch.setattr(services, "batches_enqueue",
                        lambda batches, outcome=None: messages.append(batches))
    outcome = services.track_ingest(
        org=Org.objects.get(slug=api.org.slug), received=datetime.now(UTC),
        payload={"batch": [item(), item("pages", fields={"url": "u"}), item()]})
    assert outcome.accepted == 3
    [batches] = messages
    assert [len(b.records) for b in batches] == [2, 1]


# ---------------------------------------------------------------------------
# Origins
# ---------------------------------------------------------------------------
def test_an_allowed_origin_may_send_and_read_the_answer(api, web, orm):
    answer = track(api, [item()], headers={"Origin": SHOP}, trackerId=web["trackerId"])
    assert answer.status_code == 202
    assert answer.headers["Access-Control-Allow-Origin"] == SHOP
    assert "Origin" in answer.headers["Vary"]
    stored(web["collection"]["id"], 1)
    for origin in (SHOP, "http://evil.example"):  # no key known yet: every origin alike
        bad_key = track(api, [item()], key="sluice_wk_nope", headers={"Origin": origin})
        assert bad_key.status_code == 401
        assert bad_key.headers["Access-Control-Allow-Origin"] == origin


def test_a_preflight_is_answered_alike_for_every_origin(api, web, other_shop):
    """Which origins the org allows is checked on the POST: its preflight tells nobody."""
    url = f"{org_base(api)}/track"
    answer = api.options("/track", headers={
        "Origin": SHOP, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type,x-api-key"})
    assert answer.status_code == 204
    assert answer.headers["Access-Control-Allow-Origin"] == "*"
    assert answer.headers["Access-Control-Allow-Methods"] == "POST, OPTIONS"
    assert answer.headers["Access-Control-Allow-Headers"] == (
        "Content-Type, x-api-key, Authorization, X-Retry-Count")
    assert preflight_of(url, SHOP) == preflight_of(url, OTHER_SHOP) == preflight_of(
        url, "http://random.example")


def test_another_origin_is_refused_without_cors_headers(api, web, orm, other_shop):
    for origin in ("http://evil.example", "https://shop.example", "http://shop.example:81",
                   OTHER_SHOP):
        answer = track(api, [item()], headers={"Origin": origin})
        assert answer.status_code == 403
        assert answer.json() == ORIGIN_REFUSED
        assert "Access-Control-Allow-Origin" not in answer.headers
    marker = item()
    track(api, [marker])
    assert [r.key for r in stored(web["collection"]["id"], 1)] == [marker["eventId"]]


def test_the_tracker_id_names_the_source_whose_origins_apply(api, web):
    other = api.post("/sources", json={"name": "blog", "type": "web",
                                       "allowedOrigins": ["http://blog.example"]}).json()
    blog = {"Origin": "http://blog.example"}
    assert track(api, [item()], headers=blog).status_code == 202
    assert track(api, [item()], headers=blog, trackerId=other["trackerId"]).status_code == 202
    assert track(api, [item()], headers=blog, trackerId=web["trackerId"]).status_code == 403
    assert track(api, [item()], headers=blog, trackerId="unknown").status_code == 403


def test_a_star_allows_every_origin_and_no_origin_is_not_checked(api, web):
    assert track(api, [item()], headers={"Origin": "http://any.example"}).status_code == 403
    assert track(api, [item()]).status_code == 202
    api.patch(f"/sources/{web['source']['id']}", json={"allowedOrigins": ["*"]})
    answer = track(api, [item()], headers={"Origin": "http://any.example"})
    assert answer.status_code == 202
    assert answer.headers["Access-Control-Allow-Origin"] == "http://any.example"


# ---------------------------------------------------------------------------
# A write key only sends
# ---------------------------------------------------------------------------
MANAGEMENT = [
    ("GET", "/sources"), ("POST", "/sources"), ("GET", "/sources/{source}"),
    ("PATCH", "/sources/{source}"), ("DELETE", "/sources/{source}"),
    ("GET", "/collections"), ("POST", "/collections"), ("GET", "/collections/{coll}"),
    ("PATCH", "/collections/{coll}"), ("DELETE", "/collections/{coll}"),
    ("GET", "/collections/{coll}/data"), ("GET", "/identifiers"), ("POST", "/identifiers"),
    ("GET", "/relations"), ("GET", "/rejected"), ("POST", "/rejected/replay"),
]


@pytest.mark.parametrize("method, path", MANAGEMENT)
def test_a_write_key_cannot_manage(api, web, method, path):
    url = path.format(source=web["source"]["id"], coll=web["collection"]["id"])
    answer = api.request(method, url, json={} if method in ("POST", "PATCH") else None,
                         headers={"Authorization": f"ApiKey {api.org.write_key}"})
    assert answer.status_code == 403, answer.text
    assert answer.json()["code"] == "permission_denied"


def test_a_schema_keeping_time_as_a_long_gets_epoch_milliseconds(api, web, orm):
    avro = {"type": "record", "name": "click", "fields": [
        {"name": "eventId", "type": "string"}, {"name": "timestamp", "type": "long"}]}
    clicks = create_collection(api, web["source"]["id"], name="clicks", avro=avro)
    api.post("/identifiers", json={"collId": clicks["id"], "type": "primary", "name": "eventId",
                                   "schema": {"type": "record", "name": "eventId", "fields": [
                                       {"name": "eventId", "type": "string"}]}})
    now = datetime.now(UTC)
    sent = item("clicks", fields={}, timestamp=now.isoformat())
    answer = track(api, [sent], sentAt=now.isoformat())
    assert answer.json() == {"accepted": 1, "rejected": [], "warnings": [],
                             "_links": hal_links(org_base(api), "/track")}
    [row] = stored(clicks["id"], 1)
    assert abs(row.data["timestamp"] - now.timestamp() * 1000) < 5000
