"""Keys and tenancy: a missing, malformed, unknown, revoked or expired key is one 401 whatever
the URL names; a write key (of the org or of one source) manages nothing; a read key only
reads; another org's key of any kind sees exactly what nothing looks like."""

from datetime import timedelta

import httpx
import pytest
from django.core.cache import cache
from django.utils import timezone

from apps.core.cache import GENERATION_KEY
from apps.orgs.models import ApiKey, Org
from apps.orgs.services import api_key_create, api_key_revoke, key_hash
from apps.sources.models import Source
from tests.fixtures import ACTOR
from tests.helpers import (
    NOT_AUTHENTICATED,
    NOT_FOUND,
    WRITE_KEY,
    create_collection,
    create_identifier,
    create_source,
    key_schema,
    problem,
)

UNAUTHENTICATED = problem(401, "not_authenticated", NOT_AUTHENTICATED)
READ_KEY = "This is a read key: it can only read. Use a secret key of this org to change anything."
SECRET_ONLY = "Only a secret key of this org may do this."


@pytest.fixture
def catalog(api, worker):
    """One of each object of an org, with a stored record."""
    source = create_source(api)
    coll = create_collection(api, source["id"], name="bookings")
    primary = create_identifier(api, coll["id"])
    api.post(f"/collections/{coll['id']}/data", json={
        "eventId": "e1", "visitorId": "v", "bookingId": "1", "flightId": "1",
        "bookingStatus": "booked", "bookingDate": "2020-05-25"})
    key = api.get("/keys").json()["_embedded"]["keys"][0]
    audit = api.get("/audit").json()["_embedded"]["audit"][0]
    return {"source": source, "collection": coll, "identifier": primary, "key": key,
            "audit": audit}


def every_path(objects):
    s, c, i, k = (objects[n]["id"] for n in ("source", "collection", "identifier", "key"))
    return [
        ("GET", "/sources"), ("POST", "/sources"), ("GET", f"/sources/{s}"),
        ("PATCH", f"/sources/{s}"), ("PUT", f"/sources/{s}"), ("DELETE", f"/sources/{s}"),
        ("POST", f"/sources/{s}/data"),
        ("GET", "/collections"), ("POST", "/collections"), ("GET", f"/collections/{c}"),
        ("PATCH", f"/collections/{c}"), ("PUT", f"/collections/{c}"),
        ("DELETE", f"/collections/{c}"), ("GET", f"/collections/{c}/schemas"),
        ("GET", f"/collections/{c}/schemas/1"), ("GET", f"/collections/{c}/identifiers"),
        ("POST", f"/collections/{c}/identifiers"), ("GET", f"/collections/{c}/data"),
        ("POST", f"/collections/{c}/data"),
        ("GET", "/identifiers"), ("POST", "/identifiers"), ("GET", f"/identifiers/{i}"),
        ("DELETE", f"/identifiers/{i}"), ("GET", f"/relations?collId={c}"),
        ("GET", "/rejected"), ("POST", "/rejected/replay"),
        ("GET", "/keys"), ("POST", "/keys"), ("GET", f"/keys/{k}"), ("DELETE", f"/keys/{k}"),
        ("POST", f"/keys/{k}/rotate"),
        ("GET", "/audit"), ("GET", f"/audit/{objects['audit']['id']}"),
    ]


def new_key(slug, kind, **fields):
    """A raw key of the org, made by the service as an operator would."""
    return api_key_create(actor=ACTOR, org=Org.objects.get(slug=slug), kind=kind, **fields)[1]


def call(root, slug, method, path, headers):
    return httpx.request(method, f"{root}/v1/{slug}{path}", headers=headers, json={}, timeout=30)


def test_every_failure_to_authenticate_is_the_same_401_whatever_exists(api, catalog, orm):
    revoked = ApiKey.objects.create(org_id=ApiKey.objects.filter(
        org__slug=api.org.slug).first().org_id, kind="secret", prefix="x", key_hash="0" * 64)
    api_key_revoke(actor=ACTOR, key=revoked)
    expired = new_key(api.org.slug, "secret", expires_at=timezone.now() + timedelta(seconds=1))
    ApiKey.objects.filter(key_hash=key_hash(expired)).update(
        expires_at=timezone.now() - timedelta(seconds=1))
    bad_headers = [{}, {"Authorization": "Basic eDp5"}, {"Authorization": "ApiKey"},
                   {"x-api-key": expired},
                   {"Authorization": "ApiKey sluice_sk_unknown"}, {"x-api-key": "nope"},
                   {"x-api-key": "x" * 500},
                   # two credentials that disagree, however valid each is
                   {"Authorization": f"ApiKey {api.org.secret_key}", "x-api-key": "nope"},
                   {"Authorization": f"ApiKey {api.org.secret_key}",
                    "x-api-key": api.org.write_key}]
    paths = [("GET", f"/collections/{catalog['collection']['id']}"), ("GET", "/collections/1"),
             ("POST", "/sources")]
    for headers in bad_headers:
        for slug in (api.org.slug, "no-such-org"):
            for method, path in paths:
                answer = call(api.root, slug, method, path, headers)
                assert (answer.status_code, answer.json()) == (401, UNAUTHENTICATED), (
                    headers, slug, path)
                assert answer.headers["WWW-Authenticate"] == "ApiKey"
    assert call(api.root, api.org.slug, "GET", "/sources",
                {"x-api-key": api.org.secret_key}).status_code == 200


