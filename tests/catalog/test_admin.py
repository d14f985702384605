"""The admin edits schemas through the same checks as the API, dry runs schema changes and
shows keys once."""

import json

from apps.catalog.models import Collection, SchemaDryRun, SchemaVersion
from apps.catalog.services import schema_dry_run_scan
from apps.orgs.models import ApiKey
from apps.orgs.services import org_create
from tests.factories import CollectionFactory, IdentifierFactory, RecordFactory
from tests.fixtures import ACTOR, schema


def test_the_collection_form_shows_schema_errors_and_saves_valid_schemas(admin_client, db):
    created = org_create(actor=ACTOR, slug="AdminOrg")
    source = created.org.sources.get(name="builtin")
    form = {"org": created.org.id, "source": source.id, "name": "bookings", "event": "on",
            "schema": json.dumps({"type": "record", "name": "x", "fields": [
                {"name": "a", "type": "strin"}]})}
    page = admin_client.post("/admin/catalog/collection/add/", form)
    assert page.status_code == 200
    assert "schema.fields[0].type: Unknown type &#x27;strin&#x27;" in page.content.decode()
    form["schema"] = json.dumps(schema("flight-booking"))
    saved = admin_client.post("/admin/catalog/collection/add/", form)
    assert saved.status_code == 302
    collection = Collection.objects.get(org=created.org, name="bookings")
    assert list(SchemaVersion.objects.filter(collection=collection).values_list(
        "version", flat=True)) == [1]


def test_a_new_key_is_shown_once_and_then_only_its_prefix(admin_client, db):
    created = org_create(actor=ACTOR, slug="KeyOrg")
    added = admin_client.post("/admin/orgs/apikey/add/", {
        "org": created.org.id, "kind": "write", "name": "site"}, follow=True)
    message = [str(m) for m in added.context["messages"]][0]
    raw = message.split("The new key is ")[1].split(" ")[0]
    key = ApiKey.objects.get(org=created.org, name="site")
    assert raw.startswith(key.prefix) and len(raw) > len(key.prefix) + 10
    listing = admin_client.get("/admin/orgs/apikey/").content.decode()
    assert key.prefix in listing and raw not in listing


def test_a_key_of_a_source_made_in_the_admin_sends_to_that_source_only(admin_client, db):
    created = org_create(actor=ACTOR, slug="ScopeOrg")
    builtin = created.org.sources.get(name="builtin")
    added = admin_client.post("/admin/orgs/apikey/add/", {
        "org": created.org.id, "kind": "write", "name": "site", "source": builtin.id})
    assert added.status_code == 302
    assert ApiKey.objects.get(org=created.org, name="site").source == builtin
    refused = admin_client.post("/admin/orgs/apikey/add/", {
        "org": created.org.id, "kind": "read", "name": "dash", "source": builtin.id})
    assert refused.status_code == 200
    assert "Only a write key is scoped to a source" in refused.content.decode()
    assert not ApiKey.objects.filter(name="dash").exists()


def test_the_collection_page_starts_a_dry_run_and_shows_its_result(admin_client, db):
    collection = CollectionFactory()
    IdentifierFactory(collection=collection)
    RecordFactory(collection=collection)
    page = admin_client.get(f"/admin/catalog/collection/{collection.pk}/change/").content.decode()
    start = f"/admin/catalog/schemadryrun/add/?collection={collection.pk}"
    assert f'<a class="button" href="{start}">Dry run</a>' in page
    assert "flight_booking_schema" in admin_client.get(start).content.decode()  # to edit
    form = {"collection": collection.pk, "schema": json.dumps({"type": "record"})}
    refused = admin_client.post("/admin/catalog/schemadryrun/add/", form)
    assert "schema.fields: A record needs a `fields` list." in refused.content.decode()
    form["schema"] = json.dumps(schema("flight-booking-flight-number"))
    started = admin_client.post("/admin/catalog/schemadryrun/add/", form)
    dry_run = SchemaDryRun.objects.get(collection=collection)
    assert started.url == f"/admin/catalog/schemadryrun/{dry_run.pk}/change/"
    schema_dry_run_scan(dry_run_id=dry_run.pk)
    result = admin_client.get(started.url).content.decode()
    assert "1 stored, 1 the schema could not read" in result
    assert "BACKWARD: The new schema cannot read records written with version 1" in result
    assert collection.versions.count() == 1
