"""JSON bodies under the content types clients really send: curl's default form type (the
seed's commands) and text/plain (the tracker's beacons, which avoid a CORS preflight)."""

from rest_framework.parsers import JSONParser


class FormEncodedJSONParser(JSONParser):
    media_type = "application/x-www-form-urlencoded"


class PlainTextJSONParser(JSONParser):
    media_type = "text/plain"
