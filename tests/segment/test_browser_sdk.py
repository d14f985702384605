"""Segment's browser library (@segment/analytics-next, pinned in js/package.json) in headless
Chromium, served from the installed package (its UMD build, in the page) and configured with
Sluice as its API host and its settings given in the page (no settings fetched from Segment's
CDN): a page on its own origin calls page, identify and track; Sluice answers the browser
(CORS preflight included), keeps each message field by field as the library sent it, and the
page asks nothing of any host but its own and Sluice. The same with the library's batching
strategy, and a send retried after Sluice was unavailable."""

import json
import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.helpers import wait_for
from tests.segment.sdk import (
    JS,
    event_record,
    flat,
    moment,
    page_record,
    read,
    received_between,
    user_fields,
)

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

UMD = JS / "node_modules/@segment/analytics-next/dist/umd/index.js"


def shop_page(server_url: str, write_key: str, **segment: Any) -> str:
    """A page with the library, sending to Sluice as Segment documents for another API host: the
    Segment.io settings in the page and in the load options (the options' apiHost is where it
    also sends its own metrics; their 30 s timer is shortened to see where they go)."""
    api_host = f"{urlsplit(server_url).netloc}/v1"
    endpoint = {"apiHost": api_host, "protocol": "http", **segment}
    settings = {"writeKey": write_key, "cdnSettings": {
        "integrations": {"Segment.io": {"apiKey": write_key, **endpoint}},
        "metrics": {"flushTimer": 200}}}
    options = {"integrations": {"Segment.io": endpoint}}
    return f"""<!doctype html><html><head><title>Pricing</title>
<script>{UMD.read_text()}</script>
<script>
window.ready = AnalyticsNext.AnalyticsBrowser.load({json.dumps(settings)},
                                                   {json.dumps(options)})
  .then(([analytics]) => {{ window.analytics = analytics }})
</script></head><body><h1>Pricing</h1></body></html>"""


CALLS = """async () => {
  await window.ready
  await analytics.page('Docs', 'Pricing', {plan: 'pro'})
  await analytics.identify('u-ann', {email: 'ann@acme.example', firstName: 'Ann', plan: 'pro',
                                     prefs: {theme: 'dark'}})
  await analytics.track('Report Exported', {format: 'csv', rows: 120, ok: true,
                                            filters: {from: '2024-01'}, tags: ['a', 'b']})
}"""


class Traffic:
    """Every request the page makes, the answers and failures of those to Sluice, and what
    the page logs."""

    def __init__(self, tab: Any, sluice: str) -> None:
        self.tab, self.sluice = tab, sluice
        self.urls: list[str] = []
        self.answers: list[tuple[str, int, str | None, Any]] = []
        self.failed: list[tuple[str, str | None]] = []
        self.console: list[str] = []
        tab.on("request", lambda request: self.urls.append(request.url))
        tab.on("requestfailed", lambda request: self.failed.append(
            (urlsplit(request.url).path, request.failure)))
        tab.on("response", self._answered)
        tab.on("console", lambda message: self.console.append(message.text))

    def _answered(self, response: Any) -> None:
        request = response.request
        if request.url.startswith(self.sluice) and request.method == "POST":
            self.answers.append((urlsplit(request.url).path, response.status,
                                 response.headers.get("access-control-allow-origin"),
                                 request.post_data_json))

    def until(self, check: Any, timeout: float = 15) -> None:
        """Lets the page run until `check()` holds (the page's events reach Python only while
        Playwright runs)."""
        deadline = time.monotonic() + timeout
        while not check():
            assert time.monotonic() < deadline, (self.answers, self.failed, self.console)
            self.tab.wait_for_timeout(50)

    def calls(self) -> list[tuple[str, int, str | None]]:
        """The Segment calls' answers (not the library's metrics, at /v1/m)."""
        return [(path, status, allowed) for path, status, allowed, _ in self.answers
                if path != "/v1/m"]

    def messages(self) -> dict[str, tuple[dict[str, Any], str]]:
        """The messages sent, by type, each with its sentAt (its own, or its batch's)."""
        found = {}
        for _, _, _, body in self.answers:
            for message in body.get("batch", [body]):
                if "type" in message:
                    found[message["type"]] = (message, message.get("sentAt") or body["sentAt"])
        return found


def run_calls(tab: Any, site: Any, sluice: str, api: Any, **segment: Any) -> Traffic:
    traffic = Traffic(tab, sluice)
    site.serve("/favicon.ico", "")  # that the page logs nothing else
    tab.goto(site.serve("/pricing", shop_page(sluice, api.org.write_key, **segment)))
    tab.evaluate(CALLS)
    # the calls are sent; the library's metrics follow on their timer
    traffic.until(lambda: f"{sluice}/v1/m" in traffic.urls and len(traffic.messages()) == 3)
    return traffic


