"""The audit trail: every change to an org's catalog and keys, made through the API, the admin
or manage.py, is listed at /v1/<org>/audit with who made it and the object before and after;
a refused change leaves nothing; no other org sees it."""

import os
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import Client

from apps.audit.models import Action
from apps.audit.services import NotInTransaction, record
from apps.orgs.models import ApiKey, Org
from tests.fixtures import ACTOR, schema
from tests.helpers import (
    NOT_FOUND,
    WRITE_KEY,
    create_collection,
    create_source,
    key_schema,
    problem,
)


def entries(api: Any, **filters: str) -> list[dict[str, Any]]:
    answer = api.get("/audit", params={"size": "200", **filters})
    assert answer.status_code == 200, answer.text
    return answer.json()["_embedded"]["audit"]  # type: ignore[no-any-return]


def key_actor(api: Any) -> dict[str, str]:
    key = ApiKey.objects.get(org__slug=api.org.slug, kind="secret", revoked_at=None)
    return {"type": "key", "id": str(key.id), "name": api.org.secret_key[:14]}


def shown(body: dict[str, Any]) -> dict[str, Any]:
    """An object as the API answered it, but for its links: what the trail keeps of it."""
    return {name: value for name, value in body.items() if name != "_links"}


def without_time(entry: dict[str, Any]) -> dict[str, Any]:
    """The entry but for its id and time (checked apart)."""
    return {name: value for name, value in entry.items() if name not in ("id", "at")}


def test_each_change_through_the_api_is_listed_with_its_key_and_both_sides(api, orm):
    source = api.post("/sources", json={"name": "shop", "type": "server"},
                      headers={"X-Request-ID": "req-source-1"}).json()
    collection = create_collection(api, source["id"], name="bookings")
    v2 = api.post(f"/collections/{collection['id']}/schemas",
                  json={"schema": schema("flight-booking-v2")})
    assert v2.status_code == 201, v2.text
    identifier = api.post("/identifiers", json={
        "collId": collection["id"], "type": "primary", "name": "booking",
        "schema": key_schema("booking", ("bookingId", "string"))}).json()
    assert api.delete(f"/identifiers/{identifier['id']}").status_code == 204
    newest = entries(api)
    actor, base = key_actor(api), f"{api.root}/v1/{api.org.slug}"
    version_1 = shown(api.get(f"/collections/{collection['id']}/schemas/1").json())
    assert [without_time(entry) for entry in newest[:3]] == [
        {"actor": actor, "action": "identifier.deleted",
         "target": {"type": "identifier", "id": identifier["id"]},
         "before": shown(identifier), "after": None, "requestId": None,
         "_links": {"self": {"href": f"{base}/audit/{newest[0]['id']}"},
                    "target": {"href": f"{base}/identifiers/{identifier['id']}"}}},
        {"actor": actor, "action": "identifier.created",
         "target": {"type": "identifier", "id": identifier["id"]},
         "before": None, "after": shown(identifier), "requestId": None,
         "_links": {"self": {"href": f"{base}/audit/{newest[1]['id']}"},
                    "target": {"href": f"{base}/identifiers/{identifier['id']}"}}},
        {"actor": actor, "action": "schema.version_added",
         "target": {"type": "collection", "id": collection["id"]},
         "before": version_1, "after": shown(v2.json()), "requestId": None,
         "_links": {"self": {"href": f"{base}/audit/{newest[2]['id']}"},
                    "target": {"href": f"{base}/collections/{collection['id']}"}}},
    ]
    assert (version_1["schema"], newest[2]["after"]["schema"]) == (
        schema("flight-booking"), schema("flight-booking-v2"))
    assert (newest[3]["action"], newest[3]["before"], newest[3]["after"]) == (
        "collection.created", None, shown(collection))
    assert newest[4] == {
        "id": newest[4]["id"], "at": newest[4]["at"], "actor": actor,
        "action": "source.created", "target": {"type": "source", "id": source["id"]},
        "before": None, "after": shown(source),
        "requestId": "req-source-1",
        "_links": {"self": {"href": f"{base}/audit/{newest[4]['id']}"},
                   "target": {"href": f"{base}/sources/{source['id']}"}}}
    assert api.get(f"/audit/{newest[4]['id']}").json() == newest[4]
    assert all(abs(datetime.fromisoformat(e["at"]) - datetime.now(UTC)) < timedelta(minutes=5)
               for e in newest[:5])


