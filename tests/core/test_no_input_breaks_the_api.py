"""Bad input of any kind, on any endpoint, is answered with JSON: a 4xx naming the problem (or
a 2xx where it is fine), never a 500 and never an HTML page."""

import json
import socket

import pytest

from tests.helpers import create_collection, create_identifier, create_source

PATHS = [
    "/v1/{org}/collections/{c}/data", "/v1/{org}/collections/{c}/data/{x}",
    "/v1/{org}/sources/{s}/data", "/v1/{org}/rejected", "/v1/{org}/rejected/replay",
    "/v1/{org}/rejected/{x}", "/v1/{org}/track", "/v1/{org}/sources", "/v1/{org}/sources/{s}",
    "/v1/{org}/collections", "/v1/{org}/collections/{c}", "/v1/{org}/collections/{c}/identifiers",
    "/v1/{org}/collections/{c}/schemas", "/v1/{org}/collections/{c}/schemas/1",
    "/v1/{org}/identifiers", "/v1/{org}/identifiers/{i}", "/v1/{org}/relations",
    "/v1/{org}/profiles/merges", "/v1/{org}/profiles/users/{x}",
    "/v1/{org}/profiles/users/{x}/related/events", "/v3/product", "/v3/product/{x}",
    "/v3/account", "/v3/account/{x}", "/v3/user", "/v3/user/{x}", "/v3/event",
    "/api/initialize", "/api/collect", "/v1/health", "/v1/metrics",
]
PLAIN_TEXT = {"/v1/metrics"}  # Prometheus reads its answer as text; its errors are JSON
ODD_IDS = ["abc", "-1", "0", "99999999999999999999999", "%C3%A9", "1e5", "%FF", "%00",
           "x" * 300]
QUERIES = ["limit=abc", "limit=-1", "limit=100000", "cursor=garbage", "since=notadate",
           "since=2020-13-45", "bookingStatus=x", "unknown=1", "collId=abc",
           "collId=99999999999999999999", "includeChildren=maybe", "limit=1e3",
           "bookingDate=notadate", "limit=10&limit=20", "collId=%00", "bookingStatus=a%00"]
BODIES = [
    b"", b"null", b"[]", b"{}", b'"x"', b"1", b"[1]", b'{"records": 5}', b'{"records": [[]]}',
    b"\xff\xfe", b"{", b"[" * 5000, b'{"a": 1e999}', b'{"a": NaN}',
    b'{"a": 123456789012345678901234567890}', b'{"name": 123}', b'{"name": null, "type": "web"}',
    b'{"schema": "x", "name": "n", "sourceId": "1"}', b'{"ids": ["x"]}', b'{"ids": "x"}',
    b'{"collId": []}', b'{"userId": {"a": 1}}', b'{"userId": ""}', b'{"accountId": 5}',
    b'[{"accountId": "a", "parentAccountId": "a"}]', b'{"events": "x"}',
    b'{"description": 5, "timestamp": "x", "user": 5}', b'{"records": [{"eventId": "\\ud800"}]}',
    b'{"eventId": "a\\u0000b"}', b'{"title": "' + b"x" * 100_000 + b'"}',
    b'{"allowedOrigins": "x"}', b'{"type": "fax", "name": "q"}',
    b'{"collId": "1", "type": "primary", "name": "x", "schema": 5}', b'{"apiKey": 5}',
    b'{"userId": "a\\u0000"}', b'{"name": "a\\u0000", "type": "web"}',
    b'[{"accountId": "a\\u0000"}]', b'{"userId": "\\ud800"}', b'[{"accountId": "\\ud800"}]',
    b'{"name": "\\ud800", "type": "web"}',
    b'{"description": "\\ud800", "timestamp": "2024-01-01T00:00:00Z", '
    b'"user": {"userId": "\\ud800"}}',
    b'{"collId": "\\u0000"}', b'{"ids": ["\\u0000"]}', b'{"userId": "' + b"u" * 5000 + b'"}',
]


@pytest.fixture
def objects(api, worker):
    source = create_source(api)
    collection = create_collection(api, source["id"])
    identifier = create_identifier(api, collection["id"])
    return {"org": api.org.slug, "s": source["id"], "c": collection["id"], "i": identifier["id"],
            "x": "1"}


def paths(objects):
    """Each path with the objects' ids (to read), then with odd ids (to read and delete)."""
    for template in PATHS:
        yield template.format(**objects), ("GET",)
        for odd in ODD_IDS:
            yield template.format(**{**objects, "c": odd, "s": odd, "i": odd, "x": odd}), (
                "GET", "DELETE")


def assert_answered_in_json(answer, what):
    assert answer.status_code < 500, (what, answer.status_code, answer.text[:300])
    if answer.is_success and answer.url.path in PLAIN_TEXT:
        assert answer.headers["content-type"].startswith("text/plain"), (what, answer.headers)
        assert answer.text.startswith("# HELP sluice_"), (what, answer.text[:300])
    elif answer.status_code != 204 and answer.content:
        assert "json" in answer.headers["content-type"], (what, answer.headers, answer.text[:300])
        json.loads(answer.content)


def test_every_odd_body_on_every_endpoint_is_answered_in_json(api, objects):
    for path in PATHS:
        path = path.format(**objects)
        for method in ("POST", "PUT", "PATCH"):
            for body in BODIES:
                answer = api.request(method, f"{api.root}{path}", content=body,
                                     headers={"Content-Type": "application/json"})
                assert_answered_in_json(answer, (method, path, body[:80]))


def test_every_odd_address_and_query_is_answered_in_json(api, objects):
    for path, methods in paths(objects):
        for method in methods:
            for query in ["", *QUERIES] if method == "GET" else [""]:
                answer = api.request(method, f"{api.root}{path}?{query}")
                assert_answered_in_json(answer, (method, path, query))


@pytest.mark.parametrize("raw", [
    b"GARBAGE\r\n\r\n",
    b"POST /v1/x/sources HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: abc\r\n\r\n",
    b"GET /v1/x/sources HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + b"a" * 9000 + b"\r\n\r\n",
])
def test_a_request_the_http_server_cannot_parse_is_answered_in_json(server_url, raw):
    host, port = server_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(raw)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head, body = answer.split(b"\r\n\r\n", 1)
    assert head.split()[1].startswith(b"4"), head
    assert b"Content-Type: application/problem+json" in head
    assert json.loads(body)["status"] == int(head.split()[1])
