"""The browser tracker in headless Chromium, against a live Sluice (gunicorn and a Celery
worker) on 127.0.0.1. Pages come from the web app's own origin (another port), load the
script from Sluice, and what each test asserts is what PostgreSQL holds.

Exactly once: the tracker gives every record an eventId, and the collections here are keyed
by it, so a retried send can only update its own row; a record sent twice under two ids
would be two rows. Each tracked call carries a unique marker, and a test waits until every
marker is stored, lets the tracker run on a while longer, and then requires exactly one row
per marker and no row it did not send."""

import json
import time
import uuid
from collections import Counter

import httpx
import pytest

from apps.catalog.models import Collection
from apps.records.models import Record, RejectedRecord
from apps.sources.models import Source
from tests.conftest import Api
from tests.helpers import create_source, wait_for
from tests.tracker.conftest import served_script

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

SETTLE_SECONDS = 3  # how long the tracker may go on sending after everything has arrived
ARRIVAL_SECONDS = 30


def tracker_page(script_url, api, tracker_id, title="Flights"):
    """A page instrumented as seed 001 shows: the snippet, then `_intempt[id].track(...)`.
    The tracker sends to where its script came from."""
    return f"""<!doctype html><html><head><title>{title}</title>
<script src="{script_url}" data-org="{api.org.slug}" data-write-key="{api.org.write_key}"
        data-tracker-id="{tracker_id}"></script></head>
<body><h1>{title}</h1></body></html>"""


def collector_page(script_url, title="Projects"):
    """A page instrumented as seed 000 shows: the collector's script in <head>."""
    return f"""<!doctype html><html><head><title>{title}</title>
<script src="{script_url}"></script></head><body><h1>{title}</h1></body></html>"""


def booking(marker):
    return {"bookingId": marker, "flightId": "1", "bookingStatus": "booked",
            "bookingDate": "2020-05-25"}


def track_bookings(page, tracker_id, sent):
    page.evaluate("""([id, bookings]) => bookings.forEach(
        b => window._intempt[id].track("flight-booking", b))""",
                  [tracker_id, [booking(marker) for marker in sent]])


def stored_by(collection_id, field):
    rows = Record.objects.filter(collection_id=int(collection_id))
    return Counter(row.data.get(field) for row in rows)


def wait_in(page, check, timeout=ARRIVAL_SECONDS):
    """Polls `check` until it answers something truthy, letting Playwright run meanwhile
    (its routes and event handlers run only while the test is inside a Playwright call)."""
    deadline = time.monotonic() + timeout
    while not (result := check()):
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting after {timeout}s; last result {result!r}")
        page.wait_for_timeout(100)
    return result


def arrive_exactly_once(page, collection_id, field, sent, timeout=ARRIVAL_SECONDS):
    """Waits for a row of each marker, lets the tracker run on, then requires exactly one
    row per marker and no other row."""
    wait_in(page, lambda: set(sent) <= set(stored_by(collection_id, field)), timeout)
    page.wait_for_timeout(SETTLE_SECONDS * 1000)
    counts = stored_by(collection_id, field)
    assert counts == Counter({marker: 1 for marker in sent}), counts
    assert not RejectedRecord.objects.filter(collection_id=int(collection_id)).exists()


def new_markers(count):
    return [f"b-{uuid.uuid4().hex[:8]}" for _ in range(count)]


# ---------------------------------------------------------------------------
# Seed 001: the Intempt-style snippet
# ---------------------------------------------------------------------------
def test_the_seed_001_snippet_sends_the_flight_booking_once(page, site, shop, script_url, orm):
    tracker_id = shop["trackerId"]
    console = []
    page.on("console", lambda message: console.append(message.text))
    page.goto(site.serve("/book", tracker_page(script_url, shop["api"], tracker_id)))
    page.evaluate("""id => window._intempt[id].track("flight-booking", {"bookingId": "1",
        "flightId": "1", "bookingStatus": "booked", "bookingDate": "2020-05-25"})""",
                  tracker_id)
    coll_id = shop["collection"]["id"]
    arrive_exactly_once(page, coll_id, "bookingId", ["1"])
    [row] = Record.objects.filter(collection_id=int(coll_id))
    assert row.key == row.data["eventId"]
    assert uuid.UUID(row.data["eventId"])
    assert row.data["visitorId"]
    assert {k: row.data[k] for k in booking("1")} == booking("1")
    assert [line for line in console if line.startswith("[Intempt]")][:2] == [
                           "[Intempt] Flushing events queue 1",
                           "[Intempt] Successfully sent batch of event"]


