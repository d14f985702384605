"""The browser front doors' credentials. The tracker's key comes from the header like
everywhere, or else from the body's `writeKey`, since `navigator.sendBeacon` cannot set
headers; the usage collector's calls carry a session token in the body. Failures are the same
401 as elsewhere (a session's asks for a new session)."""

from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication
from rest_framework.request import Request

from apps.core.parsers import body_member
from apps.orgs.authentication import MAX_KEY_LENGTH, ApiKeyAuthentication
from apps.orgs.models import ApiKey
from apps.orgs.selectors import api_key_by_raw
from apps.tracker.sessions import CollectorSession, session_of


class BodyKeyAuthentication(ApiKeyAuthentication):
    """The key of the header, or else the body's `writeKey`."""

    def authenticate(self, request: Request) -> tuple[None, ApiKey] | None:
        found = super().authenticate(request)
        if found is not None:
            return found
        raw = body_member(request, "writeKey")
        if raw is None:
            return None
        if not isinstance(raw, str) or not raw or len(raw) > MAX_KEY_LENGTH:
            raise exceptions.AuthenticationFailed()
        key = api_key_by_raw(raw)
        if key is None:
            raise exceptions.AuthenticationFailed()
        return (None, key)


class SessionTokenAuthentication(BaseAuthentication):
    """The live collector session of the body's `sessionToken`; SessionExpired otherwise."""

    def authenticate(self, request: Request) -> tuple[None, CollectorSession]:
        return (None, session_of(body_member(request, "sessionToken")))
