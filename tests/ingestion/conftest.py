from typing import Any

import pytest

from tests.fixtures import schema
from tests.helpers import create_collection, create_identifier, create_source


@pytest.fixture
def flights(api: Any, worker: Any) -> dict[str, Any]:
    """The seed's flight-booking collection, keyed by eventId, with a live worker behind it."""
    source = create_source(api)
    collection = create_collection(api, source["id"], avro=schema("flight-booking"))
    create_identifier(api, collection["id"])
    return {"source": source, "collection": collection}
