"""Sources, collections, schema versions, identifiers and relations through the live API:
each endpoint's success and its 4xx answers, with exact bodies."""

import pytest

from apps.catalog.compatibility import fingerprint
from apps.catalog.models import Collection
from tests.factories import RecordFactory
from tests.fixtures import FIXTURES, schema
from tests.helpers import (
    CURL_FORM,
    NOT_FOUND,
    create_collection,
    create_identifier,
    create_source,
    key_schema,
    problem,
    validation,
    wait_for,
)

BUILTINS = ["products", "accounts", "users", "events", "pages"]


def links(api, path, **named):
    base = f"{api.root}/v1/{api.org.slug}"
    return {name: {"href": f"{base}{value}"} for name, value in {"self": path, **named}.items()}


# ---------------------------------------------------------------------------
# Sources
# ---------------------------------------------------------------------------
def test_sources_are_created_read_updated_listed_and_deleted(api):
    web = create_source(api, "shop", allowedOrigins=["https://Shop.example:8443/"])
    assert web == {
        "id": web["id"], "name": "shop", "title": "myWebSource", "description": "",
        "type": "web", "trackerId": web["trackerId"],
        "allowedOrigins": ["https://shop.example:8443"], "createdAt": web["createdAt"],
        "writeKey": web["writeKey"],  # its own, shown this once
        "_links": links(api, f"/sources/{web['id']}", data=f"/sources/{web['id']}/data",
                        collections=f"/collections?sourceId={web['id']}"),
    }
    assert len(web["trackerId"]) == 16 and web.pop("writeKey").startswith("sluice_wk_")
    server = create_source(api, "backend", type="server")
    assert server["trackerId"] is None and "writeKey" not in server
    assert api.get(f"/sources/{web['id']}").json() == web
    assert api.get("/sources/shop").json() == web

    changed = api.patch(f"/sources/{web['id']}", json={"title": "The shop"})
    assert changed.status_code == 200 and changed.json()["title"] == "The shop"
    replaced = api.put(f"/sources/{server['id']}", json={"name": "backend", "type": "web"})
    assert replaced.json()["type"] == "web" and replaced.json()["trackerId"]

    listed = api.get("/sources", params={"size": 2}).json()
    assert [s["name"] for s in listed["_embedded"]["sources"]] == ["builtin", "shop"]
    assert listed["page"] == {"size": 2, "totalElements": 3, "totalPages": 2, "number": 0}
    assert listed["_links"]["next"]["href"].endswith("/sources?size=2&page=1")
    assert "prev" not in listed["_links"]
    second = api.get(listed["_links"]["next"]["href"]).json()
    assert [s["name"] for s in second["_embedded"]["sources"]] == ["backend"]
    assert second["_links"]["prev"]["href"].endswith("/sources?size=2&page=0")

    assert api.delete(f"/sources/{server['id']}").status_code == 204
    assert api.get(f"/sources/{server['id']}").json() == problem(404, "not_found", NOT_FOUND)


def test_source_errors(api):
    create_source(api, "shop")
    duplicate = api.post("/sources", json={"name": "shop", "type": "web"})
    assert duplicate.status_code == 409
    assert duplicate.json() == problem(409, "duplicate_name", "A source named 'shop' exists "
                                       "already in this org. Choose another name.")
    bad = api.post("/sources", json={"name": "x", "type": "fax",
                                     "allowedOrigins": ["shop.example"]})
    assert bad.status_code == 400
    assert bad.json() == validation(
        ("type", "invalid_choice", '"fax" is not a valid choice.'),
        ("allowedOrigins", "invalid", "'shop.example' is not an origin: write "
         "scheme://host[:port], e.g. https://shop.example."),
    )
    source = create_source(api, "web2")
    create_collection(api, source["id"], name="bookings")
    in_use = api.delete(f"/sources/{source['id']}")
    assert in_use.status_code == 409
    assert in_use.json() == problem(409, "source_in_use", "The source still has collections "
                                    "(bookings). Delete or move them first.")
    deep = api.post("/sources", content=b"[" * 5000, headers={"Content-Type": "application/json"})
    detail = "The body is not valid JSON (nested too deeply). Send one JSON object or array."
    assert (deep.status_code, deep.json()) == (400, problem(400, "parse_error", detail))


