"""JSON bodies, also under the content types clients really send: curl's default form type (the
seed's commands) and text/plain (the tracker's beacons, which avoid a CORS preflight)."""

from collections.abc import Mapping
from typing import Any

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


class JSONBodyParser(JSONParser):
    """DRF's JSON parser; a body nested too deep for Python's parser is a 400, not a 500."""

    def parse(self, stream: Any, media_type: str | None = None,
              parser_context: Mapping[str, Any] | None = None) -> Any:
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError as error:
            raise ParseError("JSON parse error - nested too deeply.") from error


class FormEncodedJSONParser(JSONBodyParser):
    media_type = "application/x-www-form-urlencoded"


class PlainTextJSONParser(JSONBodyParser):
    media_type = "text/plain"
