"""Rate limits per key and per org, and the cap and retention of rejected records: a burst over
the limit is answered 429 with Retry-After and the RateLimit headers, and every record
answered 202 is stored once; an org's own limits apply; rejected records past the cap are
counted as dropped, and those past the retention period are deleted."""

import re
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import httpx
import pytest
from django.core.cache import cache
from django.test import override_settings
from django.utils import timezone

from apps.core import ratelimits
from apps.core.ids import id_at
from apps.ingestion.metrics import metrics_text
from apps.orgs.models import ApiKey, Org
from apps.records.models import Record, RejectedRecord
from apps.records.services import rejected_prune
from apps.records.tasks import PRUNE_DUE_KEY
from tests.fixtures import record
from tests.helpers import wait_for

POLICY = re.compile(r'^"key";q=(\d+);w=(\d+), "org";q=(\d+);w=(\d+)$')
LEVEL = re.compile(r'^"key";r=(\d+);t=(\d+), "org";r=(\d+);t=(\d+)$')


def limits_set(slug: str, **limits: int | None) -> None:
    """Gives the org limits of its own (as the admin does): they apply from the next request."""
    org = Org.objects.get(slug=slug)
    for name, value in limits.items():
        setattr(org, name, value)
    org.save()


def booking() -> dict[str, Any]:
    return {**record("flight-booking"), "eventId": str(uuid.uuid4())}


def burst(url: str, key: str, count: int, senders: int = 8) -> list[tuple[str, httpx.Response]]:
    """`count` single-booking requests at once from `senders` clients: each eventId sent with
    the answer it got."""
    def send(_: int) -> tuple[str, httpx.Response]:
        sent = booking()
        with httpx.Client(timeout=30, headers={"x-api-key": key}) as client:
            return sent["eventId"], client.post(url, json=sent)

    with ThreadPoolExecutor(senders) as pool:
        return list(pool.map(send, range(count)))


def test_a_burst_over_the_key_limit_gets_429s_and_every_202_is_stored_once(api, flights, orm):
    limits_set(api.org.slug, rate_limit_key=5, rate_limit_key_burst=20)
    coll_id = int(flights["collection"]["id"])
    started = time.monotonic()
    answers = burst(f"{str(api.base_url).rstrip('/')}/collections/{coll_id}/data",
                    api.org.write_key, 300)
    most = 20 + 5 * (time.monotonic() - started) + 1  # the burst, and what refilled meanwhile

    accepted = {event_id for event_id, answer in answers if answer.status_code == 202}
    refused = [answer for _, answer in answers if answer.status_code == 429]
    assert {answer.status_code for _, answer in answers} == {202, 429}
    assert 20 <= len(accepted) <= most and len(accepted) + len(refused) == 300
    for answer in refused:
        body = answer.json()
        assert answer.headers["Content-Type"] == "application/problem+json"
        assert body["code"] == "rate_limited" and body["status"] == 429
        assert "the key's (5 requests a second, 20 at once)" in body["detail"]
        assert int(answer.headers["Retry-After"]) == body["retryAfter"] >= 1
        assert POLICY.match(answer.headers["RateLimit-Policy"]).groups()[:2] == ("20", "4")
        assert LEVEL.match(answer.headers["RateLimit"]).group(1) == "0"
    for _, answer in answers:
        if answer.status_code == 202:
            assert POLICY.match(answer.headers["RateLimit-Policy"])
            assert LEVEL.match(answer.headers["RateLimit"])

    stored = Record.objects.filter(collection_id=coll_id)
    wait_for(lambda: stored.count() >= len(accepted), timeout=30)
    keys = list(stored.values_list("key", flat=True))
    assert sorted(keys) == sorted(accepted)  # each accepted one, once; nothing refused


