"""Every org that exists already gets the default product its products collection starts with
(new orgs get it when their built-in collections are made): the Fuzy API's reads write
nothing."""

from typing import Any

from django.db import migrations
from django.utils import timezone

from apps.core.ids import new_id

# As it was when this migration was written; a migration must not change with the code.
DEFAULT_PRODUCT = {"productId": "default", "name": "Default product", "description": None,
                   "isDefault": True}


def default_products_store(apps: Any, schema_editor: Any) -> None:
    collection_model = apps.get_model("catalog", "Collection")
    record_model = apps.get_model("records", "Record")
    now = timezone.now()
    products = collection_model.objects.filter(name="products", source__name="builtin")
    for collection in products.exclude(records__key="default"):
        record_model.objects.create(
            id=new_id(), org_id=collection.org_id, collection=collection,
            schema_version=collection.schema_version, key="default",
            identifiers={"productId": "default"}, received_at=now, updated_at=now,
            data=DEFAULT_PRODUCT)


class Migration(migrations.Migration):
    dependencies = [("catalog", "0001_initial"), ("records", "0002_identifier_lookups")]
    operations = [migrations.RunPython(default_products_store, migrations.RunPython.noop)]
