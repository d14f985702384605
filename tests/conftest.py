import itertools
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from django.conf import settings as django_settings
from django.db import connection, connections
from django.test.utils import setup_databases, teardown_databases
from playwright.sync_api import Browser, sync_playwright

from apps.orgs.services import org_create
from tests.fixtures import ACTOR
from tests.live import ROOT, LiveProcess, start_server, start_worker
from tests.tracker.browser import CHROMIUM, CHROMIUM_ARGS

LOGS = ROOT / "var" / "test-logs"
_org_numbers = itertools.count()


@pytest.fixture(scope="session")
def django_db_setup(django_test_environment: None, django_db_blocker: Any) -> Iterator[None]:
    """The test database, made once per session whatever the tests are marked with: live
    servers and workers use it as well as the tests."""
    # a database of this run's own: another run may be going on beside it
    connection.settings_dict["TEST"]["NAME"] = f"test_sluice_{os.getpid()}"
    with django_db_blocker.unblock():
        config = setup_databases(verbosity=0, interactive=False, aliases={"default"})
    yield
    with django_db_blocker.unblock():
        teardown_databases(config, verbosity=0)


@pytest.fixture(scope="session")
def database_url(django_db_setup: None, django_db_blocker: Any) -> str:
    """The URL of the test database pytest-django made, for the live processes."""
    settings = connection.settings_dict
    return (f"postgres://{settings['USER']}@{settings['HOST'] or '127.0.0.1'}:"
            f"{settings['PORT'] or 5432}/{settings['NAME']}")


@pytest.fixture(scope="session")
def broker() -> str:
    """The test Redis database; each run's queues have a prefix of their own (tests/live.py)."""
    return str(django_settings.CELERY_BROKER_URL)


@pytest.fixture(scope="session")
def server_url(database_url: str, broker: str) -> Iterator[str]:
    """A gunicorn Sluice on the test database, for the whole session."""
    server, url = start_server(database_url, LOGS / "server.log")
    yield url
    server.stop()


@pytest.fixture(scope="session")
def worker(database_url: str, broker: str) -> Iterator[LiveProcess]:
    """A Celery worker process on the test database and Redis, for the whole session."""
    process = start_worker(database_url, LOGS / "worker.log")
    yield process
    process.stop()


@pytest.fixture
def orm(django_db_blocker: Any) -> Iterator[None]:
    """In-process database access outside a test transaction: the test sees what the live
    server and worker committed."""
    with django_db_blocker.unblock():
        yield


@dataclass(frozen=True)
class OrgKeys:
    slug: str
    secret_key: str
    write_key: str


@pytest.fixture
def make_org(django_db_blocker: Any) -> Callable[..., OrgKeys]:
    """Makes committed orgs (visible to the live server), each with a unique slug."""

    def make(prefix: str = "Org") -> OrgKeys:
        slug = f"{prefix}{os.getpid()}x{next(_org_numbers)}"
        with django_db_blocker.unblock():
            created = org_create(actor=ACTOR, slug=slug)
        return OrgKeys(slug, created.secret_key, created.write_key)

    return make


@pytest.fixture
def org(make_org: Callable[..., OrgKeys]) -> OrgKeys:
    return make_org()


class Api(httpx.Client):
    """An HTTP client of one org on the live server, with its secret key by default."""

    def __init__(self, base_url: str, org: OrgKeys) -> None:
        super().__init__(base_url=f"{base_url}/v1/{org.slug}", timeout=30,
                         headers={"Authorization": f"ApiKey {org.secret_key}"})
        self.org = org
        self.root = base_url


@pytest.fixture
def api(server_url: str, org: OrgKeys) -> Iterator[Api]:
    with Api(server_url, org) as client:
        yield client


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    """Headless Chromium for one test module. Playwright's sync API keeps an event loop
    running in this thread, which Django takes for an async context; the tests' own ORM
    reads are plain synchronous code, so that check is switched off while it runs."""
    with pytest.MonkeyPatch.context() as patch, sync_playwright() as playwright:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
        connections.close_all()  # those opened while Playwright's loop ran


def pytest_configure() -> None:
    Path(LOGS).mkdir(parents=True, exist_ok=True)