def test_after_retry_after_the_key_is_served_again(api, flights, orm):
    limits_set(api.org.slug, rate_limit_key=1, rate_limit_key_burst=2)
    url = f"/collections/{flights['collection']['id']}/data"
    assert [api.post(url, json=booking()).status_code for _ in range(3)] == [202, 202, 429]
    refused = api.post(url, json=booking())
    assert refused.status_code == 429
    wait_for(lambda: api.post(url, json=booking()).status_code == 202,
             timeout=int(refused.headers["Retry-After"]) + 3, interval=0.5)


def test_an_orgs_own_limits_apply_to_it_alone(api, flights, make_org, server_url, orm):
    limits_set(api.org.slug, rate_limit_org=1, rate_limit_org_burst=4)
    other = make_org()
    url = f"/collections/{flights['collection']['id']}/data"
    statuses = [api.post(url, json=booking(), headers={"Authorization": "", "x-api-key": key})
                .status_code for key in [api.org.write_key, api.org.secret_key] * 3]
    assert statuses == [202, 202, 202, 202, 429, 429]  # the org's 4, whichever key
    refused = api.get("/sources")
    assert refused.status_code == 429
    assert "the org's (1 requests a second, 4 at once)" in refused.json()["detail"]
    assert POLICY.match(refused.headers["RateLimit-Policy"]).groups()[2:] == ("4", "4")

    with httpx.Client(base_url=f"{server_url}/v1/{other.slug}",
                      headers={"x-api-key": other.secret_key}) as client:
        assert {client.get("/sources").status_code for _ in range(10)} == {200}


DOORS = {  # each front door, asked as its senders ask it, with the org's secret key
    "the API": lambda c, org: c.get(f"/v1/{org.slug}/sources"),
    "the tracker": lambda c, org: c.post(f"/v1/{org.slug}/track", json={"batch": []}),
    "the collector": lambda c, org: c.post("/api/initialize", json={}),
    "Segment's API": lambda c, org: httpx.post(
        f"{str(c.base_url).rstrip('/')}/v1/batch", json={"batch": []}, auth=(org.secret_key, "")),
    "the /v3 API": lambda c, org: c.get("/v3/product"),
}


@pytest.mark.parametrize("door", DOORS)
def test_every_front_door_is_limited(api, server_url, door, orm):
    limits_set(api.org.slug, rate_limit_org=1, rate_limit_org_burst=1)
    with httpx.Client(base_url=server_url, headers={"x-api-key": api.org.secret_key}) as client:
        def refused_at_the_door() -> httpx.Response | None:
            while api.get("/sources").status_code != 429:  # the org's bucket, emptied
                pass
            answer = DOORS[door](client, api.org)
            return answer if answer.status_code == 429 else None  # a token came back between

        answer = wait_for(refused_at_the_door, timeout=20)
    assert answer.json()["code"] == "rate_limited" and int(answer.headers["Retry-After"]) >= 1
    assert LEVEL.match(answer.headers["RateLimit"]).group(3) == "0"


def test_a_limit_of_zero_is_no_limit(api, orm):
    limits_set(api.org.slug, rate_limit_key=0, rate_limit_org=0)
    answers = [api.get("/sources") for _ in range(5)]
    assert {answer.status_code for answer in answers} == {200}
    assert "RateLimit" not in answers[0].headers


def test_another_orgs_key_is_not_told_of_limits(api, make_org, server_url, orm):
    limits_set(api.org.slug, rate_limit_key=1, rate_limit_key_burst=1)
    other = make_org()
    with httpx.Client(base_url=server_url, headers={"x-api-key": other.secret_key}) as client:
        answers = [client.get(f"/v1/{api.org.slug}/sources") for _ in range(3)]
    assert [answer.status_code for answer in answers] == [404, 404, 404]
    assert "RateLimit" not in answers[0].headers


