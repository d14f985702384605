"""The admin's lists fit a 1280 px wide window, in headless Chromium against a live Sluice:
beside Django's navigation and a list's filters, about 630 px are left for the list, and no
list scrolls sideways, however long the names, slugs and schemas of what it shows."""

import os
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Browser, Page

from apps.catalog.models import Collection, SchemaDryRun
from apps.orgs.models import Org
from apps.orgs.services import org_create
from tests.factories import ApiKeyFactory, CollectionFactory, IdentifierFactory, SourceFactory
from tests.fixtures import ACTOR

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

WINDOW = {"width": 1280, "height": 800}
LONG = "a_collection_name_long_enough_to_need_its_own_line_" * 2
LISTS = ["/admin/catalog/collection/", "/admin/sources/source/",
         "/admin/catalog/schemaversion/", "/admin/catalog/identifier/",
         "/admin/catalog/schemadryrun/", "/admin/orgs/org/", "/admin/orgs/apikey/"]


def long_schema(fields: int) -> dict[str, Any]:
    """A schema whose JSON is thousands of characters long, with a name of a hundred."""
    return {"type": "record", "name": "n" * 100, "namespace": "com.example.a.long.namespace",
            "fields": [{"name": "eventId", "type": "string"},
                       *({"name": f"field_number_{i}_of_a_wide_record", "type": "string",
                          "doc": "d" * 60} for i in range(fields))]}


@pytest.fixture(scope="module")
def admin_login(django_db_blocker: Any) -> dict[str, str]:
    """A superuser, and something long in every list: names without spaces, a long schema,
    an org slug as long as can be; beside an org as org_create makes it."""
    password = uuid.uuid4().hex
    with django_db_blocker.unblock():
        user = User.objects.create_superuser(f"admin{os.getpid()}", "a@example.com", password)
        org = Org.objects.create(slug=f"a-long-org-slug-{os.getpid()}-".ljust(63, "x"),
                                 name="o" * 100)
        source = SourceFactory(org=org, name="s" * 100, type="web", title="t" * 150)
        collections: list[Collection] = [
            CollectionFactory(org=org, source=source, name=LONG, schema=long_schema(40)),
            *(CollectionFactory(org=org, source=source) for _ in range(3))]
        IdentifierFactory(collection=collections[0], name="k" * 100)
        ApiKeyFactory(org=org, name="k" * 100)
        SchemaDryRun.objects.create(  # as started, without queueing its scan
            org=org, collection=collections[0], schema=long_schema(41),
            compatibility=org.compatibility)
        # and the built-in collections, as shipped
        org_create(actor=ACTOR, slug=f"Shop{os.getpid()}")
    return {"username": user.username, "password": password}


@pytest.fixture
def page(chromium: Browser, server_url: str, admin_login: dict[str, str]) -> Iterator[Page]:
    """A 1280x800 tab logged in to the live server's admin."""
    context = chromium.new_context(viewport=WINDOW)
    tab = context.new_page()
    tab.set_default_timeout(20_000)
    tab.goto(f"{server_url}/admin/login/")
    tab.fill("#id_username", admin_login["username"])
    tab.fill("#id_password", admin_login["password"])
    tab.click("input[type=submit]")
    tab.wait_for_url(f"{server_url}/admin/")
    yield tab
    context.close()


@pytest.mark.parametrize("path", LISTS)
def test_an_admin_list_fits_a_1280_px_window(page: Page, server_url: str, path: str) -> None:
    page.goto(f"{server_url}{path}")
    assert page.locator("#result_list tbody tr").count() >= 1  # a list, not an error page
    widths = page.evaluate("""() => ({page: document.documentElement.scrollWidth,
        window: window.innerWidth,
        table: document.querySelector('#result_list').scrollWidth,
        box: document.querySelector('.results').clientWidth})""")
    assert widths["page"] <= widths["window"], widths
    assert widths["table"] <= widths["box"], widths  # the list itself does not scroll either