def test_a_schema_change_through_the_collection_shows_both_its_versions(api, orm):
    collection = create_collection(api, create_source(api)["id"], name="bookings")
    changed = api.patch(f"/collections/{collection['id']}",
                        json={"schema": schema("flight-booking-v2"), "compatibility": "FULL"})
    assert changed.status_code == 200, changed.text
    updated, added = entries(api, targetId=collection["id"])[:2]
    assert (updated["action"], added["action"]) == ("collection.updated", "schema.version_added")
    assert (updated["before"], updated["after"]) == (shown(collection), shown(changed.json()))
    assert (updated["after"]["schemaVersion"], updated["after"]["compatibility"]) == (2, "FULL")


def test_a_refused_change_records_nothing(api, orm):
    collection = create_collection(api, create_source(api)["id"], name="bookings")
    listed = entries(api)
    breaking = schema("flight-booking")
    breaking["fields"] = [{**field, "type": "long"} if field["name"] == "flightId" else field
                          for field in breaking["fields"]]
    answer = api.post(f"/collections/{collection['id']}/schemas", json={"schema": breaking})
    assert (answer.status_code, answer.json()["code"]) == (409, "incompatible_schema")
    taken = api.post("/sources", json={"name": "mywebsource", "type": "server"})
    assert (taken.status_code, taken.json()["code"]) == (409, "duplicate_name")
    assert entries(api) == listed


def test_keys_made_and_revoked_by_manage_py_are_listed_as_its_doing(api, orm, capsys):
    call_command("new_key", api.org.slug, "--kind", "write", "--revoke-old")
    revoked, created = entries(api, action="key")[:2]
    old = ApiKey.objects.get(org__slug=api.org.slug, kind="write", revoked_at__isnull=False)
    new = ApiKey.objects.get(org__slug=api.org.slug, kind="write", revoked_at=None)
    system = {"type": "system", "id": "", "name": "manage.py new_key"}
    assert (revoked["actor"], revoked["action"], revoked["target"]) == (
        system, "key.revoked", {"type": "key", "id": str(old.id)})
    assert revoked["before"] == {
        "id": str(old.id), "prefix": old.prefix, "kind": "write", "name": "default write key",
        "createdAt": revoked["before"]["createdAt"], "revokedAt": None}
    assert revoked["after"] == {**revoked["before"],
                                "revokedAt": revoked["after"]["revokedAt"]}
    assert revoked["after"]["revokedAt"] is not None
    assert (created["actor"], created["action"], created["target"], created["before"]) == (
        system, "key.created", {"type": "key", "id": str(new.id)}, None)
    assert created["after"]["prefix"] == new.prefix
    for entry in (revoked, created):  # only the shown prefix of a key, never more
        text = str(entry)
        assert new.key_hash not in text and old.key_hash not in text
        assert "key_hash" not in text and "keyHash" not in text


def test_a_change_in_the_admin_is_listed_as_its_user_s(api, orm):
    source = create_source(api, name="shop", type="server")
    user = User.objects.create_superuser(f"auditor{os.getpid()}", "a@example.com", "x")
    admin = Client()
    admin.force_login(user)
    changed = admin.post(f"/admin/sources/source/{source['id']}/change/", {
        "org": Org.objects.get(slug=api.org.slug).pk, "name": "shop", "title": "The shop",
        "description": "", "type": "server", "allowed_origins": "[]"})
    assert changed.status_code == 302, changed.content.decode()[:2000]
    updated = entries(api, action="source.updated")[0]
    assert updated["actor"] == {"type": "user", "id": str(user.pk), "name": user.username}
    assert (updated["before"]["title"], updated["after"]["title"]) == ("myWebSource",
                                                                      "The shop")
    assert updated["after"] == shown(api.get(f"/sources/{source['id']}").json())
    # and the trail is in the admin, to read only
    listed = admin.get("/admin/audit/auditentry/", {"action": "source.updated"})
    assert listed.status_code == 200 and user.username in listed.content.decode()
    entry = admin.get(f"/admin/audit/auditentry/{updated['id']}/change/").content.decode()
    assert "The shop" in entry and 'name="_save"' not in entry
    assert admin.get("/admin/audit/auditentry/add/").status_code == 403
    assert admin.post(f"/admin/audit/auditentry/{updated['id']}/delete/").status_code == 403


def test_a_key_revoked_in_the_admin_is_listed_as_its_user_s(api, orm):
    user = User.objects.create_superuser(f"revoker{os.getpid()}", "r@example.com", "x")
    admin = Client()
    admin.force_login(user)
    write = ApiKey.objects.get(org__slug=api.org.slug, kind="write")
    answer = admin.post("/admin/orgs/apikey/", {"action": "revoke",
                                                "_selected_action": [write.pk]})
    assert answer.status_code == 302
    revoked = entries(api, action="key.revoked")[0]
    assert (revoked["actor"]["name"], revoked["target"]["id"]) == (user.username, str(write.pk))


