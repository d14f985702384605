"""Segment's and RudderStack's Python libraries, unchanged but for the host and the write key,
against a live Sluice and worker: every call they make is read back field by field, and a
batch they send again (their answer lost on the way back) is stored once.

The libraries are pinned in the `test` extra. Both send `POST {host}/v1/batch` from a
background thread, in batches of up to 100 messages, with the write key as HTTP Basic user
name; `flush()` returns once every queued message was answered (or given up on: `on_error`).
Segment's sends JSON; RudderStack's gzips it and keeps identify's traits in `context.traits`.
What each sent is read from the libraries' own debug log ("making request: <body>")."""

import gzip
import http.client
import json
import logging
import re
import socket
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import pytest
import rudderstack.analytics
import segment.analytics

from apps.records.models import Record
from tests.helpers import wait_for

SDKS = ("segment", "rudderstack")  # each logs to the logger of its name
LIBRARY = {"segment": segment.analytics.VERSION, "rudderstack": rudderstack.analytics.VERSION}
# the libraries' own options: fewer retries and a shorter timeout than their defaults (10
# retries, 15 s), so that a failure ends the test soon
OPTIONS = {"max_retries": 3, "timeout": 10}
ISO_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
BULK = 1000


# ---------------------------------------------------------------------------
# The libraries, as an app uses them
# ---------------------------------------------------------------------------
class Sent(logging.Handler):
    """The bodies a library posted, from its debug log ("making request: %s")."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.bodies: list[dict[str, Any]] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.msg == "making request: %s":
            self.bodies.append(json.loads(record.args[0]))  # type: ignore[index]

    def messages(self) -> dict[str, tuple[dict[str, Any], str]]:
        """Each message posted, by messageId, with the sentAt of its request."""
        return {message["messageId"]: (message, body["sentAt"])
                for body in self.bodies for message in body["batch"]}


@dataclass
class Sdk:
    name: str
    client: Any
    errors: list[tuple[Exception, list[Any]]]
    sent: Sent

    def call(self, method: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
        """Calls the library; the message it queued (with the messageId it made)."""
        queued, message = getattr(self.client, method)(*args, **kwargs)
        assert queued, message
        return message  # type: ignore[no-any-return]


def client_class(name: str) -> Any:
    return segment.analytics.Client if name == "segment" else rudderstack.analytics.Client


@pytest.fixture
def make_sdk() -> Iterator[Callable[..., Sdk]]:
    """Makes a client of a library for a host and a write key, its debug log recorded; each
    is flushed and stopped at the end."""
    made: list[Sdk] = []

    def make(name: str, host: str, write_key: str) -> Sdk:
        errors: list[tuple[Exception, list[Any]]] = []
        sent = Sent()
        logger = logging.getLogger(name)
        logger.propagate = False  # a thousand bodies would swamp the test's output
        if name == "segment":
            log = {"log_handler": sent}  # Segment's option; else it logs to stderr
        else:  # RudderStack's `debug` only sets its logger's level
            logger.addHandler(sent)
            log = {}
        client = client_class(name)(write_key, host=host, debug=True, **OPTIONS, **log,
                                    on_error=lambda error, batch: errors.append((error, batch)))
        made.append(Sdk(name, client, errors, sent))
        return made[-1]

    yield make
    for sdk in made:
        sdk.client.shutdown()
        logger = logging.getLogger(sdk.name)
        logger.removeHandler(sdk.sent)
        logger.setLevel(logging.NOTSET)
        logger.propagate = True


# ---------------------------------------------------------------------------
# Sluice, read back
# ---------------------------------------------------------------------------
def read(api: Any, collection: str, **equal: str) -> list[dict[str, Any]]:
    """Every record of a collection (with a field equal to a value), following the pages."""
    found: list[dict[str, Any]] = []
    url: str | None = f"/collections/{collection}/data"
    params: dict[str, Any] | None = {**equal, "limit": 1000}
    while url:
        answer = api.get(url, params=params)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        found += [record["data"] for record in body["_embedded"]["records"]]
        url, params = body["_links"].get("next", {}).get("href"), None
    return found


def stored(api: Any, collection: str, keys: list[str]) -> int:
    return Record.objects.filter(collection__org__slug=api.org.slug, collection__name=collection,
                                 key__in=keys).count()


def when(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def ms_z(text: str) -> str:
    """A time as Sluice keeps it: ISO-8601, UTC, milliseconds, `Z`."""
    return when(text).astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def flat(values: dict[str, Any]) -> dict[str, Any]:
    """A map as Sluice keeps it: scalars as they are, objects and arrays as their JSON text."""
    return {key: value if isinstance(value, str | int | float | bool | type(None))
            else json.dumps(value, ensure_ascii=False) for key, value in values.items()}


def check_times(record: dict[str, Any], message: dict[str, Any], sent_at: str) -> None:
    """The sender's times as sent, the server's receive time, and the time corrected for the
    sender's clock: receivedAt - (sentAt - originalTimestamp)."""
    for field in ("timestamp", "originalTimestamp", "sentAt", "receivedAt"):
        assert ISO_MS.match(record[field]), (field, record[field])
    assert record["originalTimestamp"] == ms_z(message["timestamp"])
    assert record["sentAt"] == ms_z(sent_at)
    received, sent = when(record["receivedAt"]), when(sent_at)
    assert timedelta(milliseconds=-5) <= received - sent < timedelta(seconds=1)
    corrected = received - (sent - when(message["timestamp"]))
    assert abs(when(record["timestamp"]) - corrected) <= timedelta(milliseconds=2)
    assert abs(when(record["timestamp"]) - when(message["timestamp"])) < timedelta(seconds=1)


