"""API keys from `Authorization: ApiKey <key>` or `x-api-key: <key>`. Every failure (missing,
malformed, unknown or revoked) is the same 401, whatever the URL names."""

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication
from rest_framework.request import Request

from apps.orgs.models import ApiKey
from apps.orgs.selectors import api_key_by_raw

MAX_KEY_LENGTH = 100


def raw_key_of(request: Request) -> str | None:
    """The key the request carries, or None when it carries none."""
    header = request.headers.get("Authorization", "")
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() in ("apikey", "bearer"):
            return value.strip()
        return ""
    return request.headers.get("x-api-key")


class ApiKeyAuthentication(BaseAuthentication):
    def authenticate(self, request: Request) -> tuple[None, ApiKey] | None:
        raw = raw_key_of(request)
        if raw is None:
            return None
        if not raw or len(raw) > MAX_KEY_LENGTH:
            raise exceptions.AuthenticationFailed()
        key = api_key_by_raw(raw)
        if key is None:
            raise exceptions.AuthenticationFailed()
        return (None, key)

    def authenticate_header(self, request: Request) -> str:
        return "ApiKey"


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    target_class = ApiKeyAuthentication
    name = ["ApiKeyHeader", "ApiKeyAuthorization"]

    def get_security_definition(self, auto_schema: Any) -> list[dict[str, str]]:
        return [
            {"type": "apiKey", "in": "header", "name": "x-api-key"},
            {"type": "apiKey", "in": "header", "name": "Authorization",
             "description": "`ApiKey <key>`"},
        ]