# ---------------------------------------------------------------------------
# Collections and schema versions
# ---------------------------------------------------------------------------
def test_a_schema_change_is_a_new_version_and_old_versions_stay_readable(api):
    source = create_source(api)
    avro = schema("flight-booking")
    avro["fields"][2]["doc"] = "the airline's booking reference"
    collection = create_collection(api, source["id"], name="bookings", avro=avro)
    coll_id = collection["id"]
    assert collection["schema"]["fields"][2] == {
        "name": "bookingId", "type": "string", "display": True, "title": "Booking ID",
        "doc": "the airline's booking reference"}
    assert api.get(f"/collections/{coll_id}").json() == collection
    assert api.get("/collections/bookings").json() == collection
    assert api.get(f"/collections/{int(coll_id)}").json() == collection

    same = api.patch(f"/collections/{coll_id}", json={"schema": avro}).json()
    assert same["schemaVersion"] == 1
    wider = {**avro, "fields": [*avro["fields"], {"name": "seat", "type": ["null", "string"],
                                                  "default": None}]}
    assert api.patch(f"/collections/{coll_id}", json={"schema": wider}).json()[
        "schemaVersion"] == 2
    versions = api.get(f"/collections/{coll_id}/schemas").json()
    assert [(v["version"], v["schema"]) for v in versions["_embedded"]["schemas"]] == [
        (1, avro), (2, wider)]
    second = api.get(f"/collections/{coll_id}/schemas/2").json()
    assert second == {
        "collId": coll_id, "version": 2, "schema": wider,
        "fingerprint": fingerprint(wider), "createdAt": second["createdAt"],
        "_links": links(api, f"/collections/{coll_id}/schemas/2",
                        collection=f"/collections/{coll_id}")}
    assert api.get(f"/collections/{coll_id}/schemas/3").status_code == 404

    mine = api.get("/collections", params={"sourceId": source["id"]}).json()
    assert [c["name"] for c in mine["_embedded"]["collections"]] == ["bookings"]
    everything = api.get("/collections", params={"size": 50}).json()
    assert [c["name"] for c in everything["_embedded"]["collections"]] == [*BUILTINS, "bookings"]
    assert api.delete(f"/collections/{coll_id}").status_code == 204
    assert api.get(f"/collections/{coll_id}").status_code == 404


BAD_SCHEMAS = {
    "unknown type": (
        {"type": "record", "name": "x", "fields": [{"name": "a", "type": "string"},
                                                   {"name": "b", "type": "strin"}]},
        [("schema.fields[1].type", "Unknown type 'strin'. Use a primitive (boolean, bytes, "
          "double, float, int, long, null, string) or the name of a record, enum or fixed "
          "defined earlier in the schema.")]),
    "no fields": ({"type": "record", "name": "x"},
                  [("schema.fields", "A record needs a `fields` list.")]),
    "duplicate field": (
        {"type": "record", "name": "x", "fields": [{"name": "a", "type": "int"},
                                                   {"name": "b", "type": "int"},
                                                   {"name": "a", "type": "long"}]},
        [("schema.fields[2].name", "The field 'a' is defined twice.")]),
    "union with a duplicate branch": (
        {"type": "record", "name": "x", "fields": [{"name": "a",
                                                    "type": ["null", "string", "string"]}]},
        [("schema.fields[0].type[2]", "The union already has a 'string' branch.")]),
    "not a record": ({"type": "array", "items": "string"},
                     [("schema.type", 'A collection schema is an Avro record: {"type": '
                       '"record", "name": ..., "fields": [...]}.')]),
    "bad field name": (
        {"type": "record", "name": "x", "fields": [{"name": "9lives", "type": "int"}]},
        [("schema.fields[0].name", "A field name starts with a letter or _ and holds only "
          "letters, digits and _.")]),
}


