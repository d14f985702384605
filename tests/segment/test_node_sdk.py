"""Segment's Node library (@segment/analytics-node, pinned in js/package.json), unchanged but for
its host and write key, against a live Sluice and worker: every call it makes lands where the
Segment door says, field by field as the library sent it, and a thousand tracks in batches all
land once."""

import json
import subprocess
from datetime import UTC, datetime
from typing import Any

from tests.helpers import wait_for
from tests.segment.sdk import (
    JS,
    event_record,
    flat,
    page_record,
    read,
    received_between,
    user_fields,
)


def node_sdk(api: Any, calls: list[tuple[str, dict[str, Any]]],
             **settings: Any) -> list[dict[str, Any]]:
    """Runs js/send.mjs: the library makes `calls` against the live server with the org's
    write key, then closes and flushes. The requests it made, as it emitted them, with the
    status each was answered."""
    plan = {"host": api.root, "writeKey": api.org.write_key, "settings": settings,
            "calls": calls}
    done = subprocess.run(["node", "send.mjs"], cwd=JS, input=json.dumps(plan),
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr + done.stdout
    out = json.loads(done.stdout)
    assert out["errors"] == []
    return list(out["requests"])


def sent(requests: list[dict[str, Any]]) -> dict[str, tuple[dict[str, Any], str]]:
    """Each message the library sent, by its type (the last of each), with its batch's
    sentAt."""
    return {message["type"]: (message, request["body"]["sentAt"])
            for request in requests for message in request["body"]["batch"]}


def test_every_call_lands_as_the_library_sent_it(api, worker, orm):
    start = datetime.now(UTC)
    context = {"ip": "8.8.8.8", "campaign": {"name": "spring", "source": "mail"}}
    requests = node_sdk(api, [
        ("identify", {"userId": "u-ann", "anonymousId": "anon-ann", "traits": {
            "email": "ann@acme.example", "firstName": "Ann", "lastName": "Lee",
            "phone": "+47 555 0100", "plan": "pro", "seats": 5, "prefs": {"theme": "dark"}}}),
        ("group", {"userId": "u-ann", "groupId": "acme",
                   "traits": {"name": "Acme", "employees": 40, "tags": ["b2b", "eu"]}}),
        ("track", {"userId": "u-ann", "anonymousId": "anon-ann", "event": "Report Exported",
                   "properties": {"format": "csv", "rows": 120, "ratio": 0.5, "ok": True,
                                  "none": None, "city": "Zürich ✓",
                                  "filters": {"from": "2024-01", "to": {"month": 3}},
                                  "tags": ["a", "b", 3]},
                   "context": context, "integrations": {"All": True, "Mixpanel": False}}),
        ("page", {"userId": "u-ann", "anonymousId": "anon-ann", "category": "Docs",
                  "name": "Pricing", "properties": {
                      "url": "https://acme.example/pricing", "title": "Pricing",
                      "referrer": "https://search.example/", "path": "/pricing",
                      "plan": "pro"}}),
        ("screen", {"anonymousId": "anon-app", "name": "Home", "properties": {"tab": 2},
                    "context": {"page": {"url": "app://home"}}}),
        ("alias", {"userId": "u-ann", "previousId": "anon-old"}),
    ])
    end = datetime.now(UTC)

    # one request with all six, as Segment's Tracking API is spoken
    [request] = requests
    assert request["url"] == f"{api.root}/v1/batch"
    assert request["status"] == 200
    assert request["headers"]["Content-Type"] == "application/json"
    assert request["headers"]["Authorization"].startswith("Basic ")
    messages = sent(requests)
    assert sorted(messages) == ["alias", "group", "identify", "page", "screen", "track"]

    track, sent_at = messages["track"]
    [event] = wait_for(lambda: read(api, "events", eventId=track["messageId"]))
    assert event == event_record(track, sent_at, received_between(event, start, end),
                                 account="acme")
    assert event["properties"]["filters"] == '{"from": "2024-01", "to": {"month": 3}}'
    assert event["context"]["library"] == (
        '{"name": "@segment/analytics-node", "version": "3.1.0"}')

    identify = messages["identify"][0]
    [user] = wait_for(lambda: read(api, "users", userId="u-ann"))
    assert user == {"userId": "u-ann", "accountId": "acme", "visitorId": "anon-old",
                    "address": None, "paymentProcessorIds": {},
                    **user_fields(identify["traits"])}
    group = messages["group"][0]
    [account] = wait_for(lambda: read(api, "accounts", accountId="acme"))
    assert account == {"accountId": "acme", "name": "Acme", "parentAccountId": None,
                       "paymentProcessorIds": {},
                       "traits": flat({k: v for k, v in group["traits"].items()
                                       if k != "name"})}
    merges = wait_for(lambda: len(m := api.get("/profiles/merges").json()["merges"]) == 2 and m)
    assert {(m["visitorId"], m["userId"], m["status"]) for m in merges} == {
        ("anon-ann", "u-ann", "merged"), ("anon-old", "u-ann", "merged")}

    for kind in ("page", "screen"):
        message, sent_at = messages[kind]
        [page] = wait_for(lambda m=message: read(api, "pages", eventId=m["messageId"]))
        owner = "acme" if kind == "page" else None
        assert page == page_record(message, sent_at, received_between(page, start, end),
                                   account=owner), kind
    [page] = read(api, "pages", eventId=messages["page"][0]["messageId"])
    assert (page["url"], page["name"], page["category"], page["properties"]) == (
        "https://acme.example/pricing", "Pricing", "Docs", {"plan": "pro"})


def test_a_thousand_tracks_in_batches_all_land_once(api, worker, orm):
    start = datetime.now(UTC)
    requests = node_sdk(api, [
        ("track", {"userId": f"u-{n % 7}", "event": "Item Viewed",
                   "properties": {"n": n, "sku": f"SKU-{n:04}", "price": n / 4,
                                  "dims": {"w": n % 10, "h": 3}}})
        for n in range(1000)
    ], flushAt=250)
    end = datetime.now(UTC)

    assert [(r["url"], r["status"], len(r["body"]["batch"])) for r in requests] == [
        (f"{api.root}/v1/batch", 200, 250)] * 4
    messages = {m["messageId"]: (m, r["body"]["sentAt"])
                for r in requests for m in r["body"]["batch"]}
    assert len(messages) == 1000
    events = wait_for(lambda: len(found := read(api, "events", event="Item Viewed")) == 1000
                      and found, timeout=60)
    assert sorted(e["eventId"] for e in events) == sorted(messages)
    for event in events:
        message, sent_at = messages[event["eventId"]]
        assert event == event_record(message, sent_at, received_between(event, start, end))