@pytest.mark.django_db
def test_while_redis_does_not_answer_requests_pass_unchecked_and_are_counted():
    org = Org(id=1, slug="away")
    key = ApiKey(id=2, org=org)
    ratelimits._script.cache_clear()
    before = ratelimits.unchecked.count
    try:
        with override_settings(REDIS_URL="redis://127.0.0.1:1/0"):
            assert ratelimits.request_admitted(key) is None
            assert ratelimits.request_admitted(key) is None  # paused: not even tried
    finally:
        ratelimits._script.cache_clear()
        ratelimits.unchecked.paused_until = 0.0
    assert ratelimits.unchecked.count == before + 2
    assert (f"sluice_rate_limit_unchecked_requests_total {before + 2}.0"
            in metrics_text().decode())


def invalid_booking() -> dict[str, Any]:
    return {**booking(), "flightId": 4711}  # a string in the schema


def test_rejected_records_past_the_cap_are_counted_as_dropped_not_kept(api, flights, orm):
    limits_set(api.org.slug, rejected_cap=3)
    coll_id = flights["collection"]["id"]
    url = f"/collections/{coll_id}/data?wait=true"
    first = api.post(url, json=[invalid_booking() for _ in range(5)])
    assert first.status_code == 400 and first.json()["warnings"] == []

    assert RejectedRecord.objects.filter(collection_id=int(coll_id)).count() == 3
    listed = api.get("/rejected", params={"collId": coll_id}).json()
    assert len(listed["_embedded"]["rejected"]) == 3 and listed["dropped"] == 2
    assert api.get("/rejected").json()["dropped"] == 2
    assert api.get(f"/collections/{coll_id}").json()["rejectedDropped"] == 2

    again = api.post(url, json=[booking(), invalid_booking()])
    assert again.status_code == 200
    assert again.json()["warnings"] == [{
        "collId": coll_id, "code": "rejected_dropped", "dropped": 2,
        "detail": "This collection holds its cap of rejected records: records rejected now "
        "are counted as dropped, not kept (`dropped`: so far). Replay or wait for older ones "
        "to pass their retention period, or raise the org's cap."}]
    wait_for(lambda: api.get(f"/collections/{coll_id}").json()["rejectedDropped"] == 3)
    assert RejectedRecord.objects.filter(collection_id=int(coll_id)).count() == 3

    limits_set(api.org.slug, rejected_cap=None)  # the setting's cap: room again
    assert api.post(url, json=[invalid_booking()]).json()["warnings"] == [{
        "collId": coll_id, "code": "rejected_dropped", "dropped": 3,
        "detail": again.json()["warnings"][0]["detail"]}]  # as of the last write
    assert RejectedRecord.objects.filter(collection_id=int(coll_id)).count() == 4
    assert api.post(url, json=[invalid_booking()]).json()["warnings"] == []


def rejected_at(coll_id: int, org_slug: str, days_ago: float) -> RejectedRecord:
    org = Org.objects.get(slug=org_slug)
    when = timezone.now() - timedelta(days=days_ago)
    return RejectedRecord.objects.create(
        id=id_at(int(when.timestamp() * 1000)) + 1, org=org, collection_id=coll_id,
        schema_version=1, raw=invalid_booking(), errors=[], received_at=when)


def test_rejected_records_past_the_retention_period_are_deleted(api, flights, worker, orm):
    coll_id = int(flights["collection"]["id"])
    old = [rejected_at(coll_id, api.org.slug, days) for days in (45, 31)]
    recent = [rejected_at(coll_id, api.org.slug, days) for days in (29, 1)]
    cache.delete(PRUNE_DUE_KEY)  # as if the last prune was over an hour ago

    # the worker that stores this asks for a prune, and a worker runs it
    assert api.post(f"/collections/{coll_id}/data", json=booking()).status_code == 202
    wait_for(lambda: not RejectedRecord.objects.filter(id__in=[r.id for r in old]).exists())
    assert set(RejectedRecord.objects.filter(collection_id=coll_id)
               .values_list("id", flat=True)) == {r.id for r in recent}
    assert cache.get(PRUNE_DUE_KEY) is not None  # the next one in an hour

    rejected_at(coll_id, api.org.slug, 40)
    assert rejected_prune() == 1