@pytest.mark.parametrize("case", BAD_SCHEMAS)
def test_an_invalid_schema_is_a_400_naming_where(api, case):
    avro, errors = BAD_SCHEMAS[case]
    source = create_source(api)
    answer = api.post("/collections", json={"sourceId": source["id"], "name": "bad",
                                            "schema": avro})
    assert answer.status_code == 400
    assert answer.json() == validation(*[(attr, "invalid_schema", d) for attr, d in errors])


def test_collection_errors(api, make_org):
    source = create_source(api)
    create_collection(api, source["id"], name="bookings")
    body = {"sourceId": source["id"], "name": "bookings", "schema": schema("flight-booking")}
    duplicate = api.post("/collections", json=body)
    assert duplicate.status_code == 409
    assert duplicate.json() == problem(409, "duplicate_name", "A collection named 'bookings' "
                                       "exists already in this org. Choose another name or "
                                       "update that collection.")
    assert api.post("/collections", json={**body, "name": "b2", "sourceId": "123"}).json() == \
        validation(("sourceId", "not_found", "No source with this id in this org."))
    other = make_org()
    with type(api)(api.root, other) as other_api:
        foreign_source = create_source(other_api)
    assert api.post("/collections", json={**body, "name": "b3",
                                          "sourceId": foreign_source["id"]}).json() == \
        validation(("sourceId", "not_found", "No source with this id in this org."))
    both = api.post("/collections", json={**body, "name": "b4", "profile": True, "event": True})
    assert both.json() == validation(("profile", "invalid_kind", "A collection is either an "
                                      "event collection (`event: true`) or a profile "
                                      "collection (`profile: true`)."))
    malformed = api.post("/collections", content=b'{"name": ', headers={
        "Content-Type": "application/json"})
    assert malformed.status_code == 400 and malformed.json()["code"] == "parse_error"
    missing = api.post("/collections", json={})
    assert missing.json() == validation(
        ("sourceId", "required", "This field is required."),
        ("name", "required", "This field is required."),
        ("schema", "required", "This field is required."))


def test_the_org_default_compatibility_mode_is_read_and_set_as_confluents_config(api):
    config = links(api, "/config")
    assert api.get("/config").json() == {"compatibility": "BACKWARD", "_links": config}
    changed = api.put("/config", json={"compatibility": "FULL_TRANSITIVE"})
    assert (changed.status_code, changed.json()) == (
        200, {"compatibility": "FULL_TRANSITIVE", "_links": config})
    assert api.get("/config").json()["compatibility"] == "FULL_TRANSITIVE"
    wrong = api.put("/config", json={"compatibility": "SIDEWAYS"})
    assert (wrong.status_code, wrong.json()) == (400, validation(
        ("compatibility", "invalid_choice", '"SIDEWAYS" is not a valid choice.')))


def test_a_schema_change_that_breaks_the_mode_is_a_409_listing_each_break(api):
    source = create_source(api)
    collection = create_collection(api, source["id"], name="bookings")
    assert collection["compatibility"] is None
    coll_id, avro = collection["id"], collection["schema"]
    retyped = {**avro, "fields": [{**f, "type": "long"} if f["name"] == "flightId" else f
                                  for f in avro["fields"]] + [{"name": "seats", "type": "int"}]}
    refused = api.patch(f"/collections/{coll_id}", json={"schema": retyped})
    breaks = [
        ("schema.fields[3].type", "type_mismatch", "long", "string", "the field 'flightId': "
         "reader type: long not compatible with writer type: string"),
        ("schema.fields[6]", "reader_field_missing_default_value", "int", None, "the reader's "
         "field 'seats' has no default, and the writer has no such field"),
    ]
    details = [f"The new schema cannot read records written with version 1: {why}."
               for *_, why in breaks]
    assert refused.status_code == 409
    assert refused.json() == {
        **problem(409, "incompatible_schema", "The schema breaks the collection's "
                  "compatibility mode BACKWARD against version 1: see `incompatibilities`. "
                  "Give new fields a default, keep old ones (or rename them with `aliases`), "
                  "widen types only as Avro promotes them, or set the collection's "
                  "`compatibility` to NONE.", [
                      {"attr": path, "code": "incompatible_schema", "detail": detail}
                      for (path, *_), detail in zip(breaks, details, strict=True)]),
        "compatibility": "BACKWARD",
        "incompatibilities": [
            {"path": path, "kind": kind, "readerType": reader, "writerType": writer,
             "version": 1, "direction": "backward", "detail": detail}
            for (path, kind, reader, writer, _), detail in zip(breaks, details, strict=True)],
    }
    assert api.get(f"/collections/{coll_id}").json() == collection

    changed = api.patch(f"/collections/{coll_id}", json={"schema": retyped,
                                                          "compatibility": "NONE"})
    assert changed.status_code == 200
    assert changed.json() == {**collection, "schema": retyped, "schemaVersion": 2,
                              "compatibility": "NONE"}


