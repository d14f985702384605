from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page

from tests.conftest import Api, OrgKeys
from tests.fixtures import schema
from tests.helpers import create_collection, create_identifier, create_source, problem
from tests.tracker.browser import PageServer, SwitchProxy

SHOP = "http://shop.example"
SCRIPT = "/static/tracker/sluice.js"
OTHER_SHOP = "http://other-shop.example"  # allowed by another org's web source
ORIGIN_REFUSED_DETAIL = (
    "This origin may not send to this org. Add it to the allowedOrigins of the org's web "
    "source (PATCH /v1/<org>/sources/<id>).")
ORIGIN_REFUSED = problem(403, "origin_not_allowed", ORIGIN_REFUSED_DETAIL, [
    {"attr": "Origin", "code": "origin_not_allowed", "detail": ORIGIN_REFUSED_DETAIL}])


def preflight_of(url: str, origin: str) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    """A browser's CORS preflight of a POST from `origin`: the status, every header but the
    date and the request's own id, and the body, byte for byte."""
    answer = httpx.options(url, timeout=30, headers={
        "Origin": origin, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type,x-api-key"})
    headers = [(name, value) for name, value in answer.headers.raw
               if name.lower() not in (b"date", b"x-request-id")]
    return answer.status_code, headers, answer.content


@pytest.fixture
def web(api: Any, worker: Any) -> dict[str, Any]:
    """A web source that allows the shop's origin, with the seed's flight-booking collection
    keyed by eventId, and a live worker behind it."""
    source = create_source(api, allowedOrigins=[SHOP])
    collection = create_collection(api, source["id"], avro=schema("flight-booking"))
    create_identifier(api, collection["id"])
    return {"source": source, "collection": collection, "trackerId": source["trackerId"]}


@pytest.fixture
def other_shop(server_url: str, make_org: Any) -> OrgKeys:
    """Another org, whose web source allows OTHER_SHOP."""
    org: OrgKeys = make_org()
    with Api(server_url, org) as other:
        create_source(other, allowedOrigins=[OTHER_SHOP])
    return org


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