SNIPPET = """<!doctype html><html><head><title>Shop</title><script>
!function(w,d){{var s=w.sluice=w.sluice||[];if(s.load)return;s.methods=["load","track","page",
"identify","flush"];s.methods.forEach(function(m){{s[m]=function(){{s.push([m].concat(
[].slice.call(arguments)));return s}}}});var e=d.createElement("script");e.async=1;
e.src="{script}";d.head.appendChild(e)}}(window,document);
sluice.load({{endpoint: "{endpoint}", org: "{org}", trackerId: "{tracker}", writeKey: "{key}"}});
sluice.track("flight-booking", {booking});
</script></head><body>shop</body></html>"""


def test_calls_made_before_the_script_loads_are_sent_once(page, site, shop, script_url,
                                                         server_url, orm):
    """The README's snippet queues calls until the script has loaded, then replays them."""
    api = shop["api"]
    html = SNIPPET.format(script=script_url, endpoint=server_url, org=api.org.slug,
                          tracker=shop["trackerId"], key=api.org.write_key,
                          booking=json.dumps(booking("early")))
    page.goto(site.serve("/shop", html))
    page.evaluate("b => sluice.track('flight-booking', b)", booking("later"))
    arrive_exactly_once(page, shop["collection"]["id"], "bookingId", ["early", "later"])


# ---------------------------------------------------------------------------
# Seed 000: the Churn360-style usage collector
# ---------------------------------------------------------------------------
COLLECTOR_SCRIPT = """([key, customer, email]) => {
  var usageCollector = new churn360.UsageCollector();
  usageCollector.initialize(key, customer, email);
  window.usageCollector = usageCollector;
}"""
COLLECTOR_CALLS = """() => {
  usageCollector.page({"domain": document.domain, "environment": "dev",
                       "subscripition": "premium"});
  usageCollector.track("view more clicked", "product details",
                       {"projectId": "075129da-99dc-466b-beff-166e2655550d"});
  usageCollector.identify({firstName: "David", lastName: "Thomson",
                           email: "Thomson@Example.com", phone: "1234567890",
                           address: {street: "39 Thunder Road", city: "Oakland",
                                     state: "California", postalCode: "94612",
                                     country: "United States"}});
}"""


def builtin_id(api, name):
    return Collection.objects.get(org__slug=api.org.slug, name=name).id


def test_the_seed_000_collector_sends_page_track_and_identify(page, site, shop, script_url, orm):
    api = shop["api"]
    referrer = site.serve("/", "<a href='/projects'>projects</a>")
    site.serve("/projects", collector_page(script_url))
    page.goto(referrer)
    page.click("a")
    page.wait_for_url("**/projects")
    page.evaluate(COLLECTOR_SCRIPT, [api.org.write_key, "acme.example", "ann@acme.example"])
    page.evaluate(COLLECTOR_CALLS)

    pages, events, users = (builtin_id(api, n) for n in ("pages", "events", "users"))
    wait_in(page, lambda: all(Record.objects.filter(collection_id=c).exists()
                              for c in (pages, events, users)))
    page.wait_for_timeout(SETTLE_SECONDS * 1000)
    [view] = [r.data for r in Record.objects.filter(collection_id=pages)]
    assert (view["url"], view["title"], view["referrer"], view["path"]) == (
        f"{site.origin}/projects", "Projects", f"{site.origin}/", "/projects")
    assert view["properties"]["environment"] == "dev"
    [event] = [r.data for r in Record.objects.filter(collection_id=events)]
    assert (event["event"], event["feature"], event["properties"]) == (
        "view more clicked", "product details",
        {"projectId": "075129da-99dc-466b-beff-166e2655550d"})
    for data in (view, event):
        assert (data["accountId"], data["userId"]) == ("acme.example", "ann@acme.example")
        assert data["visitorId"] and uuid.UUID(data["eventId"])
    [user] = [r.data for r in Record.objects.filter(collection_id=users)]
    assert {k: user[k] for k in ("userId", "accountId", "email", "firstName", "lastName",
                                 "phone")} == {
        "userId": "ann@acme.example", "accountId": "acme.example",
        "email": "Thomson@Example.com", "firstName": "David", "lastName": "Thomson",
        "phone": "1234567890"}
    assert user["address"]["city"] == "Oakland"
    [account] = Record.objects.filter(collection_id=builtin_id(api, "accounts"))
    assert account.key == "acme.example"