def check_stored(api: Any, traffic: Traffic, origin: str, start: datetime,
                 end: datetime) -> None:
    messages = traffic.messages()
    visitor = messages["page"][0]["anonymousId"]
    track, sent_at = messages["track"]
    [event] = wait_for(lambda: read(api, "events", eventId=track["messageId"]))
    assert event == event_record(track, sent_at, received_between(event, start, end))
    assert (event["userId"], event["visitorId"]) == ("u-ann", visitor)
    assert event["properties"] == {"format": "csv", "rows": 120, "ok": True,
                                   "filters": '{"from": "2024-01"}', "tags": '["a", "b"]'}
    assert json.loads(event["context"]["library"]) == {"name": "analytics.js",
                                                       "version": "next-1.84.3"}

    identify = messages["identify"][0]
    [user] = wait_for(lambda: read(api, "users", userId="u-ann"))
    assert user == {"userId": "u-ann", "accountId": None, "visitorId": visitor,
                    "address": None, "paymentProcessorIds": {},
                    **user_fields(identify["traits"])}
    assert user["traits"] == flat({"plan": "pro", "prefs": {"theme": "dark"}})
    merges = wait_for(lambda: api.get("/profiles/merges").json()["merges"])
    assert [(m["visitorId"], m["userId"], m["status"]) for m in merges] == [
        (visitor, "u-ann", "merged")]

    page_message, sent_at = messages["page"]
    [page] = wait_for(lambda: read(api, "pages", eventId=page_message["messageId"]))
    assert (page["url"], page["title"], page["path"], page["name"], page["category"],
            page["userId"], page["visitorId"]) == (
        f"{origin}/pricing", "Pricing", "/pricing", "Pricing", "Docs", None, visitor)
    assert page == page_record(page_message, sent_at, received_between(page, start, end))
    assert page["properties"] == {"search": "", "plan": "pro"}


def test_page_identify_and_track_from_a_real_page_land_as_sent(api, worker, orm, server_url,
                                                               site, page):
    start = datetime.now(UTC)
    traffic = run_calls(page, site, server_url, api)
    end = datetime.now(UTC)

    # one request per call, each on its short form, answered to the page's origin; the
    # library's own metrics taken too, and nothing failed or logged
    assert traffic.calls() == [
        ("/v1/p", 200, site.origin), ("/v1/i", 200, site.origin), ("/v1/t", 200, site.origin)]
    assert {(status, allowed) for path, status, allowed, _ in traffic.answers
            if path == "/v1/m"} == {(204, site.origin)}
    assert traffic.failed == []
    assert traffic.console == []
    # its own page and library, Sluice, and nothing else: no CDN, no api.segment.io
    assert {f"{urlsplit(url).scheme}://{urlsplit(url).netloc}" for url in traffic.urls} == {
        site.origin, server_url}, traffic.urls
    for _, sent_at in traffic.messages().values():
        assert start <= moment(sent_at) <= end
    check_stored(api, traffic, site.origin, start, end)


def test_a_send_that_failed_once_lands_when_retried(api, worker, orm, proxy, site, page):
    """Sluice is unavailable (503) for the first send; the library retries, with an
    X-Retry-Count header its preflight must allow, and the event lands once Sluice is back."""
    traffic = Traffic(page, proxy.url)
    retries: list[str | None] = []
    page.on("request", lambda request: request.method == "POST"
            and request.url == f"{proxy.url}/v1/t"
            and retries.append(request.headers.get("x-retry-count")))
    page.goto(site.serve("/retry", shop_page(proxy.url, api.org.write_key)))
    proxy.switch("503")
    page.evaluate("async () => { await window.ready; analytics.track('Retried', {n: 1}) }")
    traffic.until(lambda: proxy.failures() >= 1)
    proxy.switch("up")
    try:
        traffic.until(lambda: read(api, "events", event="Retried"))
    except AssertionError as error:  # what the page logged, and what passed the proxy
        raise AssertionError(f"{error}; through the proxy: {proxy.log}") from error
    [event] = read(api, "events", event="Retried")
    assert event["properties"] == {"n": 1}
    assert retries[0] is None and retries[-1] is not None and int(retries[-1]) >= 1, retries


def test_the_batching_strategy_lands_the_same(api, worker, orm, server_url, site, page):
    """deliveryStrategy "batching" sends the three calls in one batch to <apiHost>/b."""
    start = datetime.now(UTC)
    traffic = run_calls(page, site, server_url, api, deliveryStrategy={
        "strategy": "batching", "config": {"size": 3, "timeout": 200}})
    end = datetime.now(UTC)

    assert [(path, status, allowed, len(body["batch"]))
            for path, status, allowed, body in traffic.answers if path != "/v1/m"] == [
        ("/v1/b", 200, site.origin, 3)]
    assert traffic.failed == []
    check_stored(api, traffic, site.origin, start, end)
