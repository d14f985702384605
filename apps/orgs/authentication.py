"""API keys from `Authorization: ApiKey <key>` or `x-api-key: <key>`. Every failure (missing,
malformed, unknown, revoked, expired, or two credentials that disagree) is the same 401,
whatever the URL names. A key that works has its use noted (at most once a minute)."""

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication
from rest_framework.request import Request

from apps.orgs.models import ApiKey
from apps.orgs.selectors import api_key_by_raw
from apps.orgs.services import api_key_used

MAX_KEY_LENGTH = 100


def agreed(*carried: str | None) -> str | None:
    """The one key a request carries in its places (None where a place is empty): None when
    it carries none, "" (refused) when two places disagree."""
    keys = {key for key in carried if key is not None}
    if len(keys) > 1:
        return ""
    return keys.pop() if keys else None


def raw_key_of(request: Request) -> str | None:
    """The key the request carries, or None when it carries none; "" (refused) when it is
    malformed, or when `Authorization` and `x-api-key` name different keys."""
    header = request.headers.get("Authorization", "")
    named = request.headers.get("x-api-key")
    if not header:
        return named
    scheme, _, value = header.partition(" ")
    if scheme.lower() not in ("apikey", "bearer"):
        return ""
    return agreed(value.strip(), None if named is None else named.strip())


def working_key(raw: object) -> tuple[None, ApiKey]:
    """The working key with this raw value, its use noted; a 401 when there is none."""
    if not isinstance(raw, str) or not raw or len(raw) > MAX_KEY_LENGTH:
        raise exceptions.AuthenticationFailed()
    key = api_key_by_raw(raw)
    if key is None:
        raise exceptions.AuthenticationFailed()
    api_key_used(key=key)
    return (None, key)


class ApiKeyAuthentication(BaseAuthentication):
    def authenticate(self, request: Request) -> tuple[None, ApiKey] | None:
        raw = raw_key_of(request)
        return None if raw is None else working_key(raw)

    def authenticate_header(self, request: Request) -> str:
        return "ApiKey"


API_KEY_SCHEMES = [
    {"type": "apiKey", "in": "header", "name": "x-api-key"},
    {"type": "apiKey", "in": "header", "name": "Authorization", "description": "`ApiKey <key>`"},
]


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    target_class = ApiKeyAuthentication
    name = ["ApiKeyHeader", "ApiKeyAuthorization"]

    def get_security_definition(self, auto_schema: Any) -> list[dict[str, str]]:
        return API_KEY_SCHEMES

    def get_security_requirement(self, auto_schema: Any) -> list[dict[str, list[Any]]]:
        return [{name: []} for name in self.name]  # either header, not both
