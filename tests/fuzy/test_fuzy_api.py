"""The Fuzy-style API: products, a three-level account tree, users and events, stored as
records of the built-in collections and readable through the data API too."""

import httpx

from tests.fuzy.helpers import stored
from tests.helpers import hal_links, validation, wait_for


def test_the_seed_flow(api, v3, orm):
    products = v3.get("/product").json()["products"]
    assert products == [{"productId": "default", "name": "Default product",
                         "description": None, "isDefault": True}]
    assert v3.post("/product", json={"productId": "ios", "name": "iOS app"}
                   ).status_code == 202
    tree = [{"accountId": "acme", "name": "Acme Corp",
             "paymentProcessorIds": {"stripe": "cus_123"}},
            {"accountId": "acme-retail", "parentAccountId": "acme"},
            {"accountId": "acme-retail-eu", "parentAccountId": "acme-retail"}]
    assert v3.post("/account", json={"accounts": tree}).json()["accepted"] == 3
    assert v3.post("/user", json={"userId": "u1", "accountId": "acme-retail-eu",
                                  "email": "ann@acme.example",
                                  "paymentProcessorIds": {"stripe": "cus_9"},
                                  "traits": {"plan": "pro"}}).status_code == 202
    stored(api, "users", "u1")
    user = v3.get("/user/u1").json()
    assert (user["accountId"], user["_links"]) == ("acme-retail-eu", hal_links(
        api.root, "/v3/user/u1", account="/v3/account/acme-retail-eu"))
    assert v3.get("/account/acme").json()["paymentProcessorIds"] == {"stripe": "cus_123"}

    answer = v3.put("/event", json={"events": [
        {"eventId": "e1", "description": "clicked export", "timestamp": "2024-03-01T10:00:00Z",
         "userId": "u1", "productId": "ios"},
        {"eventId": "e2", "description": "signed up", "timestamp": "2024-03-01T11:00:00Z",
         "user": {"userId": "u2", "email": "bo@globex.example",
                  "account": {"accountId": "globex", "name": "Globex"}}},
    ]}, headers={"x-api-key": api.org.write_key})
    assert answer.status_code == 202
    assert answer.json() == {"accepted": 4, "rejected": [], "warnings": [],
                             "_links": hal_links(api.root, "/v3/event")}
    first, second = stored(api, "events", "e1"), stored(api, "events", "e2")
    assert (first.data["event"], first.data["userId"], first.data["productId"]) == (
        "clicked export", "u1", "ios")
    assert (second.data["userId"], second.data["accountId"], second.data["productId"]) == (
        "u2", "globex", "default")
    assert second.identifiers == {"eventId": "e2", "userId": "u2", "accountId": "globex",
                                  "productId": "default"}
    assert stored(api, "users", "u2").data["accountId"] == "globex"
    assert stored(api, "accounts", "globex").data["name"] == "Globex"
    # an event naming u1 and its account again changes nothing else of them
    before = stored(api, "users", "u1")
    v3.put("/event", json={"eventId": "e3", "description": "again",
                           "timestamp": "2024-03-01T12:00:00Z",
                           "user": {"userId": "u1", "account": {"accountId": "acme-retail-eu"}}})
    stored(api, "events", "e3")
    user = wait_for(lambda: (u := stored(api, "users", "u1")).updated_at > before.updated_at
                    and u)
    assert (user.data["email"], user.data["traits"]) == ("ann@acme.example", {"plan": "pro"})
    assert stored(api, "accounts", "acme-retail-eu").data["parentAccountId"] == "acme-retail"
    via_data_api = api.get("/collections/events/data", params={"userId": "u1"}).json()
    assert [r["data"]["eventId"] for r in via_data_api["_embedded"]["records"]] == ["e3", "e1"]