def common(message: dict[str, Any], account: str | None) -> dict[str, Any]:
    """What an event or page keeps of every message, but its times."""
    return {"eventId": message["messageId"], "userId": message.get("userId"),
            "visitorId": message.get("anonymousId"), "accountId": account,
            "context": flat(message["context"]), "integrations": flat(message["integrations"])}


def without_times(record: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in record.items()
            if key not in ("timestamp", "originalTimestamp", "sentAt", "receivedAt")}


# ---------------------------------------------------------------------------
# Every call, read back
# ---------------------------------------------------------------------------
@pytest.mark.e2e
@pytest.mark.parametrize("name", SDKS)
def test_every_call_of_the_library_is_stored_as_sent(name, api, server_url, worker, orm,
                                                     make_sdk):
    sdk = make_sdk(name, server_url, api.org.write_key)
    user, visitor, previous = f"user-{name}", f"anon-{uuid.uuid4()}", f"old-{uuid.uuid4()}"
    account = f"acme-{name}"
    library = json.dumps({"name": "analytics-python", "version": LIBRARY[name]})

    # 1. who the user is, what they did and saw: stored before the user joins an account
    identify = sdk.call("identify", user, anonymous_id=visitor, traits={
        "email": "åse@acme.example", "firstName": "Åse", "lastName": "Berg", "phone": "+47 1",
        "plan": "pro", "preferences": {"theme": "dark", "langs": ["nb", "en"]}})
    track = sdk.call(
        "track", user, "Report Exported", anonymous_id=visitor,
        timestamp=datetime(2024, 3, 1, 10, 0, 0, 123456, tzinfo=UTC),
        properties={"format": "csv", "rows": 120, "ratio": 0.5, "ok": True, "none": None,
                    "filters": {"city": "Tromsø", "from": "2024-01"}, "tags": ["a", "b"]},
        context={"ip": "8.8.8.8", "locale": "nb-NO", "campaign": {"name": "våren"}},
        integrations={"All": True, "Mixpanel": False})
    page = sdk.call("page", user, "Docs", "Pricing", anonymous_id=visitor, properties={
        "url": "https://acme.example/pricing?x=1", "title": "Pricing", "path": "/pricing",
        "referrer": "https://search.example/", "plan": "pro", "sections": ["a", "b"]})
    screen = sdk.call("screen", None, "App", "Settings", anonymous_id=visitor,
                      properties={"tab": "billing"})
    sdk.client.flush()
    wait_for(lambda: stored(api, "events", [track["messageId"]]) == 1
             and stored(api, "pages", [page["messageId"], screen["messageId"]]) == 2
             and stored(api, "users", [user]) == 1)

    # 2. the user joins an account, gains a trait, and is stitched to an id of before
    group = sdk.call("group", user, account, traits={
        "name": "Acme AS", "employees": 40, "hq": {"city": "Bergen"}})
    identify_again = sdk.call("identify", user, traits={"seats": 5})
    alias = sdk.call("alias", previous, user)
    sdk.client.flush()
    wait_for(lambda: (read(api, "users", userId=user) or [{}])[0].get("accountId") == account)

    # 3. a thousand tracks, in the library's own batches
    bulk = [sdk.call("track", user, "Bulk Event", anonymous_id=visitor, properties={
        "n": n, "even": n % 2 == 0, "score": n / 8, "label": f"élément {n}",
        "meta": {"n": n, "ids": [n, n + 1]}}) for n in range(BULK)]
    sdk.client.flush()
    assert sdk.errors == []
    wait_for(lambda: stored(api, "events", [m["messageId"] for m in bulk]) == BULK, timeout=60)

    sent = sdk.sent.messages()
    queued = [identify, track, page, screen, group, identify_again, alias, *bulk]
    assert {m["messageId"] for m in queued} <= set(sent)
    assert len({m["messageId"] for m in queued}) == len(queued)
    assert {len(body["batch"]) for body in sdk.sent.bodies} <= set(range(1, 101))

    # events: the first track, before the user had an account, and the thousand, after
    events = {record["eventId"]: record for record in read(api, "events")}
    assert set(events) == {track["messageId"], *(m["messageId"] for m in bulk)}
    for message, account_then in [(track, None), *((m, account) for m in bulk)]:
        record = events[message["messageId"]]
        assert without_times(record) == {
            **common(message, account_then), "event": message["event"],
            "feature": None, "productId": None, "properties": flat(message["properties"])}
        check_times(record, message, sent[message["messageId"]][1])
    assert events[track["messageId"]]["properties"] == {
        "format": "csv", "rows": 120, "ratio": 0.5, "ok": True, "none": None,
        "filters": '{"city": "Tromsø", "from": "2024-01"}', "tags": '["a", "b"]'}
    assert events[track["messageId"]]["context"] == {
        "ip": "8.8.8.8", "locale": "nb-NO", "campaign": '{"name": "våren"}',
        "library": library}
    assert events[track["messageId"]]["integrations"] == {"All": True, "Mixpanel": False}
    assert events[track["messageId"]]["originalTimestamp"] == "2024-03-01T10:00:00.123Z"
    assert events[bulk[7]["messageId"]]["properties"] == {
        "n": 7, "even": False, "score": 0.875, "label": "élément 7",
        "meta": '{"n": 7, "ids": [7, 8]}'}

    # pages and screens
    pages = {record["eventId"]: record for record in read(api, "pages")}
    assert set(pages) == {page["messageId"], screen["messageId"]}
    assert without_times(pages[page["messageId"]]) == {
        **common(page, None), "name": "Pricing", "category": "Docs",
        "url": "https://acme.example/pricing?x=1", "title": "Pricing", "path": "/pricing",
        "referrer": "https://search.example/",
        "properties": {"plan": "pro", "sections": '["a", "b"]'}}
    assert without_times(pages[screen["messageId"]]) == {
        **common(screen, None), "name": "Settings", "category": "App", "url": "",
        "title": None, "path": None, "referrer": None, "properties": {"tab": "billing"}}
    for message in (page, screen):
        check_times(pages[message["messageId"]], message, sent[message["messageId"]][1])

    # the user: both identifies' traits merged, the account joined, the last id stitched
    assert read(api, "users", userId=user) == [{
        "userId": user, "visitorId": previous, "accountId": account,
        "email": "åse@acme.example", "firstName": "Åse", "lastName": "Berg", "phone": "+47 1",
        "address": None, "paymentProcessorIds": {},
        "traits": {"plan": "pro", "preferences": '{"theme": "dark", "langs": ["nb", "en"]}',
                   "seats": 5}}]
    assert read(api, "accounts", accountId=account) == [{
        "accountId": account, "name": "Acme AS", "parentAccountId": None,
        "paymentProcessorIds": {}, "traits": {"employees": 40, "hq": '{"city": "Bergen"}'}}]
    merges = wait_for(lambda: len(m := api.get("/profiles/merges").json()["merges"]) >= 2 and m)
    assert {(m["visitorId"], m["userId"], m["status"]) for m in merges} == {
        (visitor, user, "merged"), (previous, user, "merged")}


