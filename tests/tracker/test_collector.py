"""The Churn360-style usage collector: POST /api/initialize and POST /api/collect, through a
live server and worker, landing in the built-in collections."""

import base64
import json
import time
import uuid
from datetime import UTC, datetime, timedelta
from unittest import mock

import httpx
import pytest
from django.conf import settings

from apps.orgs.models import ApiKey
from apps.orgs.services import api_key_revoke
from apps.records.models import Record
from apps.tracker.sessions import session_token
from tests.conftest import LOGS
from tests.fixtures import ACTOR
from tests.helpers import NOT_AUTHENTICATED, hal_links, problem, validation, wait_for
from tests.live import start_server
from tests.tracker.conftest import ORIGIN_REFUSED, OTHER_SHOP, SHOP, preflight_of

EXPIRED = ("The session token has expired or is not valid. Call POST /api/initialize again for "
           "a new one, then resend.")
NOT_VALID = "The session token is not valid. Call POST /api/initialize for a new one."


@pytest.fixture
def collector(api, web):
    with httpx.Client(base_url=f"{api.root}/api", timeout=30) as client:
        yield client


def initialize(collector, key, customer="acme.example", email="ann@acme.example", **headers):
    return collector.post("/initialize", json={"customerIdentifier": customer,
                                                "userEmail": email},
                          headers={"x-api-key": key, **headers})


def session(collector, api, **kwargs):
    answer = initialize(collector, api.org.write_key, **kwargs)
    assert answer.status_code == 200, answer.text
    return answer.json()["sessionToken"]


def call(kind, **fields):
    return {"type": kind, "eventId": str(uuid.uuid4()), "visitorId": "v-1",
            "timestamp": "2024-03-01T10:00:00.000Z", **fields}


def collect(collector, token, batch, **headers):
    body = {"sessionToken": token, "sentAt": "2024-03-01T10:00:05.000Z", "batch": batch}
    return collector.post("/collect", content=json.dumps(body),
                          headers={"Content-Type": "text/plain;charset=UTF-8", **headers})


def on_server_clock(data):
    """The record's timestamp, five seconds before now: the page's clock said it happened 5 s
    before it sent, and the server's clock is what is kept."""
    stamp = datetime.fromisoformat(data.pop("timestamp").replace("Z", "+00:00"))
    assert abs(datetime.now(UTC) - timedelta(seconds=5) - stamp) < timedelta(seconds=10)
    received = datetime.fromisoformat(data.pop("receivedAt").replace("Z", "+00:00"))
    assert abs(datetime.now(UTC) - received) < timedelta(seconds=10)
    return data


# what a collector call leaves empty of the fields Segment's calls fill
UNSENT = {"originalTimestamp": None, "sentAt": None, "context": {}, "integrations": {}}


def records_of(api, name, count):
    """The records of a built-in collection, read back through the data API."""
    def read():
        page = api.get(f"/collections/{name}/data").json()["_embedded"]["records"]
        return len(page) >= count and page
    return wait_for(read)


def test_initialize_answers_a_session_token_for_twenty_minutes(api, collector):
    answer = initialize(collector, api.org.write_key)
    assert answer.status_code == 200
    assert set(answer.json()) == {"sessionToken", "expiresIn"}
    assert answer.json()["expiresIn"] == 1200
    assert initialize(collector, api.org.secret_key).status_code == 200