def initializations(page):
    """The /api/initialize requests the page makes, as a list that fills as they happen."""
    seen = []
    page.on("request", lambda r: seen.append(r) if r.url.endswith("/api/initialize") and
            r.method == "POST" else None)
    return seen


def test_an_expired_session_is_renewed_and_the_calls_resent(page, site, shop, script_url, orm):
    """Sluice answers the first collect with 401 `session_expired`, as after 20 minutes: the
    collector initializes again and resends, and every call is stored once."""
    api = shop["api"]
    expired = {"n": 0}

    def first_expires(route):
        if expired["n"] == 0:
            expired["n"] += 1
            route.fulfill(status=401, content_type="application/problem+json", headers={
                "Access-Control-Allow-Origin": site.origin,
                "Access-Control-Allow-Credentials": "true"},
                body=json.dumps({"code": "session_expired", "status": 401}))
        else:
            route.continue_()

    page.route("**/api/collect", first_expires)
    seen = initializations(page)
    page.goto(site.serve("/projects", collector_page(script_url)))
    page.evaluate(COLLECTOR_SCRIPT, [api.org.write_key, "acme.example", "ann@acme.example"])
    sent = new_markers(3)
    page.evaluate("""sent => sent.forEach(m => usageCollector.track("clicked", m))""", sent)
    arrive_exactly_once(page, builtin_id(api, "events"), "feature", sent)
    assert expired["n"] == 1 and len(seen) >= 2


def test_the_session_is_renewed_before_twenty_minutes_pass(page, site, shop, script_url):
    api = shop["api"]
    page.clock.install()
    seen = initializations(page)
    page.goto(site.serve("/projects", collector_page(script_url)))
    page.evaluate(COLLECTOR_SCRIPT, [api.org.write_key, "acme.example", "ann@acme.example"])
    # the renewal timer is set once the page has read the session, not when the answer lands
    wait_in(page, lambda: len(seen) == 1 and page.evaluate("() => !!usageCollector.token"),
            timeout=10)
    page.clock.run_for("19:59")
    wait_in(page, lambda: len(seen) >= 2, timeout=10)


def stored_events(api):
    return {r.data["feature"]: r.data for r in Record.objects.filter(
        collection_id=builtin_id(api, "events"))}


def test_initialize_with_the_key_alone_collects_until_identify_names_the_user(
        page, site, shop, script_url, orm):
    """Seed 000's `initialize(<API Key>)`: calls are stored by visitor, then identify names
    the user and the customer of the calls after it."""
    api = shop["api"]
    page.goto(site.serve("/projects", collector_page(script_url)))
    page.evaluate("""key => {
      window.usageCollector = new churn360.UsageCollector();
      usageCollector.initialize(key);
      usageCollector.track("clicked", "before");
      usageCollector.identify({email: "ann@acme.example", customerIdentifier: "acme.example"});
      usageCollector.track("clicked", "after");
    }""", api.org.write_key)
    events = wait_in(page, lambda: len(stored_events(api)) == 2 and stored_events(api))
    visitor = page.evaluate("() => JSON.parse(localStorage.getItem('sluice.visitorId'))")
    assert {feature: (e["userId"], e["accountId"], e["visitorId"])
            for feature, e in events.items()} == {
        "before": (None, None, visitor),
        "after": ("ann@acme.example", "acme.example", visitor)}
    [user] = Record.objects.filter(collection_id=builtin_id(api, "users"))
    assert (user.key, user.data["accountId"]) == ("ann@acme.example", "acme.example")


def console_of(page):
    """The page's console messages as (type, text), a list that fills as they come."""
    messages = []
    page.on("console", lambda m: messages.append((m.type, m.text)))
    return messages


def queued(page):
    return page.evaluate("""() => Object.keys(localStorage)
        .filter(k => k.startsWith("sluice.collector:"))
        .flatMap(k => JSON.parse(localStorage.getItem(k)).map(item => item.feature))""")


