"""Keys as an API: a secret key lists, creates, rotates and revokes its org's keys; a raw key
is answered once and never listed; a read key reads, a write key of one source sends only to
that source's collections; a revoked or expired key is the same 401 as an unknown one, in
every web process at once."""

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from tests.fixtures import record
from tests.helpers import (
    NOT_AUTHENTICATED,
    create_collection,
    create_identifier,
    create_source,
    org_base,
    problem,
    validation,
    wait_for,
)

READ_KEY = "This is a read key: it can only read. Use a secret key of this org to change anything."
SECRET_ONLY = "Only a secret key of this org may do this."
UNAUTHENTICATED = problem(401, "not_authenticated", NOT_AUTHENTICATED)
BOOKING = record("flight-booking")


def make_key(api, **body):
    answer = api.post("/keys", json=body)
    assert answer.status_code == 201, answer.text
    return answer.json()


def url(api, path):
    return f"{str(api.base_url).rstrip('/')}{path}"


def with_key(api, raw):
    """A client of the same org on the same server, with another key."""
    return httpx.Client(base_url=str(api.base_url), timeout=30,
                        headers={"Authorization": f"ApiKey {raw}"})


def statuses(api, raw, path="/collections"):
    """The answers of several web processes: a connection each, so that every one answers."""
    return {httpx.get(url(api, path), headers={"x-api-key": raw}, timeout=30
                      ).status_code for _ in range(12)}


def listed(api, **params):
    return api.get("/keys", params={"size": 200, **params}).json()["_embedded"]["keys"]


def bookings(api, name="bookings", source=None):
    """A collection of flight bookings keyed by eventId, in `source` (a new web source)."""
    source = source or create_source(api, f"{name}-site")
    collection = create_collection(api, source["id"], name=name)
    create_identifier(api, collection["id"])
    return source, collection


def test_a_key_is_made_shown_once_used_and_listed_with_its_last_use(api):
    made = make_key(api, kind="read", name="dashboard")
    base = org_base(api)
    assert made == {
        "id": made["id"], "prefix": made["key"][:14], "kind": "read", "name": "dashboard",
        "scope": None, "createdAt": made["createdAt"], "lastUsedAt": None, "expiresAt": None,
        "revokedAt": None, "active": True, "key": made["key"],
        "_links": {"self": {"href": f"{base}/keys/{made['id']}"},
                   "rotate": {"href": f"{base}/keys/{made['id']}/rotate"}}}
    assert made["key"].startswith("sluice_rk_") and len(made["key"]) > 40
    with with_key(api, made["key"]) as reader:
        assert reader.get("/collections").status_code == 200
    shown = api.get(f"/keys/{made['id']}").json()
    assert shown["lastUsedAt"] is not None and "key" not in shown
    assert datetime.fromisoformat(shown["lastUsedAt"]) > datetime.now(UTC) - timedelta(minutes=1)
    every = api.get("/keys", params={"size": 200})
    assert made["key"] not in every.text and api.org.secret_key not in every.text
    kinds = {key["prefix"]: key for key in every.json()["_embedded"]["keys"]}
    assert kinds[made["prefix"]] == shown
    assert kinds[api.org.secret_key[:14]]["lastUsedAt"] is not None  # the key that lists


def test_a_rotated_key_works_until_the_time_chosen_and_the_new_one_from_now_on(api):
    _, collection = bookings(api)
    old = make_key(api, kind="write", name="billing server")
    answer = api.post(f"/keys/{old['id']}/rotate", json={"graceSeconds": 3})
    assert answer.status_code == 201, answer.text
    new = answer.json()
    assert (new["kind"], new["name"], new["expiresAt"], new["key"][:10]) == (
        "write", "billing server", None, "sluice_wk_")
    assert new["replaces"]["id"] == old["id"] and new["replaces"]["active"] is True
    assert new["key"] != old["key"] and "key" not in new["replaces"]
    data = f"/collections/{collection['id']}/data"

    def sends(raw):
        return httpx.post(url(api, data), json=BOOKING, headers={"x-api-key": raw},
                          timeout=30).status_code

    assert (sends(old["key"]), sends(new["key"])) == (202, 202)  # both, until the time
    wait_for(lambda: sends(old["key"]) == 401, timeout=30)
    assert sends(new["key"]) == 202
    gone = httpx.post(url(api, data), json=BOOKING, headers={"x-api-key": old["key"]})
    assert gone.json() == UNAUTHENTICATED
    assert api.get(f"/keys/{old['id']}").json()["active"] is False


