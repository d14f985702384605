"""Segment's Node and browser libraries under a low rate limit: they are answered 429 with
Retry-After, wait, and deliver every message once."""

import pytest

from tests.helpers import wait_for
from tests.ingestion.test_limits import limits_set
from tests.segment.sdk import read
from tests.segment.test_browser_sdk import Traffic, shop_page
from tests.segment.test_node_sdk import node_sdk
from tests.tracker.test_limits import Hog


def test_the_node_library_backs_off_on_429_and_delivers_everything(api, worker, orm):
    limits_set(api.org.slug, rate_limit_key=2, rate_limit_key_burst=3)
    requests = node_sdk(api, [("track", {"userId": f"u-{n % 3}", "event": "Throttled",
                                         "properties": {"n": n}}) for n in range(200)],
                        flushAt=20)

    statuses = [request.get("status") for request in requests]
    assert 429 in statuses and 200 in statuses, statuses
    sent = {m["messageId"] for r in requests for m in r["body"]["batch"]}
    assert len(sent) == 200
    limits_set(api.org.slug, rate_limit_key=None, rate_limit_key_burst=None)  # to read back
    events = wait_for(lambda: len(found := read(api, "events", event="Throttled")) == 200
                      and found, timeout=60)
    assert sorted(event["eventId"] for event in events) == sorted(sent)


@pytest.mark.browser
@pytest.mark.e2e
def test_the_browser_library_backs_off_on_429_and_delivers_everything(api, worker, orm,
                                                                      server_url, site, page):
    limits_set(api.org.slug, rate_limit_key=1, rate_limit_key_burst=1)
    traffic = Traffic(page, server_url)
    page.goto(site.serve("/limited", shop_page(server_url, api.org.write_key)))
    with Hog(server_url, api.org):
        page.wait_for_timeout(300)
        page.evaluate("""async () => { await window.ready
            for (const n of [1, 2, 3]) analytics.track('Throttled', {n}) }""")
        traffic.until(lambda: any(status == 429 for _, status, _ in traffic.calls()))
    limits_set(api.org.slug, rate_limit_key=None, rate_limit_key_burst=None)
    traffic.until(lambda: len(read(api, "events", event="Throttled")) == 3, timeout=30)
    page.wait_for_timeout(2000)  # nothing more comes: each once
    assert sorted(e["properties"]["n"] for e in read(api, "events", event="Throttled")) == [
        1, 2, 3]
