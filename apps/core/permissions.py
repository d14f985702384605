"""Tenancy in one place. Every request names its org once: in the URL (`/v1/<org>/...`) or,
at the front doors that imitate a vendor, by its key or session alone. Whoever asks must hold a
key (or a browser session) of that org; another org's key sees exactly what a missing object
looks like, and managing needs a secret key. `OrgAPIView` (core/apis.py) applies this to every
view built on it, whatever permission classes the view declares."""

from typing import Any, Protocol, cast

from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from apps.core.exceptions import Forbidden, NotAuthenticated, NotFound

WRITE_KEY_DETAIL = (
    "This is a write key: it can only send records. Use a secret key of this org to manage it."
)


class OrgKey(Protocol):
    """What the key (or browser session) a request was authenticated with tells of its org,
    of itself (`key_id`: whose rate limit it draws on) and its power: only a secret key
    manages."""

    @property
    def org(self) -> Any: ...
    @property
    def org_id(self) -> int: ...
    @property
    def key_id(self) -> int: ...
    @property
    def org_slug(self) -> str: ...
    @property
    def is_secret(self) -> bool: ...


def key_of(request: Request) -> OrgKey:
    """The key the request was authenticated with; a 401 when it has none."""
    if request.auth is None:
        raise NotAuthenticated()
    return cast(OrgKey, request.auth)


def org_key_checked(request: Request, *, org_in_url: str | None,
                    write_key_methods: tuple[str, ...]) -> OrgKey:
    """The request's key, when it belongs to the org the URL names (if it names one) and may
    do what the method asks: a 404 for another org's key, a 403 for a write key managing."""
    key = key_of(request)
    if org_in_url is not None and key.org_slug != org_in_url:
        raise NotFound()
    if request.method not in write_key_methods and not key.is_secret:
        raise Forbidden(WRITE_KEY_DETAIL)
    return key


class KeyRequired(BasePermission):
    """The default for every view: no key, no answer (public views say AllowAny)."""

    def has_permission(self, request: Request, view: Any) -> bool:
        key_of(request)
        return True