def test_page_track_and_identify_land_in_the_builtin_collections(api, collector, orm):
    token = session(collector, api)
    page = call("page", url="https://app.acme.example/projects?id=1", title="Projects",
                referrer="https://acme.example/", path="/projects",
                properties={"environment": "dev", "subscription": "premium"})
    track = call("track", event="view more clicked", feature="product details",
                 properties={"projectId": "075129da"})
    identify = call("identify", userId="u-42", traits={
        "firstName": "David", "lastName": "Thomson", "email": "Thomson@Example.com",
        "phone": "1234567890", "plan": "pro",
        "address": {"street": "39 Thunder Road", "city": "Oakland", "state": "California",
                    "postalCode": "94612", "country": "United States"}})
    after = call("track", event="saved", userId="u-42")
    answer = collect(collector, token, [page, track, identify, after])
    assert answer.status_code == 202, answer.text
    assert answer.json() == {"accepted": 4, "rejected": [], "warnings": [],
                             "_links": hal_links(api.root, "/api/collect")}

    [stored_page] = records_of(api, "pages", 1)
    assert on_server_clock(stored_page["data"]) == {
        "eventId": page["eventId"], "url": "https://app.acme.example/projects?id=1",
        "title": "Projects", "referrer": "https://acme.example/", "path": "/projects",
        "userId": "ann@acme.example", "accountId": "acme.example", "visitorId": "v-1",
        "properties": {"environment": "dev", "subscription": "premium"},
        "name": None, "category": None, **UNSENT}
    events = {r["data"]["event"]: r["data"] for r in records_of(api, "events", 2)}
    assert on_server_clock(events["view more clicked"]) == {
        "eventId": track["eventId"], "event": "view more clicked",
        "feature": "product details", "userId": "ann@acme.example",
        "accountId": "acme.example", "productId": None, "visitorId": "v-1",
        "properties": {"projectId": "075129da"}, **UNSENT}
    assert events["saved"]["userId"] == "u-42"
    users = {r["data"]["userId"]: r["data"] for r in records_of(api, "users", 2)}
    assert users == {
        "u-42": {"userId": "u-42", "accountId": "acme.example", "visitorId": "v-1",
                 "email": "Thomson@Example.com", "firstName": "David", "lastName": "Thomson",
                 "phone": "1234567890", "paymentProcessorIds": {}, "traits": {"plan": "pro"},
                 "address": {"street": "39 Thunder Road", "city": "Oakland",
                             "state": "California", "postalCode": "94612",
                             "country": "United States"}},
        "ann@acme.example": {"userId": "ann@acme.example", "accountId": "acme.example",
                             "visitorId": None, "email": "ann@acme.example", "firstName": None,
                             "lastName": None, "phone": None, "address": None,
                             "paymentProcessorIds": {}, "traits": {}},
    }
    [account] = records_of(api, "accounts", 1)
    assert account["data"] == {"accountId": "acme.example", "name": None,
                               "parentAccountId": None, "paymentProcessorIds": {},
                               "traits": {}}


def test_identify_without_a_user_id_is_the_sessions_user_and_is_not_overwritten(api, collector,
                                                                                 orm):
    token = session(collector, api)
    collect(collector, token, [call("identify", traits={"firstName": "Ann", "role": "admin"})])
    [user] = records_of(api, "users", 1)
    assert user["data"]["userId"] == "ann@acme.example"
    assert user["data"]["firstName"] == "Ann"
    assert user["data"]["email"] == "ann@acme.example"
    assert user["data"]["traits"] == {"role": "admin"}
    collect(collector, token, [marker := call("page", url="https://app.acme.example/")])
    wait_for(lambda: Record.objects.filter(key=marker["eventId"]).exists())
    [user] = records_of(api, "users", 1)
    assert user["data"]["firstName"] == "Ann"


def test_an_existing_account_is_not_overwritten(api, collector, orm):
    accounts = "/collections/accounts/data"
    api.post(accounts, json={"accountId": "acme.example", "name": "Acme"})
    wait_for(lambda: api.get(accounts).json()["_embedded"]["records"])
    token = session(collector, api)
    collect(collector, token, [marker := call("page", url="https://app.acme.example/")])
    wait_for(lambda: Record.objects.filter(key=marker["eventId"]).exists())
    [account] = records_of(api, "accounts", 1)
    assert account["data"]["name"] == "Acme"


def test_page_fields_may_come_inside_the_properties(api, collector, orm):
    token = session(collector, api)
    answer = collect(collector, token, [call("page", properties={
        "url": "https://app.acme.example/a", "title": "A", "path": "/a", "domain": "acme"},
        projectId="p-1")])
    assert answer.json()["accepted"] == 1
    [page] = records_of(api, "pages", 1)
    assert page["data"]["url"] == "https://app.acme.example/a"
    assert page["data"]["properties"] == {"domain": "acme", "projectId": "p-1"}


def test_each_bad_call_is_rejected_alone(api, collector):
    token = session(collector, api)
    answer = collect(collector, token, [
        call("wave"), call("track"), call("page", url="https://a.example/"), "x",
        call("identify", traits="x")])
    assert answer.status_code == 202
    assert answer.json()["accepted"] == 1
    assert [(r["index"], r["errors"][0]["attr"], r["errors"][0]["code"])
            for r in answer.json()["rejected"]] == [
        (0, "type", "unknown_type"), (1, "event", "required"), (3, None, "not_an_object"),
        (4, "traits", "invalid")]
    assert answer.json()["_links"] == hal_links(api.root, "/api/collect",
                                                rejected=f"/v1/{api.org.slug}/rejected")


def test_initialize_needs_a_key_and_refuses_a_blank_customer_or_email(api, collector):
    assert initialize(collector, "sluice_wk_nope").json() == problem(
        401, "not_authenticated", NOT_AUTHENTICATED)
    blank = collector.post("/initialize", json={"customerIdentifier": "", "userEmail": ""},
                           headers={"x-api-key": api.org.write_key})
    assert blank.json() == validation(
        ("customerIdentifier", "blank", "This field may not be blank."),
        ("userEmail", "blank", "This field may not be blank."))


