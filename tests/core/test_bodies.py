"""The one body reader: a view's limit, gzip and strict JSON, reached through request.data."""

import gzip
import json

import pytest
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView

from apps.core.bodies import json_of
from apps.core.exceptions import NotJSON


class Echo(APIView):
    authentication_classes: list[type] = []
    permission_classes = [AllowAny]
    body_limit = 100
    body_limit_advice = "Send less."

    def post(self, request: Request) -> Response:
        return Response({"data": request.data})


def post(body: bytes, **headers: str) -> Response:
    request = APIRequestFactory().generic("POST", "/echo", body, **{
        "content_type": "application/json", **headers})
    return Echo.as_view()(request)


def test_a_view_reads_its_body_within_its_own_limit():
    assert post(b'{"a": [1, 2.5, "x"]}').data == {"data": {"a": [1, 2.5, "x"]}}
    refused = post(json.dumps({"a": "x" * 200}).encode())
    assert (refused.status_code, refused.data["detail"]) == (
        413, "The request is 209 bytes; at most 100 bytes are accepted. Send less.")


def test_gzip_is_inflated_and_counted_inflated():
    assert post(gzip.compress(b'{"a": 1}'), HTTP_CONTENT_ENCODING="gzip").data == {
        "data": {"a": 1}}
    bomb = post(gzip.compress(b" " * 10_000), HTTP_CONTENT_ENCODING="gzip")
    assert (bomb.status_code, bomb.data["code"]) == (413, "request_too_large")
    other = post(b"{}", HTTP_CONTENT_ENCODING="br")
    assert (other.status_code, other.data["code"]) == (415, "unsupported_encoding")
    broken = post(b"{}", HTTP_CONTENT_ENCODING="gzip")
    assert (broken.status_code, broken.data["code"]) == (400, "invalid_encoding")


@pytest.mark.parametrize(("raw", "reason"), [
    (b"NaN", "NaN is not a JSON number; send null or a finite number"),
    (b"[1e400]", "1e400 is out of range for a double"),
    (b"[" * 5000 + b"]" * 5000, "nested too deeply"),
    (b'{"a": ', "Expecting value: line 1 column 7 (char 6)"),
])
def test_json_that_cannot_be_stored_is_refused_naming_why(raw, reason):
    with pytest.raises(NotJSON) as refused:
        json_of(raw)
    assert refused.value.detail == (f"The body is not valid JSON ({reason}). Send one JSON "
                                    "object or array.")


def test_what_the_records_check_must_name_is_read_exactly():
    """Integers beyond 64 bits stay integers and lone surrogates stay strings, so that the
    records check can name the field that holds them (a fast parser would round or refuse)."""
    assert json_of(b'{"n": -9223372036854775809}') == {"n": -9223372036854775809}
    assert json_of(b'{"n": 123456789012345678901234567890}') == {
        "n": 123456789012345678901234567890}
    assert json_of(b'{"s": "\\ud800"}') == {"s": "\ud800"}