def test_bad_events_and_accounts_are_400s_naming_what_is_missing(api, v3, orm):
    answer = v3.put("/event", json=[{"timestamp": "2024-03-01T10:00:00Z"},
                                    {"description": "x", "user": {"email": "a@b"}}])
    assert answer.status_code == 400
    assert answer.json() == validation(
        ("events[0].description", "required", "`description` is required."),
        ("events[0]", "user_or_account_required", "An event needs a user (`user` or "
         "`userId`) and/or an account (`account` or `accountId`)."),
        ("events[1].timestamp", "required", "`timestamp` is required."),
        ("events[1].user.userId", "required", "`userId` is required."),
        ("events[1]", "user_or_account_required", "An event needs a user (`user` or "
         "`userId`) and/or an account (`account` or `accountId`)."))
    v3.post("/account", json=[{"accountId": "a"}, {"accountId": "b", "parentAccountId": "a"}])
    stored(api, "accounts", "b")
    cycle = v3.post("/account", json={"accountId": "a", "parentAccountId": "b"})
    assert cycle.json() == validation(("accounts[0].parentAccountId", "account_cycle",
                                       "Account 'a' would be its own ancestor."))
    assert v3.post("/user", json={"email": "x"}).json() == validation(
        ("users[0].userId", "required", "`userId` is required."))
    surrogate = v3.post("/user", content=b'{"userId": "\\ud800"}',
                        headers={"Content-Type": "application/json"})
    assert surrogate.json() == validation(("users[0].userId", "lone_surrogate",
                                           "Strings may not contain a lone UTF-16 surrogate."))
    write = {"x-api-key": api.org.write_key}
    assert v3.get("/product", headers=write).status_code == 403
    assert httpx.get(f"{api.root}/v3/product").status_code == 401
    assert v3.get("/user/nobody").status_code == 404


def test_an_event_naming_only_its_user_counts_under_the_users_account(api, v3, orm):
    """Seed 002: users belong to accounts. An event that names only the user takes the
    account the user belongs to when the event is stored, so it shows under that account and
    its parents; the user and the event may be sent one right after the other."""
    v3.post("/account", json=[{"accountId": "acme"},
                              {"accountId": "acme-retail", "parentAccountId": "acme"}])
    v3.post("/user", json={"userId": "u3", "accountId": "acme-retail"})
    v3.post("/user", json={"userId": "loner"})
    v3.put("/event", json=[
        {"eventId": "e-u3", "description": "opened", "timestamp": "2024-03-01T10:00:00Z",
         "user": {"userId": "u3"}},
        {"eventId": "e-loner", "description": "opened", "timestamp": "2024-03-01T10:00:00Z",
         "userId": "loner"},
        {"eventId": "e-own", "description": "opened", "timestamp": "2024-03-01T10:00:00Z",
         "userId": "u3", "accountId": "globex"},
    ])
    event = stored(api, "events", "e-u3", until=lambda r: r.data["accountId"] is not None)
    assert (event.data["accountId"], event.identifiers["accountId"]) == ("acme-retail",
                                                                         "acme-retail")
    assert stored(api, "events", "e-loner").data["accountId"] is None
    assert stored(api, "events", "e-own").data["accountId"] == "globex"  # named: kept
    related = api.get("/profiles/accounts/acme/related/events",
                      params={"includeChildren": "true"}).json()
    assert [r["data"]["eventId"] for r in related["_embedded"]["records"]] == ["e-u3"]

    # at the time the event is stored: a user who moves takes later events along, not earlier
    v3.post("/user", json={"userId": "u3", "accountId": "acme"})
    stored(api, "users", "u3", until=lambda r: r.data["accountId"] == "acme")
    v3.put("/event", json={"eventId": "e-later", "description": "x",
                           "timestamp": "2024-03-02T10:00:00Z", "userId": "u3"})
    assert stored(api, "events", "e-later",
                  until=lambda r: r.data["accountId"] is not None).data["accountId"] == "acme"
    assert stored(api, "events", "e-u3").data["accountId"] == "acme-retail"
