"""The browser tracker and the usage collector in headless Chromium under a low rate limit:
while another sender keeps the write key's bucket empty they are answered 429 (whose
Retry-After and RateLimit headers a page may read), and once it stops everything they queued
arrives, once."""

import threading
import time
from typing import Any

import httpx
import pytest

from tests.ingestion.test_limits import limits_set
from tests.tracker.test_browser import (
    COLLECTOR_SCRIPT,
    arrive_exactly_once,
    builtin_id,
    collector_page,
    new_markers,
    track_bookings,
    tracker_page,
)

pytestmark = [pytest.mark.browser, pytest.mark.e2e]
HOG_SECONDS = 4.0


class Hog:
    """Another sender with the same key, as fast as it can for HOG_SECONDS: it takes every
    token as it comes back (its requests name no collection, so they store nothing)."""

    def __init__(self, server_url: str, org: Any) -> None:
        self.url = f"{server_url}/v1/{org.slug}/collections/0/data"
        self.key = org.write_key
        self.statuses: list[int] = []
        self.thread = threading.Thread(target=self._send)

    def __enter__(self) -> "Hog":
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.thread.join()

    def _send(self) -> None:
        deadline = time.monotonic() + HOG_SECONDS
        with httpx.Client(timeout=10, headers={"x-api-key": self.key}) as client:
            while time.monotonic() < deadline:
                self.statuses.append(client.post(self.url, json={}).status_code)


def answers_to(page: Any, path: str) -> list[tuple[int, dict[str, str]]]:
    """The status and headers (as the page's script may read them) of each answer to `path`,
    a list that fills as they come."""
    seen: list[tuple[int, dict[str, str]]] = []
    page.on("response", lambda r: seen.append((r.status, r.headers))
            if r.url.endswith(path) and r.request.method == "POST" else None)
    return seen


def exposed(headers: dict[str, str]) -> set[str]:
    return {name.strip().lower()
            for name in headers.get("access-control-expose-headers", "").split(",")}


def test_the_tracker_backs_off_on_429_and_delivers_everything(page, site, shop, script_url,
                                                              server_url, orm):
    api = shop["api"]
    limits_set(api.org.slug, rate_limit_key=1, rate_limit_key_burst=1)
    seen = answers_to(page, "/track")
    page.goto(site.serve("/book", tracker_page(script_url, api, shop["trackerId"])))
    sent = new_markers(5)
    with Hog(server_url, api.org) as hog:
        page.wait_for_timeout(300)
        track_bookings(page, shop["trackerId"], sent)
        arrive_exactly_once(page, shop["collection"]["id"], "bookingId", sent)
    assert 429 in hog.statuses
    refused = [headers for status, headers in seen if status == 429]
    assert refused, seen
    assert int(refused[0]["retry-after"]) >= 1 and "ratelimit" in refused[0]
    assert {"retry-after", "ratelimit", "ratelimit-policy"} <= exposed(refused[0])
    assert seen[-1][0] == 202


def test_the_collector_backs_off_on_429_and_delivers_everything(page, site, shop, script_url,
                                                                server_url, orm):
    api = shop["api"]
    limits_set(api.org.slug, rate_limit_key=1, rate_limit_key_burst=1)
    initialized, collected = answers_to(page, "/api/initialize"), answers_to(page, "/api/collect")
    page.goto(site.serve("/projects", collector_page(script_url)))
    sent = new_markers(3)
    with Hog(server_url, api.org):
        page.wait_for_timeout(300)
        page.evaluate(COLLECTOR_SCRIPT, [api.org.write_key, "acme.example", "ann@acme.example"])
        page.evaluate("""features => features.forEach(
            f => usageCollector.track("clicked", f))""", sent)
        page.wait_for_timeout(int(HOG_SECONDS * 1000))
    limits_set(api.org.slug, rate_limit_key=None, rate_limit_key_burst=None)
    arrive_exactly_once(page, builtin_id(api, "events"), "feature", sent)
    statuses = [status for status, _ in initialized + collected]
    assert 429 in statuses, statuses
