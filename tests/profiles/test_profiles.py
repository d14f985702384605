"""Profiles through the live stack: a profile with the records pointing at it, an account
tree read at once, a visitor stitched into a known user, and an erasure that leaves nothing."""

import httpx
import pytest

from apps.profiles.models import Merge
from apps.records.models import Record
from tests.helpers import hal_links, org_base, wait_for


@pytest.fixture
def v3(api, worker):
    with httpx.Client(base_url=f"{api.root}/v3", timeout=30,
                      headers={"x-api-key": api.org.secret_key}) as client:
        yield client


def stored(api, collection, key):
    return wait_for(lambda: Record.objects.filter(
        collection__org__slug=api.org.slug, collection__name=collection, key=key).first())


def event(event_id, **who):
    return {"eventId": event_id, "description": f"did {event_id}",
            "timestamp": "2024-03-01T10:00:00Z", **who}


def related_ids(api, url):
    ids, pages = [], 0
    while url:
        page = api.get(url).json()
        ids += [r["data"]["eventId"] for r in page["_embedded"]["records"]]
        url = page["_links"].get("next", {}).get("href")
        pages += 1
    return ids, pages


def test_a_profile_links_the_records_pointing_at_it(api, v3, orm):
    v3.post("/account", json={"accountId": "acme"})
    v3.post("/user", json={"userId": "u1", "accountId": "acme", "email": "ann@acme.example"})
    v3.put("/event", json=[event(f"e{i}", userId="u1") for i in range(5)]
           + [event("other", userId="u2")])
    stored(api, "users", "u1")
    wait_for(lambda: Record.objects.filter(collection__org__slug=api.org.slug,
                                           collection__name="events").count() == 6)
    profile = api.get("/profiles/users/u1").json()
    base = f"{api.root}/v1/{api.org.slug}/profiles/users/u1"
    assert profile["collection"] == "users" and profile["key"] == "u1"
    assert profile["record"]["data"]["email"] == "ann@acme.example"
    assert profile["mergedVisitors"] == []
    assert profile["_links"]["self"]["href"] == base
    assert set(profile["_links"]) == {"self", "collection", "events", "pages"}
    assert profile["_links"]["events"]["href"] == f"{base}/related/events"
    ids, pages = related_ids(api, profile["_links"]["events"]["href"] + "?limit=2")
    assert (ids, pages) == (["e4", "e3", "e2", "e1", "e0"], 3)
    assert api.get("/profiles/users/nobody").status_code == 404
    assert api.get("/profiles/events/e1").status_code == 404  # not a profile collection


def test_an_account_is_read_with_its_descendants(api, v3, orm):
    v3.post("/account", json=[{"accountId": "acme"},
                              {"accountId": "retail", "parentAccountId": "acme"},
                              {"accountId": "retail-eu", "parentAccountId": "retail"},
                              {"accountId": "globex"}])
    v3.put("/event", json=[event("a", accountId="acme"), event("r", accountId="retail"),
                           event("eu", accountId="retail-eu"), event("g", accountId="globex")])
    wait_for(lambda: Record.objects.filter(collection__org__slug=api.org.slug,
                                           collection__name="events").count() == 4)
    stored(api, "accounts", "retail-eu")
    url = "/profiles/accounts/acme/related/events"
    assert related_ids(api, url)[0] == ["a"]
    assert sorted(related_ids(api, url + "?includeChildren=true")[0]) == ["a", "eu", "r"]
    assert sorted(related_ids(api, "/profiles/accounts/retail/related/events"
                                   "?includeChildren=true")[0]) == ["eu", "r"]
    users = api.get("/profiles/users/x/related/events", params={"includeChildren": "true"})
    assert users.status_code == 400
    assert users.json()["errors"] == [{"attr": "includeChildren", "code": "invalid",
                                       "detail": "Only accounts have children."}]


def test_an_anonymous_visitor_is_stitched_into_the_user_it_becomes(api, v3, orm):
    # before identify: the browser's visitor sends page views and events with no user
    api.post("/collections/events/data", json=[
        {"eventId": "anon-1", "event": "viewed pricing", "visitorId": "v-9",
         "timestamp": "2024-03-01T09:00:00Z"}])
    stored(api, "events", "anon-1")
    # identify: a users record carries both ids
    api.post("/collections/users/data", json={"userId": "u7", "visitorId": "v-9"})
    wait_for(lambda: Merge.objects.filter(org__slug=api.org.slug).exists())
    v3.put("/event", json=[event("known-1", userId="u7")])
    stored(api, "events", "known-1")
    profile = api.get("/profiles/users/u7").json()
    assert profile["mergedVisitors"] == ["v-9"]
    assert sorted(related_ids(api, profile["_links"]["events"]["href"])[0]) == [
        "anon-1", "known-1"]
    # the same visitor later identified as another user is not merged again
    api.post("/collections/users/data", json={"userId": "u8", "visitorId": "v-9"})
    answer = wait_for(lambda: len((a := api.get("/profiles/merges").json())["merges"]) == 2
                      and a)
    created = [m.created_at.isoformat().replace("+00:00", "Z")
               for m in Merge.objects.filter(org__slug=api.org.slug).order_by("id")]
    assert answer == {"merges": [
        {"visitorId": "v-9", "userId": user, "status": status, "createdAt": at,
         "_links": {"profile": {"href": f"{org_base(api)}/profiles/users/{user}"}}}
        for (user, status), at in zip([("u7", "merged"), ("u8", "conflict")], created,
                                      strict=True)],
        "_links": hal_links(org_base(api), "/profiles/merges")}
    assert api.get("/profiles/users/u8").json()["mergedVisitors"] == []


def test_erasing_a_user_leaves_no_record_of_it(api, v3, orm):
    v3.post("/user", json={"userId": "gone", "visitorId": "v-gone"})
    v3.put("/event", json=[event("g1", userId="gone"), event("keep", userId="stays")])
    api.post("/collections/pages/data", json={"eventId": "p1", "url": "https://x.example/",
                                               "userId": "gone",
                                               "timestamp": "2024-03-01T09:00:00Z"})
    api.post("/collections/events/data", json={"eventId": "anon", "event": "x",
                                                "visitorId": "v-gone",
                                                "timestamp": "2024-03-01T08:00:00Z"})
    for collection, key in [("users", "gone"), ("events", "g1"), ("pages", "p1"),
                            ("events", "anon"), ("events", "keep")]:
        stored(api, collection, key)
    wait_for(lambda: Merge.objects.filter(org__slug=api.org.slug, user_id="gone").exists())
    erased = api.delete("/profiles/users/gone")
    assert erased.status_code == 200
    users = api.get("/collections/users").json()["id"]
    assert erased.json() == {"deleted": {"users": 1, "events": 2, "pages": 1},
                             "_links": hal_links(org_base(api), "/profiles/users/gone",
                                                 collection=f"/collections/{users}")}
    left = Record.objects.filter(collection__org__slug=api.org.slug)
    assert not [r for r in left if "gone" in str(r.data)]
    assert left.filter(key="keep").exists()
    assert api.get("/profiles/users/gone").status_code == 404
    assert api.delete("/profiles/users/gone").status_code == 404
