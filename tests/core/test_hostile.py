"""Each bad input an attacker was seen to send answers a 4xx problem JSON that names what is
wrong: lone surrogates in a field's name or a schema's text, bodies past a view's limit, two
credentials that disagree, methods Sluice does not serve."""

import base64
import json

import httpx
import pytest

from tests.fixtures import schema
from tests.helpers import create_collection, create_source

SURROGATE_NAME = b'{"\\ud800": 1}'
BIG = b'{"name": "' + b"x" * 3_000_000 + b'"}'  # past every non-ingest view's limit


@pytest.fixture
def objects(api, worker):
    source = create_source(api)
    return {"org": api.org.slug, "s": source["id"], "c": create_collection(api, source["id"])["id"]}


def assert_problem(answer: httpx.Response, status: int, code: str, attr: str | None = None):
    assert answer.status_code == status, answer.text[:300]
    assert answer.headers["Content-Type"] == "application/problem+json"
    body = answer.json()
    assert (body["status"], body["code"]) == (status, code), body
    if attr is not None:
        assert attr in [error["attr"] for error in body.get("errors", [])], body


@pytest.mark.parametrize(("method", "path", "body", "attr"), [
    ("POST", "/v1/{org}/collections/{c}/data", b'{"records": [{"\\ud800": 1}]}',
     "records[0].\\ud800"),
    ("POST", "/v1/{org}/collections/{c}/data", b'[{"a": {"\\udfff": 1}}]', "records[0].a.\\udfff"),
    ("POST", "/v1/{org}/sources/{s}/data", SURROGATE_NAME, "\ud800"),  # no such collection
    ("PUT", "/v3/product/p1", SURROGATE_NAME, "products[0].\\ud800"),
    ("POST", "/v1/{org}/collections/{c}/data", b'[{"a\\u0000": 1}]', "records[0].a\x00"),
])
def test_a_lone_surrogate_in_a_field_name_is_named(api, objects, method, path, body, attr):
    answer = api.request(method, f"{api.root}{path.format(**objects)}", content=body,
                         headers={"Content-Type": "application/json"})
    assert_problem(answer, 400, "validation_error", attr)


def test_a_lone_surrogate_in_a_schema_s_text_is_named(api, objects):
    avro = {**schema("flight-booking"), "doc": "\ud800"}
    # httpx's json= cannot send a lone surrogate
    raw = f'{{"schema": {_json(avro)}}}'.encode("utf-8", "surrogatepass")
    headers = {"Content-Type": "application/json"}
    for method, path in [("PATCH", f"/collections/{objects['c']}"),
                         ("POST", f"/collections/{objects['c']}/schemas")]:
        assert_problem(api.request(method, path, content=raw, headers=headers), 400,
                       "validation_error", "schema.doc")
    doc_in_a_field = _json({**avro, "fields": [{"name": "x", "type": "string",
                                                "doc": "\udc00"}]})
    created = f'{{"sourceId": "{objects["s"]}", "name": "other", "schema": {doc_in_a_field}}}'
    assert_problem(api.post("/collections", headers=headers,
                            content=created.encode("utf-8", "surrogatepass")),
                   400, "validation_error", "schema.fields[0].doc")


def _json(value) -> str:
    return json.dumps(value, ensure_ascii=False)


@pytest.mark.parametrize(("method", "path"), [
    ("POST", "/v1/{org}/sources"), ("PATCH", "/v1/{org}/sources/{s}"),
    ("POST", "/v1/{org}/collections"), ("PATCH", "/v1/{org}/collections/{c}"),
    ("POST", "/v1/{org}/collections/{c}/schemas"), ("POST", "/v1/{org}/rejected/replay"),
    ("POST", "/api/initialize"), ("PUT", "/v3/product/p1"),
])
def test_a_body_past_the_limit_is_413_on_every_endpoint(api, objects, method, path):
    answer = api.request(method, f"{api.root}{path.format(**objects)}", content=BIG,
                         headers={"Content-Type": "application/json",
                                  "x-api-key": api.org.secret_key})
    assert_problem(answer, 413, "request_too_large")


