"""Segment's Tracking API on a live server and worker, spoken as the spec writes it (the SDKs'
own tests are beside this one): where each call lands, the key as the libraries send it,
exactly once by messageId, the sender's clock corrected, and bad messages kept as rejected."""

import base64
import json
import uuid
from datetime import datetime, timedelta

import httpx
import pytest

from apps.records.models import Record, RejectedRecord
from tests.helpers import flight_collection, wait_for

SENT = "2024-03-01T10:00:05.000Z"
ORIGINAL = "2024-03-01T10:00:00.000Z"


def basic(key):
    return {"Authorization": "Basic " + base64.b64encode(f"{key}:".encode()).decode()}


def send(api, path, body, key=None, **headers):
    """POSTs to /v1/<path> as Segment's libraries do (Basic auth with the write key), and
    waits for what it sent to be stored."""
    return httpx.post(f"{api.root}/v1/{path}?wait=true", json=body, timeout=30,
                      headers={**basic(key or api.org.write_key), **headers})


def read(api, collection, **equal):
    answer = api.get(f"/collections/{collection}/data", params={**equal, "limit": 1000})
    assert answer.status_code == 200, answer.text
    return [record["data"] for record in answer.json()["_embedded"]["records"]]


def message_id():
    return str(uuid.uuid4())


def test_a_batch_of_every_call_lands_where_the_readme_says(api, worker, orm):
    ids = {name: message_id() for name in ("track", "page", "screen")}
    context = {"library": {"name": "analytics-python", "version": "2.3.3"}, "ip": "8.8.8.8",
               "locale": "en-US", "campaign": {"name": "spring"}}
    batch = [
        {"type": "identify", "userId": "u1", "anonymousId": "anon-1",
         "traits": {"email": "ann@acme.example", "plan": "pro", "address": {"city": "Oslo"}}},
        {"type": "identify", "userId": "u1", "traits": {"seats": 5}},
        {"type": "group", "userId": "u1", "groupId": "acme",
         "traits": {"name": "Acme", "employees": 40}},
        {"type": "track", "messageId": ids["track"], "userId": "u1", "anonymousId": "anon-1",
         "event": "Report Exported", "originalTimestamp": ORIGINAL, "context": context,
         "properties": {"format": "csv", "rows": 120, "ratio": 0.5, "ok": True, "none": None,
                        "filters": {"from": "2024-01"}, "tags": ["a", "b"]},
         "integrations": {"All": True, "Mixpanel": False}},
        {"type": "page", "messageId": ids["page"], "userId": "u1", "name": "Pricing",
         "category": "Docs", "properties": {"url": "https://acme.example/pricing",
                                            "title": "Pricing", "plan": "pro",
                                            "category": "Docs", "name": "Pricing"},
         "timestamp": ORIGINAL},
        {"type": "screen", "messageId": ids["screen"], "anonymousId": "anon-2",
         "name": "Home", "context": {"page": {"url": "app://home"}}},
        {"type": "alias", "previousId": "anon-old", "userId": "u1"},
    ]
    answer = send(api, "batch", {"batch": batch, "sentAt": SENT})
    assert answer.status_code == 200, answer.text
    assert answer.json()["success"] is True
    assert (answer.json()["rejected"], answer.json()["accepted"]) == ([], 8)

    [event] = read(api, "events", eventId=ids["track"])
    received = datetime.fromisoformat(event["receivedAt"].replace("Z", "+00:00"))
    corrected = received - timedelta(seconds=5)  # receivedAt - (sentAt - originalTimestamp)
    assert event == {
        "eventId": ids["track"], "event": "Report Exported", "feature": None, "userId": "u1",
        "visitorId": "anon-1", "accountId": "acme", "productId": None,
        "timestamp": corrected.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "originalTimestamp": ORIGINAL, "sentAt": SENT, "receivedAt": event["receivedAt"],
        "properties": {"format": "csv", "rows": 120, "ratio": 0.5, "ok": True, "none": None,
                       "filters": '{"from": "2024-01"}', "tags": '["a", "b"]'},
        "context": {"library": '{"name": "analytics-python", "version": "2.3.3"}',
                    "ip": "8.8.8.8", "locale": "en-US", "campaign": '{"name": "spring"}'},
        "integrations": {"All": True, "Mixpanel": False},
    }
    [page] = read(api, "pages", eventId=ids["page"])
    assert {k: page[k] for k in ("url", "title", "name", "category", "userId", "properties")
            } == {"url": "https://acme.example/pricing", "title": "Pricing", "name": "Pricing",
                  "category": "Docs", "userId": "u1", "properties": {"plan": "pro"}}
    [screen] = read(api, "pages", eventId=ids["screen"])
    assert (screen["url"], screen["name"], screen["visitorId"]) == ("app://home", "Home",
                                                                   "anon-2")
    [user] = read(api, "users", userId="u1")
    assert (user["email"], user["address"]["city"], user["accountId"]) == (
        "ann@acme.example", "Oslo", "acme")
    assert user["traits"] == {"plan": "pro", "seats": 5}  # both identifies, merged
    [account] = read(api, "accounts", accountId="acme")
    assert (account["name"], account["traits"]) == ("Acme", {"employees": 40})
    merges = wait_for(lambda: len(m := api.get("/profiles/merges").json()["merges"]) == 2 and m)
    assert {(m["visitorId"], m["userId"], m["status"]) for m in merges} == {
        ("anon-1", "u1", "merged"), ("anon-old", "u1", "merged")}


