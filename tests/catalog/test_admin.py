"""The admin edits schemas through the same checks as the API and shows keys once."""

import json

from apps.catalog.models import Collection, SchemaVersion
from apps.orgs.models import ApiKey
from apps.orgs.services import org_create
from tests.fixtures import schema


def test_the_collection_form_shows_schema_errors_and_saves_valid_schemas(admin_client, db):
    created = org_create(slug="AdminOrg")
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
    created = org_create(slug="KeyOrg")
    added = admin_client.post("/admin/orgs/apikey/add/", {
        "org": created.org.id, "kind": "write", "name": "site"}, follow=True)
    message = [str(m) for m in added.context["messages"]][0]
    raw = message.split("The new key is ")[1].split(" ")[0]
    key = ApiKey.objects.get(org=created.org, name="site")
    assert raw.startswith(key.prefix) and len(raw) > len(key.prefix) + 10
    listing = admin_client.get("/admin/orgs/apikey/").content.decode()
    assert key.prefix in listing and raw not in listing