def test_schema_versions_are_registered_and_deleted_as_a_registry_does(api):
    source = create_source(api)
    collection = create_collection(api, source["id"], name="bookings")
    coll_id, avro = collection["id"], collection["schema"]
    schemas = f"/collections/{coll_id}/schemas"

    def version(number, schema):
        found = api.get(f"{schemas}/{number}").json()
        return {"collId": coll_id, "version": number, "schema": schema,
                "fingerprint": fingerprint(schema), "createdAt": found["createdAt"],
                "_links": links(api, f"{schemas}/{number}",
                                collection=f"/collections/{coll_id}")}

    same = api.post(schemas, json={"schema": avro})
    assert (same.status_code, same.json()) == (200, version(1, avro))
    wider = {**avro, "fields": [*avro["fields"], {"name": "seat", "type": ["null", "string"],
                                                  "default": None}]}
    added = api.post(schemas, json={"schema": wider})
    assert (added.status_code, added.json()) == (201, version(2, wider))
    assert api.get(f"/collections/{coll_id}").json()["schemaVersion"] == 2
    again = api.post(schemas, json={"schema": avro})
    assert (again.status_code, again.json()) == (200, version(1, avro))
    listed = api.get(schemas).json()["_embedded"]["schemas"]
    assert listed == [version(1, avro), version(2, wider)]

    current = api.delete(f"{schemas}/2")
    assert (current.status_code, current.json()) == (409, problem(
        409, "current_schema_version", "Version 2 is the current schema of 'bookings': "
        "register another version first, or delete the collection."))
    assert api.delete(f"{schemas}/1").status_code == 204
    assert api.get(f"{schemas}/1").json() == problem(404, "not_found", NOT_FOUND)
    assert api.delete(f"{schemas}/1").status_code == 404
    invalid = api.post(schemas, json={"schema": {"type": "record", "name": "b"}})
    assert (invalid.status_code, invalid.json()) == (400, validation(
        ("schema.fields", "invalid_schema", "A record needs a `fields` list.")))


def test_a_version_records_were_written_in_is_kept(api, orm):
    source = create_source(api)
    collection = create_collection(api, source["id"], name="bookings")
    coll_id, avro = collection["id"], collection["schema"]
    RecordFactory(collection=Collection.objects.get(id=coll_id), schema_version=1)
    wider = {**avro, "fields": [*avro["fields"], {"name": "seat", "type": ["null", "string"],
                                                  "default": None}]}
    assert api.post(f"/collections/{coll_id}/schemas", json={"schema": wider}).status_code == 201
    kept = api.delete(f"/collections/{coll_id}/schemas/1")
    assert (kept.status_code, kept.json()) == (409, problem(
        409, "schema_version_in_use", "The collection 'bookings' holds records written in "
        "version 1: they are read in it. Delete them (or replay the rejected ones) first."))