def test_a_refused_initialize_is_not_retried_and_the_calls_stay_queued(
        page, site, shop, script_url, orm):
    """A key Sluice does not know is refused (401): the collector says so once and stops;
    the call stays in localStorage, and the page fixed with a live key sends it."""
    api = shop["api"]
    messages = console_of(page)
    seen = initializations(page)
    url = site.serve("/projects", collector_page(script_url))
    page.goto(url)
    page.evaluate(COLLECTOR_SCRIPT, ["sluice_wk_nope", "acme.example", "ann@acme.example"])
    page.evaluate("""() => usageCollector.track("clicked", "kept")""")
    page.wait_for_timeout(4000)
    assert len(seen) == 1
    assert [text for kind, text in messages if kind == "error" and "[Churn360]" in text] == [
        "[Churn360] initialize answered 401: Send a valid API key of this org as 'Authorization:"
        " ApiKey <key>' or 'x-api-key: <key>'; not retrying. Queued calls stay in "
        "localStorage until a page with the fix loads."]
    assert queued(page) == ["kept"]
    page.goto(url)
    page.evaluate(COLLECTOR_SCRIPT, [api.org.write_key, "acme.example", "ann@acme.example"])
    arrive_exactly_once(page, builtin_id(api, "events"), "feature", ["kept"])


@pytest.mark.parametrize("status", [408, 429, 503])
def test_initialize_is_retried_while_sluice_is_busy_or_failing(page, site, shop, script_url,
                                                               orm, status):
    api = shop["api"]
    busy = {"n": 0}

    def first_two_fail(route):
        if busy["n"] < 2:
            busy["n"] += 1
            route.fulfill(status=status, content_type="application/problem+json", headers={
                "Access-Control-Allow-Origin": site.origin}, body=json.dumps({"status": status}))
        else:
            route.continue_()

    page.route("**/api/initialize", first_two_fail)
    page.goto(site.serve("/projects", collector_page(script_url)))
    page.evaluate(COLLECTOR_SCRIPT, [api.org.write_key, "acme.example", "ann@acme.example"])
    page.evaluate("""() => usageCollector.track("clicked", "retried")""")
    arrive_exactly_once(page, builtin_id(api, "events"), "feature", ["retried"])
    assert busy["n"] == 2


SESSION_FACTORY = """([base, key, token]) => {
  window.renewals = [];
  window.usageCollector = new churn360.UsageCollector();
  // the page's own server would do this with the key; here the page asks Sluice itself
  usageCollector.sessionFactory(token, function (current) {
    renewals.push(current);
    return fetch(base + "/api/initialize", {method: "POST", body: "{}",
        headers: {"Content-Type": "application/json", "x-api-key": key}})
      .then(r => r.json()).then(session => session.sessionToken);
  });
}"""


def test_session_factory_hands_the_session_over_and_renews_it_before_it_expires(
        page, site, shop, script_url, server_url, orm):
    api = shop["api"]
    token = httpx.post(f"{server_url}/api/initialize", json={},
                       headers={"x-api-key": api.org.write_key}).json()["sessionToken"]
    page.clock.install()
    seen = initializations(page)
    page.goto(site.serve("/projects", collector_page(script_url)))
    page.evaluate(SESSION_FACTORY, [server_url, api.org.write_key, token])
    page.evaluate("""() => usageCollector.track("clicked", "first")""")
    page.clock.run_for(2100)
    wait_in(page, lambda: "first" in stored_events(api))
    assert seen == [] and page.evaluate("() => usageCollector.token") == token
    page.clock.run_for("15:50")
    assert page.evaluate("() => renewals") == []
    page.clock.run_for("00:20")
    wait_in(page, lambda: len(seen) == 1 and page.evaluate("() => renewals") == [token],
            timeout=10)
    page.evaluate("""() => usageCollector.track("clicked", "renewed")""")
    page.clock.run_for(2100)
    wait_in(page, lambda: "renewed" in stored_events(api))


# ---------------------------------------------------------------------------
# Failures: the server away, the page reloaded
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("outage", ["down", "503"])
def test_records_tracked_while_the_server_is_away_arrive_once_it_is_back(
        page, site, shop, proxy, server_url, orm, outage):
    """The tracker's script and sends go through a proxy that stops answering (or answers
    503) while the page tracks, then forwards again."""
    tracker_id, coll_id = shop["trackerId"], shop["collection"]["id"]
    page.goto(site.serve("/book", tracker_page(served_script(proxy.url), shop["api"],
                                               tracker_id)))
    proxy.switch(outage)
    sent = new_markers(5)
    track_bookings(page, tracker_id, sent[:3])
    page.wait_for_timeout(2000)
    track_bookings(page, tracker_id, sent[3:])
    page.wait_for_timeout(2000)
    if outage == "503":
        assert proxy.failures() >= 1, "the tracker did not try while the server was away"
    assert not stored_by(coll_id, "bookingId")
    proxy.switch("up")
    arrive_exactly_once(page, coll_id, "bookingId", sent)


