"""The tracker's key: from the header like everywhere, or else from the body's `writeKey`,
since `navigator.sendBeacon` cannot set headers. Failures are the same 401 as elsewhere."""

from rest_framework import exceptions
from rest_framework.request import Request

from apps.orgs.authentication import MAX_KEY_LENGTH, ApiKeyAuthentication
from apps.orgs.models import ApiKey
from apps.orgs.selectors import api_key_by_raw


class BodyKeyAuthentication(ApiKeyAuthentication):
    """The view must offer `body_key()`: the key its (already read) body carries, or None."""

    def authenticate(self, request: Request) -> tuple[None, ApiKey] | None:
        found = super().authenticate(request)
        if found is not None:
            return found
        raw = request.parser_context["view"].body_key()
        if raw is None:
            return None
        if not isinstance(raw, str) or not raw or len(raw) > MAX_KEY_LENGTH:
            raise exceptions.AuthenticationFailed()
        key = api_key_by_raw(raw)
        if key is None:
            raise exceptions.AuthenticationFailed()
        return (None, key)
