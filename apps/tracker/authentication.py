"""The browser front doors' credentials. The tracker's key comes from the header like
everywhere, or else from the body's `writeKey`, since `navigator.sendBeacon` cannot set
headers; the usage collector's calls carry a session token in the body. Failures are the same
401 as elsewhere (a session's asks for a new session)."""

import base64
import binascii
from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication
from rest_framework.request import Request

from apps.core.parsers import body_member
from apps.orgs.authentication import (
    ApiKeyAuthentication,
    ApiKeyAuthenticationScheme,
    agreed,
    raw_key_of,
    working_key,
)
from apps.orgs.models import ApiKey
from apps.tracker.sessions import CollectorSession, session_of


class BodyKeyAuthentication(ApiKeyAuthentication):
    """The key of the header, or else the body's `writeKey`; both, when both are sent, the
    same."""

    def authenticate(self, request: Request) -> tuple[None, ApiKey] | None:
        return self.key_of(request, raw_key_of(request))

    @staticmethod
    def key_of(request: Request, raw: str | None) -> tuple[None, ApiKey] | None:
        """The key of the header (`raw`), checked first; and the body's `writeKey`, which
        must be the same when both are sent."""
        found = None if raw is None else working_key(raw)
        written = body_member(request, "writeKey")
        if written is None:
            return found
        if found is not None and written != raw:
            raise exceptions.AuthenticationFailed()
        return found or working_key(written)


class SegmentKeyAuthentication(BodyKeyAuthentication):
    """The key as Segment's and RudderStack's libraries send it: HTTP Basic, the key as the
    user name and an empty password; or the body's `writeKey`; or as anywhere in Sluice."""

    def authenticate(self, request: Request) -> tuple[None, ApiKey] | None:
        scheme, _, value = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "basic":
            return super().authenticate(request)
        try:
            credentials = base64.b64decode(value.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError) as error:
            raise exceptions.AuthenticationFailed() from error
        named = request.headers.get("x-api-key")
        return self.key_of(request, agreed(credentials.partition(":")[0],
                                           None if named is None else named.strip()))

    def authenticate_header(self, request: Request) -> str:
        return 'Basic realm="Sluice"'


class SegmentKeyScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    target_class = SegmentKeyAuthentication
    name = "SegmentBasic"
    priority = 1

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {"type": "http", "scheme": "basic",
                "description": "the write key as the user name, an empty password"}

    def get_security_requirement(self, auto_schema: Any) -> list[dict[str, list[Any]]]:
        """Any one of Basic and the two key headers (whose schemes the other views define),
        or none: the body's `writeKey`."""
        return [*({name: []} for name in [self.name, *ApiKeyAuthenticationScheme.name]), {}]


class SessionTokenAuthentication(BaseAuthentication):
    """The live collector session of the body's `sessionToken`; SessionExpired otherwise."""

    def authenticate(self, request: Request) -> tuple[None, CollectorSession]:
        return (None, session_of(body_member(request, "sessionToken")))
