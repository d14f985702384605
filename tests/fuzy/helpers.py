from collections.abc import Callable
from typing import Any

from apps.records.models import Record
from tests.helpers import wait_for


def stored(api: Any, collection: str, key: str,
           until: Callable[[Record], bool] = lambda record: True,
           timeout: float = 30.0) -> Record:
    """The org's record of a built-in collection, once it is stored (and `until` holds)."""
    def found() -> Record | None:
        record = Record.objects.filter(collection__org__slug=api.org.slug,
                                       collection__name=collection, key=key).first()
        return record if record is not None and until(record) else None
    return wait_for(found, timeout=timeout)