def test_the_readmes_schema_change_works_as_printed(api, orm):
    """README, "Changing a schema": each call with curl's form content type."""
    source = create_source(api)
    create_collection(api, source["id"])
    collection = Collection.objects.get(org__slug=api.org.slug, name="flight-booking")
    RecordFactory(collection=collection)
    schemas = "/collections/flight-booking/schemas"

    def sent(method, path, body):
        return api.request(method, path, content=body, headers=CURL_FORM)

    assert sent("PUT", "/config", '{"compatibility": "FULL"}').json()["compatibility"] == "FULL"
    assert sent("PATCH", "/collections/flight-booking", '{"compatibility": "BACKWARD"}').json()[
        "compatibility"] == "BACKWARD"
    v2 = fixture_text("flight-booking-v2")
    added = sent("POST", schemas, f'{{"schema": {v2}}}')
    assert (added.status_code, added.json()["version"], added.json()["fingerprint"]) == (
        201, 2, "43b84c1c270a0fc6d0fda6f8a876fb7cb9d08aba03e71171ec4be39d01b7a9e3")
    assert sent("POST", schemas, f'{{"schema": {v2}}}').status_code == 200
    breaking = sent("POST", schemas,
                    f'{{"schema": {fixture_text("flight-booking-flight-number")}}}')
    assert breaking.status_code == 409
    assert [(i["path"], i["readerType"], i["writerType"], i["version"])
            for i in breaking.json()["incompatibilities"]] == [
        ("schema.fields[3].type", "long", "string", 2)]
    assert api.delete(f"{schemas}/1").json()["code"] == "schema_version_in_use"
    assert sent("PATCH", "/collections/flight-booking", '{"compatibility": null}').json()[
        "compatibility"] is None


def fixture_text(name):
    return (FIXTURES / "schemas" / f"{name}.avsc").read_text()


def test_an_identifier_keeps_its_fields_in_the_schema_and_its_collection_alive(api):
    source = create_source(api)
    visitors = create_collection(api, source["id"], name="visitors")
    create_identifier(api, visitors["id"], fields=(("visitorId", "string"),), name="visitor")
    bookings = create_collection(api, source["id"], name="bookings")
    primary = api.get("/identifiers", params={"collId": visitors["id"]}).json()[
        "_embedded"]["identifiers"][0]
    create_identifier(api, bookings["id"], kind="foreign", name="visitor",
                      fields=(("visitorId", "string"),), referenceId=primary["id"])
    referenced = api.delete(f"/collections/{visitors['id']}")
    assert referenced.status_code == 409
    assert referenced.json() == problem(409, "collection_referenced", "Foreign identifiers "
                                        "point at this collection (bookings.visitor). Delete "
                                        "them first.")
    avro = visitors["schema"]
    without = {**avro, "fields": [f for f in avro["fields"] if f["name"] != "visitorId"]}
    removed = api.patch(f"/collections/{visitors['id']}", json={"schema": without})
    assert removed.json() == validation(("schema", "identifier_field_removed", "The field "
                                         "'visitorId' makes the identifier 'visitor': keep it "
                                         "with its type, or delete the identifier first."))


def test_a_collection_related_to_itself_is_deleted_and_built_in_ones_are_kept(api):
    source = create_source(api)
    bookings = create_collection(api, source["id"], name="bookings")
    primary = create_identifier(api, bookings["id"], name="booking")
    create_identifier(api, bookings["id"], kind="foreign", name="rebooked",
                      fields=(("visitorId", "string"),), referenceId=primary["id"])
    assert api.delete(f"/collections/{bookings['id']}").status_code == 204
    assert api.get(f"/collections/{bookings['id']}").status_code == 404
    assert api.get(f"/identifiers/{primary['id']}").status_code == 404

    users = api.get("/collections/users").json()
    for name in ("users", "accounts"):
        refused = api.delete(f"/collections/{name}")
        assert refused.status_code == 409
        assert refused.json() == problem(409, "builtin_collection", f"The collection {name!r} "
                                         "is built in: the usage collector and the Fuzy-style "
                                         "API write into it, so it cannot be deleted.")
    assert api.get(f"/collections/{users['id']}").json() == users