# ---------------------------------------------------------------------------
# A lost answer: the library sends the batch again, Sluice stores it once
# ---------------------------------------------------------------------------
@dataclass
class Forwarded:
    headers: dict[str, str]
    body: dict[str, Any]
    status: int  # Sluice's answer
    answer: Any
    passed_back: bool


class LosingProxy:
    """An HTTP proxy between a library and Sluice: forwards each request to Sluice and lets
    it answer; the first answer it does not pass back (it closes the library's connection
    instead), as when the network fails after the server took the batch."""

    def __init__(self, upstream: str) -> None:
        self.upstream = urlsplit(upstream)
        self.forwarded: list[Forwarded] = []
        self.lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802  (http.server's name)
                proxy.forward(self)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> "LosingProxy":
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def forward(self, handler: BaseHTTPRequestHandler) -> None:
        raw = handler.rfile.read(int(handler.headers["Content-Length"]))
        headers = {key: value for key, value in handler.headers.items()
                   if key.lower() not in ("host", "connection")}
        upstream = http.client.HTTPConnection(self.upstream.hostname, self.upstream.port,
                                              timeout=30)
        try:
            upstream.request("POST", handler.path, body=raw, headers=headers)
            answer = upstream.getresponse()
            answer_body = answer.read()
        finally:
            upstream.close()
        text = gzip.decompress(raw) if headers.get("Content-Encoding") == "gzip" else raw
        with self.lock:
            lose = not self.forwarded
            self.forwarded.append(Forwarded(headers, json.loads(text), answer.status,
                                            json.loads(answer_body), not lose))
        handler.close_connection = True
        if lose:
            handler.connection.shutdown(socket.SHUT_RDWR)
            return
        handler.send_response(answer.status)
        handler.send_header("Content-Type", answer.getheader("Content-Type", "text/plain"))
        handler.send_header("Content-Length", str(len(answer_body)))
        handler.send_header("Connection", "close")
        handler.end_headers()
        handler.wfile.write(answer_body)


@pytest.mark.e2e
@pytest.mark.parametrize("name", SDKS)
def test_a_batch_sent_again_after_a_lost_answer_is_stored_once(name, api, server_url, worker,
                                                               orm, make_sdk):
    with LosingProxy(server_url) as proxy:
        sdk = make_sdk(name, proxy.url, api.org.write_key)
        tracks = [sdk.call("track", "u-retry", "Paid", properties={"amount": n, "n": [n]})
                  for n in range(5)]
        page = sdk.call("page", "u-retry", name="Checkout",
                        properties={"url": "https://shop.example/checkout"})
        sdk.client.flush()

    assert sdk.errors == []  # the library retried, and its retry was answered
    first, *later = proxy.forwarded
    assert (first.status, first.passed_back) == (200, False), first
    ids = [m["messageId"] for m in first.body["batch"]]
    again = [f for f in later if [m["messageId"] for m in f.body["batch"]] == ids]
    assert again, "the library did not send the batch again"
    assert all(f.status == 200 and f.passed_back for f in later)
    for forwarded in (first, again[0]):
        assert {key: forwarded.answer[key] for key in ("success", "accepted", "rejected",
                                                       "warnings")} == {
            "success": True, "accepted": 6, "rejected": [], "warnings": []}
    # the same batch; only the time it was sent at differs
    assert {**again[0].body, "sentAt": None} == {**first.body, "sentAt": None}
    if name == "segment":
        assert again[0].headers.get("X-Retry-Count") == "1"
    assert {m["messageId"] for f in proxy.forwarded for m in f.body["batch"]} == {
        m["messageId"] for m in [*tracks, page]}

    event_ids, page_ids = [m["messageId"] for m in tracks], [page["messageId"]]
    wait_for(lambda: stored(api, "events", event_ids) == 5 and stored(api, "pages", page_ids))
    for collection, keys in (("events", event_ids), ("pages", page_ids)):
        for key in keys:
            assert Record.objects.filter(collection__org__slug=api.org.slug,
                                         collection__name=collection, key=key).count() == 1
    assert len(read(api, "events")) == 5
    # the record stored is one of the deliveries, whole
    sent_ats = {ms_z(f.body["sentAt"]) for f in proxy.forwarded}
    for record in read(api, "events"):
        assert record["sentAt"] in sent_ats
        [message] = [m for m in tracks if m["messageId"] == record["eventId"]]
        assert record["properties"] == flat(message["properties"])


# ---------------------------------------------------------------------------
# The libraries' documented module-level setup
# ---------------------------------------------------------------------------
@pytest.mark.e2e
@pytest.mark.parametrize("name", SDKS)
def test_the_documented_module_level_setup_sends_to_sluice(name, api, server_url, worker, orm,
                                                          monkeypatch):
    module: Any = segment.analytics if name == "segment" else rudderstack.analytics
    monkeypatch.setattr(module, "default_client", None)  # restored after the test
    monkeypatch.setattr(module, "write_key", api.org.write_key)
    # Segment's `analytics.host`; RudderStack's `rudder_analytics.dataPlaneUrl`
    monkeypatch.setattr(module, "host" if name == "segment" else "dataPlaneUrl", server_url)
    mine = str(uuid.uuid4())
    try:
        module.track("u-module", "Signed Up", {"plan": "free"}, message_id=mine)
        module.flush()
    finally:
        module.shutdown()
    wait_for(lambda: stored(api, "events", [mine]) == 1)
    [event] = read(api, "events", eventId=mine)
    assert (event["event"], event["userId"], event["properties"]) == (
        "Signed Up", "u-module", {"plan": "free"})