def test_each_call_has_its_path_and_short_form_and_the_key_may_ride_in_the_body(api, worker,
                                                                                orm):
    sent = []
    for path in ("track", "t"):
        sent.append(message_id())
        answer = httpx.post(f"{api.root}/v1/{path}?wait=true", timeout=30,
                            content=json.dumps({"writeKey": api.org.write_key, "event": "x",
                                                "messageId": sent[-1], "anonymousId": "v"}),
                            headers={"Content-Type": "text/plain"})
        assert (answer.status_code, answer.json()["accepted"]) == (200, 1), answer.text
    for path, body in (("identify", {"userId": "u9", "traits": {"a": 1}}),
                       ("i", {"userId": "u9", "traits": {"b": 2}}),
                       ("page", {"messageId": message_id(), "name": "p", "anonymousId": "v"}),
                       ("p", {"messageId": message_id(), "name": "p", "anonymousId": "v"}),
                       ("screen", {"messageId": message_id(), "name": "s", "anonymousId": "v"}),
                       ("s", {"messageId": message_id(), "name": "s", "anonymousId": "v"}),
                       ("group", {"userId": "u9", "groupId": "g9"}),
                       ("g", {"userId": "u9", "groupId": "g9"}),
                       ("alias", {"userId": "u9", "previousId": "old-9"}),
                       ("a", {"userId": "u9", "previousId": "old-9b"})):
        assert send(api, path, body).status_code == 200
    assert sorted(e["eventId"] for e in read(api, "events", event="x")) == sorted(sent)
    assert len(read(api, "pages", visitorId="v")) == 4
    [user] = read(api, "users", userId="u9")
    assert (user["traits"], user["accountId"]) == ({"a": 1, "b": 2}, "g9")


def test_a_message_sent_again_is_stored_once(api, worker, orm):
    message = {"type": "track", "messageId": message_id(), "userId": "u1", "event": "Paid",
               "properties": {"amount": 10}}
    for _ in range(3):
        assert send(api, "batch", {"batch": [message]}).status_code == 200
    assert send(api, "track", message).status_code == 200
    assert Record.objects.filter(collection__org__slug=api.org.slug,
                                 collection__name="events", key=message["messageId"]).count() == 1