# ---------------------------------------------------------------------------
# Identifiers and relations
# ---------------------------------------------------------------------------
def test_identifiers_in_all_three_forms_and_their_errors(api, make_org):
    source = create_source(api)
    coll = create_collection(api, source["id"], name="bookings")
    other = create_collection(api, source["id"], name="visitors")
    nested = api.post(f"/collections/{coll['id']}/identifiers", json={
        "type": "primary", "name": "booking", "schema": key_schema("b", ("bookingId", "string"))})
    assert nested.status_code == 201
    ident = nested.json()
    assert ident == {
        "collId": coll["id"], "id": ident["id"], "type": "primary", "name": "booking",
        "schema": key_schema("b", ("bookingId", "string")),
        "_links": links(api, f"/identifiers/{ident['id']}",
                        collection=f"/collections/{coll['id']}")}
    assert api.get(f"/identifiers/{ident['id']}").json() == ident
    assert api.get(f"/collections/{coll['id']}/identifiers").json()["_embedded"][
        "identifiers"] == [ident]

    second = api.post("/identifiers", json={
        "collId": coll["id"], "type": "primary", "name": "again",
        "schema": key_schema("a", ("eventId", "string"))})
    assert second.status_code == 409
    assert second.json() == problem(409, "primary_identifier_exists", "The collection "
                                    f"'bookings' has a primary identifier already ('booking', "
                                    f"id {ident['id']}). Delete it to make another.")
    unknown = api.post("/collections", json={
        "collId": other["id"], "type": "primary", "name": "p",
        "schema": key_schema("p", ("nope", "string"))})
    assert unknown.json() == validation(("schema.fields[0].name", "unknown_field", "The "
                                         "collection 'visitors' has no field 'nope'. Its "
                                         "fields: eventId, visitorId, bookingId, flightId, "
                                         "bookingStatus, bookingDate."))
    optional = create_collection(api, source["id"], name="optional", avro={
        **coll["schema"], "fields": [*coll["schema"]["fields"],
                                     {"name": "seat", "type": ["null", "string"]}]})
    for kind in ("string", ["null", "string"]):
        refused = api.post("/identifiers", json={
            "collId": optional["id"], "type": "primary", "name": "p",
            "schema": key_schema("p", ("bookingId", "string"), ("seat", kind))})
        assert refused.status_code == 400
        assert refused.json() == validation(("schema.fields[1].name", "optional_key", "The "
                                             "field 'seat' is optional (a union with null): a "
                                             "primary identifier keys every record, so make the "
                                             "field required or choose another."))
    mismatch = api.post("/identifiers", json={
        "collId": other["id"], "type": "primary", "name": "p",
        "schema": key_schema("p", ("visitorId", "long"))})
    assert mismatch.json() == validation(("schema.fields[0].type", "type_mismatch", "The field "
                                          "'visitorId' is a string in the collection's schema; "
                                          "declare the same type here."))
    no_reference = api.post("/identifiers", json={
        "collId": other["id"], "type": "foreign", "name": "f",
        "schema": key_schema("f", ("bookingId", "string"))})
    assert no_reference.json() == validation(("referenceId", "required", "A foreign identifier "
                                              "needs `referenceId`: the id of a primary "
                                              "identifier in this org."))
    foreign = create_identifier(api, other["id"], kind="foreign", name="f",
                                fields=(("bookingId", "string"),),
                                referenceId=int(ident["id"]))
    assert foreign["referenceId"] == ident["id"]
    not_primary = api.post("/identifiers", json={
        "collId": coll["id"], "type": "foreign", "name": "g", "referenceId": foreign["id"],
        "schema": key_schema("g", ("bookingId", "string"))})
    assert not_primary.json() == validation(("referenceId", "not_primary", "`referenceId` "
                                             "must be a primary identifier."))
    theirs = make_org()
    with type(api)(api.root, theirs) as their_api:
        their_source = create_source(their_api)
        their_coll = create_collection(their_api, their_source["id"], name="x")
        their_primary = create_identifier(their_api, their_coll["id"])
    across = api.post("/identifiers", json={
        "collId": other["id"], "type": "foreign", "name": "h",
        "referenceId": their_primary["id"], "schema": key_schema("h", ("eventId", "string"))})
    assert across.json() == validation(("referenceId", "not_found", "No identifier with this "
                                        "id in this org."))
    in_use = api.delete(f"/identifiers/{ident['id']}")
    assert in_use.status_code == 409 and in_use.json()["code"] == "identifier_referenced"
    assert api.delete(f"/identifiers/{foreign['id']}").status_code == 204
    assert api.delete(f"/identifiers/{ident['id']}").status_code == 204
    assert api.get(f"/identifiers/{ident['id']}").status_code == 404