# ---------------------------------------------------------------------------
# A session started with the key alone: an anonymous visitor until identify
# ---------------------------------------------------------------------------
def anonymous_session(collector, api):
    answer = collector.post("/initialize", json={}, headers={"x-api-key": api.org.write_key})
    assert answer.status_code == 200, answer.text
    assert answer.json()["expiresIn"] == 1200
    return answer.json()["sessionToken"]


def test_the_key_alone_starts_a_session_whose_calls_are_keyed_by_visitor(api, collector, orm):
    token = anonymous_session(collector, api)
    page = call("page", url="https://app.acme.example/", title="Home", path="/")
    track = call("track", event="signed up", feature="onboarding")
    answer = collect(collector, token, [page, track])
    assert answer.json() == {"accepted": 2, "rejected": [], "warnings": [],
                             "_links": hal_links(api.root, "/api/collect")}
    [stored_page] = records_of(api, "pages", 1)
    assert on_server_clock(stored_page["data"]) == {
        "eventId": page["eventId"], "url": "https://app.acme.example/", "title": "Home",
        "referrer": None, "path": "/", "userId": None, "accountId": None, "visitorId": "v-1",
        "properties": {}, "name": None, "category": None, **UNSENT}
    [event] = records_of(api, "events", 1)
    assert on_server_clock(event["data"]) == {
        "eventId": track["eventId"], "event": "signed up", "feature": "onboarding",
        "userId": None, "accountId": None, "productId": None, "visitorId": "v-1",
        "properties": {}, **UNSENT}
    assert api.get("/collections/users/data").json()["_embedded"]["records"] == []
    assert api.get("/collections/accounts/data").json()["_embedded"]["records"] == []


def test_identify_names_the_user_and_customer_of_an_anonymous_session(api, collector, orm):
    token = anonymous_session(collector, api)
    identify = call("identify", traits={"email": "ann@acme.example", "firstName": "Ann",
                                        "customerIdentifier": "acme.example", "plan": "pro"})
    later = call("track", event="saved", userId="ann@acme.example", accountId="acme.example")
    nobody = call("identify", traits={"firstName": "Bob"})
    answer = collect(collector, token, [identify, later, nobody])
    assert answer.json()["accepted"] == 2
    assert answer.json()["rejected"] == [{"index": 2, "errors": [{
        "attr": "userId", "code": "required",
        "detail": "This session names no user: call identify(traits, userId) or put the "
                  "user's email in the traits."}]}]
    [user] = records_of(api, "users", 1)
    assert user["data"] == {
        "userId": "ann@acme.example", "accountId": "acme.example", "visitorId": "v-1",
        "email": "ann@acme.example", "firstName": "Ann", "lastName": None, "phone": None,
        "address": None, "paymentProcessorIds": {}, "traits": {"plan": "pro"}}
    [event] = records_of(api, "events", 1)
    assert (event["data"]["userId"], event["data"]["accountId"]) == (
        "ann@acme.example", "acme.example")
    [account] = records_of(api, "accounts", 1)
    assert account["data"]["accountId"] == "acme.example"


def test_an_expired_forged_or_revoked_session_is_refused(api, collector, orm):
    key = ApiKey.objects.get(org__slug=api.org.slug, kind="write",
                             source__isnull=True)
    with mock.patch("apps.tracker.sessions.time.time", return_value=time.time() - 1201):
        old = session_token(key=key, customer_identifier="acme.example",
                            user_email="ann@acme.example")
    expired = collect(collector, old, [call("page", url="https://a.example/")])
    assert expired.status_code == 401
    assert expired.json() == problem(401, "session_expired", EXPIRED)
    for forged in ("nope", old[:-2] + "xx", None, 42):
        answer = collect(collector, forged, [call("page", url="https://a.example/")])
        assert answer.status_code == 401
        assert answer.json()["code"] == "session_expired"
    token = session(collector, api)
    assert collect(collector, token, []).status_code == 202
    api_key_revoke(actor=ACTOR, key=key)
    revoked = collect(collector, token, [])
    assert revoked.status_code == 401
    assert revoked.json()["detail"] == ("The API key of this session was revoked or has "
                                        "expired. Initialize a session with a working key.")