def test_a_rotation_keeps_the_old_key_a_day_unless_told(api):
    old = make_key(api, kind="secret", name="ci")
    before = datetime.now(UTC)
    new = api.post(f"/keys/{old['id']}/rotate").json()
    until = datetime.fromisoformat(new["replaces"]["expiresAt"])
    assert before + timedelta(hours=24) <= until <= datetime.now(UTC) + timedelta(hours=24)
    chosen = (datetime.now(UTC) + timedelta(hours=2)).replace(microsecond=0)
    newer = api.post(f"/keys/{new['id']}/rotate",
                     json={"oldKeyExpiresAt": chosen.isoformat()}).json()
    assert datetime.fromisoformat(newer["replaces"]["expiresAt"]) == chosen
    at_once = api.post(f"/keys/{newer['id']}/rotate", json={"graceSeconds": 0}).json()
    assert statuses(api, newer["key"]) == {401}
    assert statuses(api, at_once["key"]) == {200}
    assert statuses(api, old["key"]) == {200}  # still within its day
    both = api.post(f"/keys/{at_once['id']}/rotate",
                    json={"graceSeconds": 5, "oldKeyExpiresAt": chosen.isoformat()})
    assert both.status_code == 400 and both.json()["errors"][0]["detail"] == (
        "Give `oldKeyExpiresAt` or `graceSeconds`, not both.")
    dead = api.post(f"/keys/{newer['id']}/rotate")
    assert (dead.status_code, dead.json()["code"]) == (409, "key_not_live")


def test_a_revoked_key_is_refused_at_once_by_every_web_process(api):
    made = make_key(api, kind="secret", name="leaked")
    assert statuses(api, made["key"]) == {200}  # every process holds it now
    revoked = api.delete(f"/keys/{made['id']}")
    assert revoked.status_code == 200
    assert revoked.json()["revokedAt"] is not None and revoked.json()["active"] is False
    assert statuses(api, made["key"]) == {401}
    assert api.delete(f"/keys/{made['id']}").json() == revoked.json()  # changes nothing


def test_the_last_working_secret_key_cannot_be_revoked_by_a_key(api):
    own = next(key for key in listed(api) if key["prefix"] == api.org.secret_key[:14])
    refused = api.delete(f"/keys/{own['id']}")
    assert refused.json() == problem(409, "last_secret_key", (
        "This is the org's last working secret key: without it nothing could manage the org. "
        "Create another secret key first (POST /v1/<org>/keys with {\"kind\": \"secret\"}) or "
        "rotate this one (POST /v1/<org>/keys/<id>/rotate)."))
    assert statuses(api, api.org.secret_key) == {200}
    other = make_key(api, kind="secret", name="next")
    assert api.delete(f"/keys/{own['id']}").status_code == 200  # a key may revoke itself
    assert statuses(api, api.org.secret_key) == {401}
    assert statuses(api, other["key"]) == {200}


def test_a_read_key_reads_and_changes_nothing(api):
    source, collection = bookings(api)
    api.post(f"/collections/{collection['id']}/data", json=BOOKING, params={"wait": "true"})
    reader = make_key(api, kind="read", name="dashboard")
    with with_key(api, reader["key"]) as read:
        for path in ("/sources", f"/sources/{source['id']}", "/collections",
                     f"/collections/{collection['id']}", f"/collections/{collection['id']}/data",
                     f"/collections/{collection['id']}/schemas", "/identifiers", "/rejected",
                     f"/relations?collId={collection['id']}"):
            assert read.get(path).status_code == 200, path
        for method, path in (("POST", f"/collections/{collection['id']}/data"),
                             ("POST", "/sources"), ("PATCH", f"/sources/{source['id']}"),
                             ("DELETE", f"/collections/{collection['id']}"),
                             ("POST", "/rejected/replay"), ("POST", "/keys")):
            answer = read.request(method, path, json={})
            assert (answer.status_code, answer.json()) == (
                403, problem(403, "permission_denied", READ_KEY)), (method, path)
        for path in ("/keys", f"/keys/{reader['id']}"):
            answer = read.get(path)
            assert answer.json() == problem(403, "permission_denied", SECRET_ONLY), path