def test_relations_are_listed_in_both_directions(api):
    source = create_source(api)
    visitors = create_collection(api, source["id"], name="visitors")
    bookings = create_collection(api, source["id"], name="bookings")
    primary = create_identifier(api, visitors["id"], name="visitor",
                                fields=(("visitorId", "string"),))
    foreign = create_identifier(api, bookings["id"], kind="foreign", name="visitor",
                                fields=(("visitorId", "string"),), referenceId=primary["id"])
    end = {"from": {"collId": bookings["id"], "collName": "bookings",
                    "identifierId": foreign["id"], "identifierName": "visitor",
                    "identifierType": "foreign", "fields": ["visitorId"]},
           "to": {"collId": visitors["id"], "collName": "visitors",
                  "identifierId": primary["id"], "identifierName": "visitor",
                  "identifierType": "primary", "fields": ["visitorId"]},
           "_links": links(api, f"/identifiers/{foreign['id']}",
                           **{"from": f"/collections/{bookings['id']}",
                              "to": f"/collections/{visitors['id']}",
                              "foreignIdentifier": f"/identifiers/{foreign['id']}",
                              "primaryIdentifier": f"/identifiers/{primary['id']}"})}
    outgoing = api.get("/relations", params={"collId": bookings["id"]}).json()
    assert outgoing["_embedded"]["relations"] == [
        {"id": foreign["id"], "direction": "outgoing", **end}]
    incoming = api.get("/relations", params={"collId": visitors["id"]}).json()
    assert incoming["_embedded"]["relations"] == [
        {"id": foreign["id"], "direction": "incoming", **end}]
    unknown = api.get("/relations", params={"collId": "404"})
    assert unknown.json() == validation(("collId", "not_found",
                                         "No collection with this id in this org."))


# ---------------------------------------------------------------------------
# Dry runs of a schema change
# ---------------------------------------------------------------------------
def flight_id_break(version, direction):
    """flightId as a long (fixtures/schemas/flight-booking-flight-number.avsc) against a
    version where it is a string, in one direction."""
    reader, writer = ("long", "string") if direction == "backward" else ("string", "long")
    who = (f"The new schema cannot read records written with version {version}"
           if direction == "backward" else
           f"Version {version} cannot read records written with the new schema")
    return {"path": "schema.fields[3].type", "kind": "type_mismatch", "readerType": reader,
            "writerType": writer, "version": version, "direction": direction,
            "detail": f"{who}: the field 'flightId': reader type: {reader} not compatible with "
            f"writer type: {writer}."}


