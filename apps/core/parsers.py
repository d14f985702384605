"""JSON bodies, read by the one reader (core/bodies.py) within the view's `body_limit`, also
under the content types clients really send: curl's default form type (the seeds' commands)
and text/plain (the tracker's beacons, which avoid a CORS preflight)."""

from collections.abc import Mapping
from typing import Any

from rest_framework.parsers import BaseParser
from rest_framework.request import Request

from apps.core.bodies import body_of, json_of

BODY_LIMIT = 1024 * 1024  # a view that takes more says so in its `body_limit`


class JSONBodyParser(BaseParser):
    """Strict JSON, at most the view's `body_limit` bytes (inflated, when sent with gzip)."""

    media_type = "application/json"

    def parse(self, stream: Any, media_type: str | None = None,
              parser_context: Mapping[str, Any] | None = None) -> Any:
        context = parser_context or {}
        view = context.get("view")
        limit = getattr(view, "body_limit", BODY_LIMIT)
        advice = getattr(view, "body_limit_advice", "")
        return json_of(body_of(stream, context["request"].META, limit, advice))


class FormEncodedJSONParser(JSONBodyParser):
    media_type = "application/x-www-form-urlencoded"


class PlainTextJSONParser(JSONBodyParser):
    media_type = "text/plain"


def body_member(request: Request, name: str) -> Any:
    """`name` of a POSTed JSON object body, or None (no body, not an object, not a POST)."""
    if request.method != "POST":
        return None
    data = request.data
    return data.get(name) if isinstance(data, dict) else None