def test_collector_origins_follow_the_orgs_web_sources(api, collector):
    preflight = collector.options("/initialize", headers={
        "Origin": SHOP, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type,x-api-key"})
    assert preflight.status_code == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"
    assert "x-api-key" in preflight.headers["Access-Control-Allow-Headers"]
    evil = {"Origin": "http://evil.example"}
    assert initialize(collector, api.org.write_key, **evil).json() == ORIGIN_REFUSED
    answer = initialize(collector, api.org.write_key, Origin=SHOP)
    assert answer.status_code == 200
    assert answer.headers["Access-Control-Allow-Origin"] == SHOP
    token = answer.json()["sessionToken"]
    refused = collect(collector, token, [], **evil)
    assert refused.status_code == 403 and "Access-Control-Allow-Origin" not in refused.headers
    taken = collect(collector, token, [call("page", url="https://a.example/")], Origin=SHOP)
    assert taken.status_code == 202
    assert taken.headers["Access-Control-Allow-Origin"] == SHOP
    expired = collect(collector, "nope", [], Origin=SHOP)
    assert expired.status_code == 401
    assert expired.headers["Access-Control-Allow-Origin"] == SHOP


def test_another_orgs_allowed_origin_is_refused(api, collector, make_org, other_shop):
    other = make_org()
    answer = initialize(collector, other.write_key, Origin=SHOP)
    assert answer.status_code == 403
    assert answer.json() == ORIGIN_REFUSED
    refused = initialize(collector, api.org.write_key, Origin=OTHER_SHOP)
    assert (refused.status_code, refused.json()) == (403, ORIGIN_REFUSED)
    assert "Access-Control-Allow-Origin" not in refused.headers
    token = session(collector, api)
    refused = collect(collector, token, [call("page", url="https://a.example/")],
                      Origin=OTHER_SHOP)
    assert (refused.status_code, refused.json()) == (403, ORIGIN_REFUSED)
    assert "Access-Control-Allow-Origin" not in refused.headers


@pytest.mark.parametrize("path", ["/initialize", "/collect"])
def test_a_preflight_answers_every_origin_alike(api, collector, other_shop, path):
    """A preflight names no org: whether an origin is one that this org, another org or no
    org allows, it gets the same answer, so nobody learns which origins are registered."""
    url = f"{api.root}/api{path}"
    ours = preflight_of(url, SHOP)
    assert ours == preflight_of(url, OTHER_SHOP) == preflight_of(url, "http://random.example")
    status, headers, body = ours
    assert (status, body) == (204, b"")
    assert (b"Access-Control-Allow-Origin", b"*") in headers


# ---------------------------------------------------------------------------
# The token: opaque, and sealed under the secret key or one of its fallbacks
# ---------------------------------------------------------------------------
def test_the_session_token_shows_nothing_it_carries(api, collector, orm):
    token = session(collector, api)
    sealed = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    key = ApiKey.objects.get(org__slug=api.org.slug, kind="write", source__isnull=True)
    carried = [api.org.slug, str(key.org_id), api.org.write_key, key.prefix, str(key.id),
               "acme.example", "ann@acme.example", '"email"', '"customer"']
    for value in carried:
        assert value.encode() not in sealed, value
        assert value not in token, value
    assert session(collector, api) != token  # the same session again looks unrelated


ROTATED_SECRET_KEY = "a-secret-key-made-only-for-this-test-after-rotation-6f1d93b2a7c4e085"


@pytest.fixture
def rotated(database_url, broker):
    """A web process of Sluice whose SECRET_KEY was rotated: the test server's is now its
    SECRET_KEY_FALLBACKS."""
    server, url = start_server(database_url, LOGS / "rotated-server.log", WEB_WORKERS="1",
                               DJANGO_SECRET_KEY=ROTATED_SECRET_KEY,
                               DJANGO_SECRET_KEY_FALLBACKS=settings.SECRET_KEY)
    with httpx.Client(base_url=f"{url}/api", timeout=30) as client:
        yield client
    server.stop()


def test_a_session_outlives_a_secret_key_rotation_and_a_tampered_one_is_refused(
        api, collector, rotated, orm):
    token = session(collector, api)
    taken = collect(rotated, token, [marker := call("page", url="https://a.example/")])
    assert taken.status_code == 202, taken.text
    wait_for(lambda: Record.objects.filter(key=marker["eventId"]).exists())
    middle = len(token) // 2
    tampered = token[:middle] + ("A" if token[middle] != "A" else "B") + token[middle + 1:]
    for forged in (tampered, token[:-4], token + "AAAA"):
        refused = collect(rotated, forged, [call("page", url="https://a.example/")])
        assert (refused.status_code, refused.json()) == (
            401, problem(401, "session_expired", NOT_VALID))
    # a session of the new key does not open where the new key is unknown
    assert collect(collector, session(rotated, api), []).json() == problem(
        401, "session_expired", NOT_VALID)