def test_a_dry_run_changes_nothing_and_answers_what_the_schema_would_do(api, orm, worker):
    """README, "Changing a schema": a dry run, polled until done, with curl's content type."""
    source = create_source(api)
    create_identifier(api, create_collection(api, source["id"])["id"])
    collection = Collection.objects.get(org__slug=api.org.slug, name="flight-booking")
    stored = RecordFactory(collection=collection)
    schemas = "/collections/flight-booking/schemas"
    v2 = fixture_text("flight-booking-v2")
    assert api.post(schemas, content=f'{{"schema": {v2}}}', headers=CURL_FORM).status_code == 201
    sent = api.post("/collections/flight-booking/data", headers=CURL_FORM, content=(
        '{"eventId": "e-4711",\n  "visitorId": "v-42", "bookingId": "2", "flightId": 4711, '
        '"bookingStatus": "booked",\n  "bookingDate": "2020-05-26"}'))
    assert sent.status_code == 400
    rejected = wait_for(lambda: api.get("/rejected", params={"collId": collection.id}).json()[
        "_embedded"]["rejected"])[0]
    breaking = fixture_text("flight-booking-flight-number")

    started = api.post(f"{schemas}?dryRun=true", content=f'{{"schema": {breaking}}}',
                       headers=CURL_FORM)
    assert started.status_code == 202, started.text
    body = started.json()
    own = f"/collections/{collection.id}/dry-runs/{body['id']}"
    assert started.headers["Location"] == body["_links"]["self"]["href"]
    done = wait_for(lambda: (answer := api.get(started.headers["Location"]).json())["status"]
                    != "running" and answer)
    transitive = [flight_id_break(version, direction) for version in (2, 1)
                  for direction in ("backward", "forward")]
    assert done == {
        "id": body["id"], "collId": str(collection.id), "status": "done",
        "compatibility": "BACKWARD", "wouldRegister": False,
        "verdicts": {
            "NONE": {"compatible": True, "incompatibilities": []},
            "BACKWARD": {"compatible": False,
                         "incompatibilities": [flight_id_break(2, "backward")]},
            "BACKWARD_TRANSITIVE": {"compatible": False, "incompatibilities": [
                flight_id_break(2, "backward"), flight_id_break(1, "backward")]},
            "FORWARD": {"compatible": False,
                        "incompatibilities": [flight_id_break(2, "forward")]},
            "FORWARD_TRANSITIVE": {"compatible": False, "incompatibilities": [
                flight_id_break(2, "forward"), flight_id_break(1, "forward")]},
            "FULL": {"compatible": False, "incompatibilities": transitive[:2]},
            "FULL_TRANSITIVE": {"compatible": False, "incompatibilities": transitive},
        },
        "identifiers": [],
        "progress": {"scanned": 2, "total": 2},
        "storedRecords": {"total": 1, "unreadable": 1, "examples": [
            {"id": str(stored.id), "schemaVersion": 1,
             "reason": "Schema mismatch: string is not long"}],
            "versions": [{"version": 1, "records": 1, "provenReadable": False},
                         {"version": 2, "records": 0, "provenReadable": False}]},
        "rejectedRecords": {"total": 1, "wouldBeAccepted": 1, "examples": [
            {"id": rejected["id"], "schemaVersion": 2, "rejectedFor": [{
                "attr": "flightId", "code": "invalid_type",
                "detail": "Expected string at flightId, got int."}]}]},
        "error": "", "schema": schema("flight-booking-flight-number"),
        "createdAt": body["createdAt"], "finishedAt": done["finishedAt"],
        "_links": links(api, own, collection=f"/collections/{collection.id}",
                        schemas=f"/collections/{collection.id}/schemas"),
    }
    assert (body["status"], body["verdicts"]) == ("running", done["verdicts"])  # at once

    # nothing changed, and registering still answers as it did
    assert api.get("/collections/flight-booking").json()["schemaVersion"] == 2
    assert api.get(schemas).json()["page"]["totalElements"] == 2
    assert [r["id"] for r in api.get("/collections/flight-booking/data").json()[
        "_embedded"]["records"]] == [str(stored.id)]
    assert api.get(f"/rejected/{rejected['id']}").status_code == 200
    assert api.post(schemas, content=f'{{"schema": {breaking}}}',
                    headers=CURL_FORM).json()["code"] == "incompatible_schema"
    assert api.post(f"{schemas}?dryRun=false", content=f'{{"schema": {v2}}}',
                    headers=CURL_FORM).json()["version"] == 2


def test_a_dry_run_takes_only_a_valid_schema_and_a_true_or_false_dry_run(api):
    collection = create_collection(api, create_source(api)["id"])
    schemas = f"/collections/{collection['id']}/schemas"
    invalid = api.post(f"{schemas}?dryRun=true", json={"schema": {"type": "record"}})
    assert invalid.status_code == 400
    assert invalid.json()["errors"][0]["code"] == "invalid_schema"
    unclear = api.post(f"{schemas}?dryRun=yes", json={"schema": collection["schema"]})
    assert unclear.json() == validation(("dryRun", "invalid", "`dryRun` is true or false."))
    assert api.get(f"/collections/{collection['id']}/dry-runs/1").json() == problem(
        404, "not_found", NOT_FOUND)
