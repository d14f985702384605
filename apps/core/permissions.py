"""Tenancy in one place. Every request names its org once: in the URL (`/v1/<org>/...`) or,
at the front doors that imitate a vendor, by its key or session alone. Whoever asks must hold a
key (or a browser session) of that org; another org's key sees exactly what a missing object
looks like. A secret key may do anything; a read key only what a view reads (GET); a write
key only what a view lets it send (POST records). `OrgAPIView` (core/apis.py) applies this
to every view built on it, whatever permission classes the view declares."""

from typing import Any, Protocol, cast

from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from apps.core.exceptions import Forbidden, NotAuthenticated, NotFound

WRITE_KEY_DETAIL = (
    "This is a write key: it can only send records. Use a secret key of this org to manage it."
)
READ_KEY_DETAIL = (
    "This is a read key: it can only read. Use a secret key of this org to change anything."
)
SECRET_KEY_DETAIL = "Only a secret key of this org may do this."
READ_METHODS = ("GET", "HEAD")


class OrgKey(Protocol):
    """What the key (or browser session) a request was authenticated with tells of its org,
    of itself (`key_id`: whose rate limit it draws on) and its power: its kind (secret, read
    or write) and, for a write key of one source, that source's id."""

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
    @property
    def kind(self) -> str: ...
    @property
    def source_id(self) -> int | None: ...


def key_of(request: Request) -> OrgKey:
    """The key the request was authenticated with; a 401 when it has none."""
    if request.auth is None:
        raise NotAuthenticated()
    return cast(OrgKey, request.auth)


def org_key_checked(request: Request, *, org_in_url: str | None,
                    write_key_methods: tuple[str, ...],
                    read_key_methods: tuple[str, ...] = READ_METHODS) -> OrgKey:
    """The request's key, when it belongs to the org the URL names (if it names one) and may
    do what the method asks: a 404 for another org's key, a 403 for a write key managing or
    a read key changing anything."""
    key = key_of(request)
    if org_in_url is not None and key.org_slug != org_in_url:
        raise NotFound()
    if key.is_secret:
        return key
    allowed = write_key_methods if key.kind == "write" else read_key_methods
    if request.method not in allowed:
        raise Forbidden(_refusal(key.kind, str(request.method)))
    return key


def _refusal(kind: str, method: str) -> str:
    if kind == "write":
        return WRITE_KEY_DETAIL
    return SECRET_KEY_DETAIL if method in READ_METHODS else READ_KEY_DETAIL


class KeyRequired(BasePermission):
    """The default for every view: no key, no answer (public views say AllowAny)."""

    def has_permission(self, request: Request, view: Any) -> bool:
        key_of(request)
        return True