def test_a_revoked_key_stops_working_at_once(api, orm):
    assert api.get("/sources").status_code == 200  # the key is cached now
    api_key_revoke(actor=ACTOR, key=ApiKey.objects.get(org__slug=api.org.slug, kind="secret"))
    assert (api.get("/sources").status_code, api.get("/sources").json()) == (401,
                                                                            UNAUTHENTICATED)


def test_a_key_revoked_after_the_shared_cache_restarted_stops_working(api, orm):
    """Redis keeps nothing on disk: catalog changes made after it restarted must still reach
    web processes that hold copies from before."""

    def statuses():  # a connection each, so that every web process answers some
        return {call(api.root, api.org.slug, "GET", "/sources", dict(api.headers)).status_code
                for _ in range(12)}

    cache.delete(GENERATION_KEY)  # Redis restarted
    assert statuses() == {200}
    create_source(api)
    assert statuses() == {200}  # the key is held by every web process
    cache.delete(GENERATION_KEY)  # restarted again
    api_key_revoke(actor=ACTOR, key=ApiKey.objects.get(org__slug=api.org.slug, kind="secret"))
    assert statuses() == {401}


def test_a_write_key_manages_nothing(api, catalog):
    for raw in (api.org.write_key, catalog["source"]["writeKey"]):  # the org's, a source's
        for method, path in every_path(catalog):
            answer = call(api.root, api.org.slug, method, path, {"x-api-key": raw})
            if method == "POST" and path.endswith("/data"):
                assert answer.status_code in (202, 400), (path, answer.text)  # it may send
                continue
            assert (answer.status_code, answer.json()) == (
                403, problem(403, "permission_denied", WRITE_KEY)), (method, path)


def test_a_read_key_reads_and_changes_nothing(api, catalog, orm):
    read = {"x-api-key": new_key(api.org.slug, "read")}
    for method, path in every_path(catalog):
        answer = call(api.root, api.org.slug, method, path, read)
        if method == "GET" and path.startswith("/keys"):
            assert (answer.status_code, answer.json()) == (403, problem(
                403, "permission_denied", SECRET_ONLY)), (method, path)
        elif method == "GET":
            assert answer.status_code == 200, (path, answer.text)
        else:
            assert (answer.status_code, answer.json()) == (
                403, problem(403, "permission_denied", READ_KEY)), (method, path)


def test_another_orgs_key_sees_nothing_and_changes_nothing(api, catalog, make_org, orm):
    other = make_org()
    web = new_key(other.slug, "write", source=Source.objects.get(org__slug=other.slug,
                                                                  name="builtin"))
    for key in (other.secret_key, other.write_key, new_key(other.slug, "read"), web):
        for method, path in every_path(catalog):
            answer = call(api.root, api.org.slug, method, path, {"x-api-key": key})
            assert (answer.status_code, answer.json()) == (
                404, problem(404, "not_found", NOT_FOUND)), (method, path)
    # nor can its own requests name this org's objects
    with type(api)(api.root, other) as their_api:
        their_coll = create_collection(their_api, create_source(their_api)["id"], name="mine")
        for body in ({"collId": catalog["collection"]["id"]},
                     {"collId": their_coll["id"], "referenceId": catalog["identifier"]["id"],
                      "type": "foreign"}):
            answer = their_api.post("/identifiers", json={
                "type": "primary", "name": "x", "schema": key_schema("x", ("eventId", "string")),
                **body})
            assert answer.status_code == 400
            assert answer.json()["errors"][0]["code"] == "not_found"
        names = [c["name"] for c in their_api.get("/collections", params={"size": 50}).json()[
            "_embedded"]["collections"]]
        assert "bookings" not in names
    # and everything of this org is as it was
    assert api.get(f"/collections/{catalog['collection']['id']}").json() == \
        catalog["collection"]
    assert api.get(f"/identifiers/{catalog['identifier']['id']}").json() == \
        catalog["identifier"]
    assert api.get(f"/sources/{catalog['source']['id']}").json() == {
        name: value for name, value in catalog["source"].items() if name != "writeKey"}


def test_errors_are_json_everywhere(api):
    unknown = httpx.get(f"{api.root}/nowhere")
    assert unknown.status_code == 404
    assert unknown.headers["content-type"] == "application/problem+json"
    assert unknown.json() == problem(404, "not_found", NOT_FOUND)
    wrong_method = api.delete("/sources")
    assert wrong_method.status_code == 405
    assert wrong_method.json() == problem(405, "method_not_allowed",
                                          'Method "DELETE" not allowed.')
    assert api.get("/collections/99999").json() == problem(404, "not_found", NOT_FOUND)
    assert api.get("/sources", params={"size": "0"}).json()["errors"][0]["attr"] == "size"