def test_the_list_filters_and_pages(api, orm):
    first = create_source(api, name="one", type="server")
    second = create_source(api, name="two", type="server")
    assert api.patch(f"/sources/{first['id']}", json={"title": "One"}).status_code == 200
    by_target = entries(api, targetType="source", targetId=first["id"])
    assert [e["action"] for e in by_target] == ["source.updated", "source.created"]
    assert [e["target"]["id"] for e in entries(api, action="source.created")][:2] == [
        second["id"], first["id"]]
    assert {e["action"] for e in entries(api, action="source")} == {"source.created",
                                                                    "source.updated"}
    later = (datetime.now(UTC) + timedelta(minutes=5)).isoformat()
    assert entries(api, since=later) == []
    assert len(entries(api, until=later)) == len(entries(api))
    paged = api.get("/audit", params={"size": "2", "targetType": "source"}).json()
    # and the org's built-in source, made with it
    assert paged["page"] == {"size": 2, "totalElements": 4, "totalPages": 2, "number": 0}
    assert paged["_links"]["next"]["href"].endswith("page=1")
    for name, value in (("action", "source.renamed"), ("targetType", "record"),
                        ("targetId", "abc"), ("since", "yesterday")):
        refused = api.get("/audit", params={name: value})
        assert refused.status_code == 400
        assert refused.json()["errors"][0]["attr"] == name


def test_only_a_secret_key_of_the_org_reads_its_trail(api, make_org, orm):
    create_source(api)
    other = make_org()
    for path in ("/audit", f"/audit/{entries(api)[0]['id']}"):
        theirs = api.get(path, headers={"Authorization": f"ApiKey {other.secret_key}"})
        assert (theirs.status_code, theirs.json()) == (404, problem(404, "not_found",
                                                                    NOT_FOUND))
        write = api.get(path, headers={"Authorization": f"ApiKey {api.org.write_key}"})
        assert (write.status_code, write.json()) == (403, problem(403, "permission_denied",
                                                                  WRITE_KEY))
    with type(api)(api.root, other) as their_api:
        assert all(e["target"]["type"] in ("org", "key", "source", "collection", "identifier")
                   for e in entries(their_api))
        assert api.org.slug not in str(entries(their_api))


def test_a_change_is_recorded_only_inside_its_transaction(orm):
    org = Org.objects.first()
    with pytest.raises(NotInTransaction):
        record(actor=ACTOR, org=org, action=Action.ORG_UPDATED, target_type="org",
               target_id=org.id)


def test_the_org_s_default_mode_set_through_config_is_an_org_change(api, orm):
    assert api.put("/config", json={"compatibility": "FULL"}).status_code == 200
    changed = entries(api, action="org.updated")[0]
    org = Org.objects.get(slug=api.org.slug)
    shown_org = {"slug": org.slug, "name": org.name, "compatibility": "BACKWARD",
                 "rateLimitKey": None, "rateLimitKeyBurst": None, "rateLimitOrg": None,
                 "rateLimitOrgBurst": None, "rejectedCap": None}
    base = f"{api.root}/v1/{api.org.slug}"
    assert without_time(changed) == {
        "actor": key_actor(api), "action": "org.updated",
        "target": {"type": "org", "id": str(org.id)},
        "before": shown_org, "after": {**shown_org, "compatibility": "FULL"},
        "requestId": None,
        "_links": {"self": {"href": f"{base}/audit/{changed['id']}"},
                   "target": {"href": f"{base}/config"}}}


def test_a_delete_in_the_admin_is_checked_and_listed_as_its_user_s(api, orm):
    collection = create_collection(api, create_source(api)["id"], name="bookings")
    builtin = api.get("/collections/events").json()
    user = User.objects.create_superuser(f"deleter{os.getpid()}", "d@example.com", "x")
    admin = Client()
    admin.force_login(user)
    refused = admin.post(f"/admin/catalog/collection/{builtin['id']}/delete/", {"post": "yes"},
                         follow=True)
    assert "is built in" in refused.content.decode()
    assert api.get("/collections/events").status_code == 200
    assert entries(api, action="collection.deleted") == []
    deleted = admin.post(f"/admin/catalog/collection/{collection['id']}/delete/",
                         {"post": "yes"})
    assert deleted.status_code == 302
    assert api.get(f"/collections/{collection['id']}").status_code == 404
    gone = entries(api, action="collection.deleted")[0]
    assert (gone["actor"]["name"], gone["before"], gone["after"]) == (
        user.username, shown(collection), None)
