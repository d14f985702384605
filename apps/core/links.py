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


def links_for(obj: Any, request: Request) -> dict[str, dict[str, str]]:
    """The `_links` of one object, absolute, built from its loaded ids only."""
    builder = _builders[type(obj)]
    paths = builder(obj, org_slug(request))
    return {name: {"href": absolute(request, path)} for name, path in paths.items()}
