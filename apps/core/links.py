"""The HAL link registry: each app's links.py registers a builder per model; serializers and
paginators turn the relative paths into absolute hrefs. Views never build links."""

from collections.abc import Callable
from functools import cache
from typing import Any, TypeVar
from urllib.parse import quote, urlencode

from django.urls import reverse
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


def path(name: str, **kwargs: object) -> str:
    """The path of URL `name` with these arguments: Django's `reverse`, resolved once per
    name (a reverse costs tens of microseconds, and a page of records has hundreds of links)."""
    values = {key: quote(str(value), safe="!$&'()*+,;=~:@") for key, value in kwargs.items()}
    return _template(name, tuple(sorted(kwargs))).format(**values)


@cache
def _template(name: str, keys: tuple[str, ...]) -> str:
    """The path of `name` as a format string with a `{key}` for each argument."""
    template = reverse(name, kwargs={key: f"__{key}__" for key in keys})
    for key in keys:
        template = template.replace(f"__{key}__", f"{{{key}}}")
    return template


def org_slug(request: Request) -> str:
    return str(request.parser_context["kwargs"]["org"])


def absolute(request: Request, path: str, query: dict[str, Any] | None = None) -> str:
    """`path` (quoted, as `path()` gives it) as an absolute URL of the server asked."""
    if query:
        path = f"{path}?{urlencode(query)}"
    return _origin(request) + path


def _origin(request: Request) -> str:
    """`scheme://host` of the request, worked out (and the host checked) once per request."""
    origin: str | None = getattr(request, "sluice_origin", None)
    if origin is None:
        origin = request.build_absolute_uri("/")[:-1]
        request.sluice_origin = origin  # type: ignore[attr-defined]
    return origin


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
