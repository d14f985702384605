"""Reads of the Fuzy-style API: the current records of the org's built-in collections. They
write nothing: the default product is there from the org's creation."""

from typing import Any

from apps.orgs.models import Org
from apps.records.models import Record


def profile_data(*, org: Org, collection: str, key: str) -> dict[str, Any] | None:
    """The current data of a built-in profile, or None."""
    record = Record.objects.filter(collection__org=org, collection__name=collection,
                                   key=key).first()
    return record.data if record else None


def products_data(*, org: Org) -> list[dict[str, Any]]:
    """The org's products, the oldest first."""
    rows = Record.objects.filter(collection__org=org, collection__name="products")
    return [data for data in rows.order_by("id").values_list("data", flat=True)]


def account_parents(*, org: Org) -> dict[str, str | None]:
    """Each stored account's parent account id."""
    rows = Record.objects.filter(collection__org=org, collection__name="accounts").values_list(
        "key", "data__parentAccountId")
    return dict(rows)
