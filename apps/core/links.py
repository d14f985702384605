"""The HAL link registry: each app's links.py registers a builder per model; serializers and
paginators turn the relative paths into absolute hrefs. Views never build links."""

from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlencode

from rest_framework.request import Request

LinkBuilder = Callable[[Any, str], dict[str, str]]
_builders: dict[type, LinkBuilder] = {}
T = TypeVar("T", bound=LinkBuilder)


def register(kind: type) -> Callable[[T], T]:
    """Register the link builder of `kind`: `(obj, org_slug) -> {name: path}`."""

    def decorate(builder: T) -> T:
        _builders[kind] = builder
        return builder

    return decorate


def org_slug(request: Request) -> str:
    return str(request.parser_context["kwargs"]["org"])


def absolute(request: Request, path: str, query: dict[str, Any] | None = None) -> str:
    if query:
        path = f"{path}?{urlencode(query)}"
    return request.build_absolute_uri(path)


def links_for(obj: Any, request: Request, org: str | None = None) -> dict[str, dict[str, str]]:
    """The `_links` of one object, absolute, built from its loaded ids only; `org` names the
    org where the URL does not (the front doors under /v3/ and /api/)."""
    builder = _builders[type(obj)]
    paths = builder(obj, org or org_slug(request))
    return {name: {"href": absolute(request, path)} for name, path in paths.items()}


def answer_links(request: Request, about: Any = None,
                 org: str | None = None) -> dict[str, dict[str, str]]:
    """The `_links` of an answer that is no stored object (what an action did): `self` is the
    address asked, then the links `about` registers to lead on."""
    onward = links_for(about, request, org) if about is not None else {}
    return {"self": {"href": request.build_absolute_uri()}, **onward}