def test_a_web_sources_key_sends_to_its_collections_only(api, server_url):
    site, own = bookings(api, "bookings")
    _, other = bookings(api, "payments")
    raw = site["writeKey"]
    assert raw.startswith("sluice_wk_")
    [key] = listed(api, sourceId=site["id"])
    assert (key["kind"], key["prefix"], key["scope"]) == (
        "write", raw[:14], {"sourceId": site["id"], "sourceName": site["name"]})
    assert key["_links"]["source"]["href"] == f"{org_base(api)}/sources/{site['id']}"
    with with_key(api, raw) as page:
        assert page.post(f"/collections/{own['id']}/data", json=BOOKING).status_code == 202
        outside = problem(403, "outside_key_scope", (
            "This key sends only to the collections of its own source, and the collection "
            "'payments' is of another source. Send its records with a write key of that "
            "source, or of the whole org."))
        outside["errors"][0]["attr"] = "collection"
        answer = page.post(f"/collections/{other['id']}/data", json=BOOKING)
        assert (answer.status_code, answer.json()) == (403, outside)
        item = {"eventId": "e1", "visitorId": "v", "timestamp": "2024-03-01T10:00:00Z"}
        tracked = page.post("/track", json={"batch": [
            {**item, "collection": "bookings", "fields": BOOKING},
            {**item, "collection": "payments", "fields": BOOKING}]})
        assert (tracked.status_code, tracked.json()) == (403, outside)
        viewed = page.post("/track", json={"batch": [
            {**item, "collection": "bookings", "fields": BOOKING},
            {**item, "collection": "pages", "fields": {"url": "https://shop.example/"}}]})
        assert viewed.status_code == 202, viewed.text  # the built-in ones are open to it
        assert page.get("/collections").status_code == 403  # it manages nothing
    segment = httpx.post(f"{server_url}/v1/track", auth=(raw, ""),
                         json={"event": "Report Exported", "userId": "u1"})
    assert segment.status_code == 200, segment.text


def test_only_a_secret_key_manages_keys_and_another_orgs_sees_none(api, make_org):
    key = make_key(api, kind="write", name="site")
    other = make_org()
    for raw in (api.org.write_key, key["key"]):
        with with_key(api, raw) as writer:
            for method, path in (("GET", "/keys"), ("POST", "/keys"),
                                 ("GET", f"/keys/{key['id']}"), ("DELETE", f"/keys/{key['id']}"),
                                 ("POST", f"/keys/{key['id']}/rotate")):
                answer = writer.request(method, path, json={"kind": "secret"})
                assert (answer.status_code, answer.json()["code"]) == (
                    403, "permission_denied"), (method, path)
    for raw in (other.secret_key, other.write_key):
        with with_key(api, raw) as stranger:
            for method, path in (("GET", "/keys"), ("POST", "/keys"),
                                 ("GET", f"/keys/{key['id']}"), ("DELETE", f"/keys/{key['id']}"),
                                 ("POST", f"/keys/{key['id']}/rotate")):
                answer = stranger.request(method, path, json={"kind": "secret"})
                assert answer.status_code == 404, (method, path)
    # nor does this org see the other's keys by their ids
    their = httpx.get(f"{api.root}/v1/{other.slug}/keys",
                      headers={"x-api-key": other.secret_key}).json()["_embedded"]["keys"]
    assert api.get(f"/keys/{their[0]['id']}").status_code == 404
    assert api.get("/keys/not-an-id").status_code == 404
    assert statuses(api, key["key"], "/keys") == {403}


def test_an_expired_key_is_the_same_401_as_an_unknown_one(api):
    soon = (datetime.now(UTC) + timedelta(seconds=2)).isoformat()
    made = make_key(api, kind="secret", name="temporary", expiresAt=soon)
    assert made["expiresAt"] is not None and statuses(api, made["key"]) == {200}
    wait_for(lambda: statuses(api, made["key"]) == {401}, timeout=30)
    answer = httpx.get(url(api, "/collections"), headers={"x-api-key": made["key"]})
    assert (answer.json(), answer.headers["WWW-Authenticate"]) == (UNAUTHENTICATED, "ApiKey")


@pytest.mark.parametrize(("body", "errors"), [
    ({}, [("kind", "required", "This field is required.")]),
    ({"kind": "admin"}, [("kind", "invalid_choice", '"admin" is not a valid choice.')]),
    ({"kind": "write", "sourceId": "123"},
     [("sourceId", "not_found", "No source with this id in this org.")]),
    ({"kind": "secret", "expiresAt": "2020-01-01T00:00:00Z"},
     [("expiresAt", "invalid", "The time is past: give a time to come, or revoke the key to "
       "stop it now.")]),
])
def test_a_key_that_cannot_be_made_is_a_400_naming_the_field(api, body, errors):
    assert api.post("/keys", json=body).json() == validation(*errors)


def test_only_a_write_key_is_scoped_to_a_source(api):
    site = create_source(api, "shop")
    answer = api.post("/keys", json={"kind": "read", "sourceId": site["id"]})
    assert answer.json() == validation(("sourceId", "invalid", (
        "Only a write key is scoped to a source; a secret or read key covers the whole org.")))