def test_two_credentials_that_disagree_are_refused_at_every_front_door(api, objects):
    track = [{"collection": "flight-booking", "fields": {}}]
    write, secret = api.org.write_key, api.org.secret_key
    basic = "Basic " + base64.b64encode(f"{write}:".encode()).decode()
    disagreeing = [
        (f"{api.root}/v1/{api.org.slug}/sources", {"Authorization": f"ApiKey {secret}",
                                                    "x-api-key": write}, None),
        (f"{api.root}/v1/{api.org.slug}/track", {"x-api-key": write},
         {"writeKey": "sluice_wk_other", "batch": track}),
        (f"{api.root}/v1/track", {"Authorization": basic},
         {"writeKey": secret, "event": "e", "userId": "u"}),
        (f"{api.root}/v1/batch", {"Authorization": basic, "x-api-key": secret}, {"batch": []}),
    ]
    for url, headers, body in disagreeing:
        answer = httpx.post(url, headers=headers, json=body or {}, timeout=30)
        assert_problem(answer, 401, "not_authenticated")
    agreeing = httpx.post(f"{api.root}/v1/track", headers={"Authorization": basic},
                          json={"writeKey": write, "event": "e", "userId": "u"}, timeout=30)
    assert agreeing.status_code == 200, agreeing.text


@pytest.mark.parametrize("method", ["TRACE", "CONNECT", "PROPFIND", "FOO"])
def test_a_method_sluice_does_not_serve_is_405(api, objects, method):
    for path, allowed in [(f"/v1/{api.org.slug}/sources", "GET, POST"),
                          (f"/v1/{api.org.slug}/collections/{objects['c']}",
                           "GET, PUT, PATCH, DELETE"),
                          ("/v3/event", "PUT"), ("/v1/batch", "POST"), ("/api/collect", "POST")]:
        answer = api.request(method, f"{api.root}{path}")
        assert_problem(answer, 405, "method_not_allowed")
        assert set(allowed.split(", ")) <= set(answer.headers["Allow"].split(", ")), path


KEY_BODIES = [b"{", b"[]", b'{"kind": 5}', b'{"kind": "root"}', b'{"kind": "\\ud800"}',
              b'{"kind": "read", "name": "a\\u0000"}', b'{"kind": "read", "name": "\\ud800"}',
              b'{"kind": "read", "expiresAt": "2020-13-45"}', b'{"kind": "read", "expiresAt": 5}',
              b'{"kind": "write", "sourceId": "abc"}', b'{"\\ud800": 1}', BIG]
ROTATE_BODIES = [b"{", b'{"graceSeconds": -1}', b'{"graceSeconds": "x"}',
                 b'{"oldKeyExpiresAt": "not a date"}', b'{"graceSeconds": 1e999}',
                 b'{"oldKeyExpiresAt": "\\ud800"}', b'{"graceSeconds": 1, "oldKeyExpiresAt": '
                 b'"2030-01-01T00:00:00Z"}', BIG]
AUDIT_QUERIES = ["since=notadate", "until=2020-13-45", "action=%00", "action=nope",
                 "targetId=abc", "page=-1", "size=abc", "targetType=%ED%A0%80"]


def test_keys_and_audit_refuse_hostile_input_with_a_4xx_problem(api, make_org, objects):
    key_id = api.get("/keys").json()["_embedded"]["keys"][0]["id"]
    other = make_org()
    other_source = httpx.post(f"{api.root}/v1/{other.slug}/sources", timeout=30, json={
        "name": "theirs", "type": "web"}, headers={"x-api-key": other.secret_key}).json()["id"]
    sent = [("POST", "/keys", body) for body in KEY_BODIES]
    sent += [("POST", f"/keys/{key_id}/rotate", body) for body in ROTATE_BODIES]
    sent += [("POST", "/keys", json.dumps({"kind": "write", "sourceId": other_source}).encode())]
    sent += [("GET", f"/audit?{query}", None) for query in AUDIT_QUERIES]
    sent += [("GET", f"/keys?sourceId={other_source}", None), ("GET", "/keys?sourceId=%00", None)]
    for method, path, body in sent:
        answer = api.request(method, path, content=body,
                             headers={"Content-Type": "application/json"})
        assert 400 <= answer.status_code < 500, (path, body and body[:80], answer.text[:300])
        assert answer.headers["Content-Type"] == "application/problem+json", path
    for path in [f"/keys/{key_id}", "/keys", "/audit"]:  # a write key manages nothing
        assert api.get(path, headers={"Authorization": "",
                                      "x-api-key": api.org.write_key}).status_code == 403
    for path in [f"/keys/{key_id}", f"/keys/{key_id}/rotate"]:  # another org's key: nothing
        answer = httpx.request("DELETE" if path.endswith(key_id) else "POST",
                               f"{api.root}/v1/{api.org.slug}{path}", timeout=30,
                               headers={"x-api-key": other.secret_key})
        assert answer.status_code == 404, answer.text