def test_a_track_named_after_a_collection_is_validated_by_its_schema(api, worker, orm):
    coll_id = flight_collection(api)  # flight-booking, keyed by eventId
    good, bad = message_id(), message_id()
    answer = send(api, "batch", {"batch": [
        {"type": "track", "event": "flight-booking", "messageId": good, "anonymousId": "v-1",
         "properties": {"bookingId": "1", "flightId": "1", "bookingStatus": "booked",
                        "bookingDate": "2020-05-25", "coupon": "X"}},
        {"type": "track", "event": "flight-booking", "messageId": bad, "anonymousId": "v-1",
         "properties": {"bookingId": "2", "flightId": 7, "bookingStatus": "booked",
                        "bookingDate": "2020-05-26"}},
    ]})
    body = answer.json()
    assert (answer.status_code, body["accepted"]) == (200, 1)
    assert [(r["index"], [e["attr"] for e in r["errors"]]) for r in body["rejected"]] == [
        (1, ["flightId"])]
    assert [w["fields"] for w in body["warnings"]] == [["coupon"]]
    assert read(api, f"{coll_id}", eventId=good) == [{
        "eventId": good, "visitorId": "v-1", "bookingId": "1", "flightId": "1",
        "bookingStatus": "booked", "bookingDate": "2020-05-25"}]
    [kept] = RejectedRecord.objects.filter(collection_id=coll_id)
    assert kept.raw["eventId"] == bad


def test_bad_messages_are_kept_with_reasons_and_a_batch_of_none_valid_is_a_400(api, worker,
                                                                               orm):
    answer = send(api, "batch", {"batch": [{"type": "track", "userId": "u1"},
                                           {"type": "identify", "anonymousId": "a"},
                                           {"type": "launch"}, "not a message"]})
    assert answer.status_code == 400
    assert [(r["index"], r["errors"][0]["attr"], r["errors"][0]["code"])
            for r in answer.json()["rejected"]] == [
        (0, "event", "required"), (1, "userId", "required"), (2, "type", "unknown_type"),
        (3, None, "not_an_object")]
    assert send(api, "batch", {"batch": "x"}).json()["errors"] == [
        {"attr": "batch", "code": "invalid", "detail": "`batch` must be a JSON array of "
         "messages."}]


@pytest.mark.parametrize("headers", [
    basic("sluice_wk_nope"), {"Authorization": "Basic !!!"}, {}])
def test_a_wrong_or_missing_key_is_a_401_json(api, headers, orm):
    answer = httpx.post(f"{api.root}/v1/track", json={"event": "x", "userId": "u"},
                        headers=headers)
    assert answer.status_code == 401
    assert answer.json()["code"] == "not_authenticated"


def test_a_page_of_any_origin_may_send_and_retry(api, worker, orm):
    """As Segment's browser library sends: Basic auth and, on a retry, X-Retry-Count, both
    asked for in the preflight; one call a request, or batches to /v1/b."""
    origin = "https://any-shop.example"
    preflight = httpx.options(f"{api.root}/v1/t", headers={
        "Origin": origin, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,x-retry-count"})
    assert (preflight.status_code, preflight.headers["Access-Control-Allow-Origin"]) == (
        204, origin)
    allowed = preflight.headers["Access-Control-Allow-Headers"].lower().split(", ")
    assert {"authorization", "x-retry-count"} <= set(allowed)
    answer = send(api, "t", {"event": "x", "anonymousId": "v", "messageId": message_id()},
                  Origin=origin, **{"X-Retry-Count": "1"})
    assert answer.headers["Access-Control-Allow-Origin"] == origin
    batched = message_id()
    assert send(api, "b", {"batch": [{"type": "track", "event": "y", "anonymousId": "v",
                                      "messageId": batched}]}).status_code == 200
    assert [e["eventId"] for e in read(api, "events", event="y")] == [batched]


def test_the_browser_librarys_own_metrics_are_taken_and_dropped(api, orm):
    answer = httpx.post(f"{api.root}/v1/m", content='{"series": []}',
                        headers={"Content-Type": "text/plain", "Origin": "https://a.example"})
    assert (answer.status_code, answer.headers["Access-Control-Allow-Origin"]) == (
        204, "https://a.example")
