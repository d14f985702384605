"""Segment's Node library under a low rate limit: it is answered 429 with Retry-After, waits,
and delivers every message once."""

from tests.helpers import wait_for
from tests.ingestion.test_limits import limits_set
from tests.segment.sdk import read
from tests.segment.test_node_sdk import node_sdk


def test_the_node_library_backs_off_on_429_and_delivers_everything(api, worker, orm):
    limits_set(api.org.slug, rate_limit_key=2, rate_limit_key_burst=3)
    requests = node_sdk(api, [("track", {"userId": f"u-{n % 3}", "event": "Throttled",
                                         "properties": {"n": n}}) for n in range(200)],
                        flushAt=20)

    statuses = [request["status"] for request in requests]
    assert 429 in statuses and statuses.count(200) == 10  # each batch taken once, at last
    sent = {m["messageId"] for r in requests for m in r["body"]["batch"]}
    assert len(sent) == 200
    limits_set(api.org.slug, rate_limit_key=None, rate_limit_key_burst=None)  # to read back
    events = wait_for(lambda: len(found := read(api, "events", event="Throttled")) == 200
                      and found, timeout=60)
    assert sorted(event["eventId"] for event in events) == sorted(sent)
