"""Tenancy in one place: the key must belong to the org named in the URL, and management
needs a secret key. Another org's key sees exactly what a missing object looks like."""

from typing import Any, Protocol, cast

from rest_framework import exceptions
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

WRITE_KEY_DETAIL = (
    "This is a write key: it can only send records. Use a secret key of this org to manage it."
)


class OrgKey(Protocol):
    """What the key a request was authenticated with tells of its org and its power."""

    @property
    def org(self) -> Any: ...
    @property
    def org_id(self) -> int: ...
    @property
    def org_slug(self) -> str: ...
    @property
    def is_secret(self) -> bool: ...


def key_of(request: Request) -> OrgKey:
    """The key the request was authenticated with; a 401 when it has none."""
    if request.auth is None:
        raise exceptions.NotAuthenticated()
    return cast(OrgKey, request.auth)


class OrgKeyPermission(BasePermission):
    def has_permission(self, request: Request, view: Any) -> bool:
        key = key_of(request)
        if key.org_slug != view.kwargs.get("org"):
            raise exceptions.NotFound()
        if request.method not in getattr(view, "write_key_methods", ()) and not key.is_secret:
            raise exceptions.PermissionDenied(WRITE_KEY_DETAIL)
        return True