def test_records_tracked_just_before_a_reload_arrive_once(page, site, shop, script_url, orm):
    tracker_id, coll_id = shop["trackerId"], shop["collection"]["id"]
    page.goto(site.serve("/book", tracker_page(script_url, shop["api"], tracker_id)))
    sent = new_markers(4)
    page.evaluate("""([id, bookings]) => {
        bookings.forEach(b => window._intempt[id].track("flight-booking", b));
        location.reload();
    }""", [tracker_id, [booking(marker) for marker in sent]])
    page.wait_for_load_state("load")
    arrive_exactly_once(page, coll_id, "bookingId", sent)


# ---------------------------------------------------------------------------
# What the browser may not do
# ---------------------------------------------------------------------------
def test_an_origin_the_source_does_not_allow_is_refused(page, site, web, api, proxy, orm):
    """The site's origin is not in the web source's allowedOrigins. The tracker sends
    through the proxy, whose log shows what Sluice answered."""
    tracker_id, coll_id = web["trackerId"], web["collection"]["id"]
    script = served_script(proxy.url)
    page.goto(site.serve("/book", tracker_page(script, api, tracker_id)))
    track_bookings(page, tracker_id, ["refused"])
    sends = wait_in(page, lambda: [entry for entry in proxy.log
                                   if entry[2].endswith("/track")])
    assert {status for _, _, _, status in sends} == {403}
    marker = {"writeKey": api.org.write_key, "batch": [{
        "collection": "flight-booking", "eventId": str(uuid.uuid4()), "visitorId": "v",
        "fields": booking("marker")}]}
    sent = api.post("/track", content=json.dumps(marker), headers={"Authorization": ""})
    assert sent.status_code == 202
    wait_for(lambda: stored_by(coll_id, "bookingId"))
    assert stored_by(coll_id, "bookingId") == Counter({"marker": 1})


@pytest.mark.parametrize("another_org_allows_it", [True, False])
def test_a_collector_page_of_an_origin_its_org_does_not_allow_is_refused(
        page, site, web, api, proxy, make_org, server_url, orm, another_org_allows_it):
    """The preflight lets every origin through alike, so it tells nothing; the initialize
    itself is checked against the key's own org, which does not list the site (whether
    another org does or not): 403, and nothing the page tracks is stored."""
    if another_org_allows_it:
        with Api(server_url, make_org()) as other:
            create_source(other, allowedOrigins=[site.origin])
    page.goto(site.serve("/projects", collector_page(served_script(proxy.url))))
    page.evaluate(COLLECTOR_SCRIPT, [api.org.write_key, "acme.example", "ann@acme.example"])
    page.evaluate("""() => usageCollector.track("clicked", "refused")""")

    def initializations_seen():
        return {(method, status) for _, method, path, status in proxy.log
                if path == "/api/initialize"}

    wait_in(page, lambda: ("POST", 403) in initializations_seen())
    assert initializations_seen() == {("OPTIONS", 204), ("POST", 403)}
    assert not Record.objects.filter(collection_id=builtin_id(api, "events")).exists()


MANAGE = """async ([base, key]) => {
  const answers = [];
  for (const [method, path, body] of [
      ["GET", "/collections"], ["GET", "/sources"], ["GET", "/rejected"],
      ["POST", "/sources", {name: "from-the-browser", type: "web"}]]) {
    try {
      const r = await fetch(base + path, {method, headers: {"x-api-key": key,
          "Content-Type": "application/json"}, body: body && JSON.stringify(body)});
      answers.push([method, path, r.status, (await r.json()).code]);
    } catch (e) {
      answers.push([method, path, "refused by the browser", e.name]);
    }
  }
  return answers;
}"""


def test_a_write_key_cannot_call_the_management_api(page, site, shop, server_url, orm):
    api = shop["api"]
    base = f"{server_url}/v1/{api.org.slug}"
    page.goto(site.serve("/admin", "<title>x</title>"))
    across = page.evaluate(MANAGE, [base, api.org.write_key])
    assert all(answer[2] == "refused by the browser" for answer in across), across
    page.goto(f"{server_url}/v1/docs")  # Sluice's own origin: no CORS in the way
    same = page.evaluate(MANAGE, [f"/v1/{api.org.slug}", api.org.write_key])
    assert [(m, p, status, code) for m, p, status, code in same] == [
        (m, p, 403, "permission_denied") for m, p, *_ in same]
    assert not Source.objects.filter(name="from-the-browser").exists()
