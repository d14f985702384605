from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page

from tests.fixtures import schema
from tests.helpers import create_collection, create_identifier, create_source
from tests.tracker.browser import PageServer, SwitchProxy

SHOP = "http://shop.example"
SCRIPT = "/static/tracker/sluice.js"


@pytest.fixture
def web(api: Any, worker: Any) -> dict[str, Any]:
    """A web source that allows the shop's origin, with the seed's flight-booking collection
    keyed by eventId, and a live worker behind it."""
    source = create_source(api, allowedOrigins=[SHOP])
    collection = create_collection(api, source["id"], avro=schema("flight-booking"))
    create_identifier(api, collection["id"])
    return {"source": source, "collection": collection, "trackerId": source["trackerId"]}


@pytest.fixture
def site() -> Iterator[PageServer]:
    """The web app's own origin, serving the test pages."""
    server = PageServer()
    yield server
    server.stop()


@pytest.fixture
def page(chromium: Browser) -> Iterator[Page]:
    context = chromium.new_context()
    tab = context.new_page()
    tab.set_default_timeout(20_000)
    yield tab
    context.close()


@pytest.fixture
def proxy(server_url: str) -> Iterator[SwitchProxy]:
    switch = SwitchProxy(server_url)
    yield switch
    switch.stop()


def served_script(base: str) -> str:
    url = f"{base}{SCRIPT}"
    assert httpx.get(url).status_code == 200, f"the browser tracker is not served at {SCRIPT}"
    return url


@pytest.fixture
def script_url(server_url: str) -> str:
    return served_script(server_url)


@pytest.fixture
def shop(api: Any, web: dict[str, Any], site: PageServer) -> dict[str, Any]:
    """The org's web source allows the test site's origin too."""
    source = web["source"]
    answer = api.patch(f"/sources/{source['id']}",
                       json={"allowedOrigins": [*source["allowedOrigins"], site.origin]})
    assert answer.status_code == 200, answer.text
    return {**web, "api": api}
