"""HAL lists: `_embedded.<things>`, `_links` with self/next/prev, and `page`. Catalog and
sources lists are numbered pages; records are cursor pages (CursorPage)."""

import functools
from datetime import UTC, datetime
from typing import Any

from django.core.paginator import EmptyPage, Paginator
from django.db.models import QuerySet
from drf_spectacular.utils import inline_serializer
from rest_framework import serializers
from rest_framework.request import Request

from apps.core import links
from apps.core.codes import Code
from apps.core.exceptions import InvalidInput
from apps.core.ids import parse_id

DEFAULT_SIZE = 20
MAX_SIZE = 200


def _positive_int(request: Request, name: str, default: int, maximum: int | None) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or int(raw) < (0 if name == "page" else 1):
        raise InvalidInput.field(name, Code.INVALID, f"`{name}` must be a whole number.")
    value = int(raw)
    if maximum is not None and value > maximum:
        raise InvalidInput.field(name, Code.MAX_VALUE, f"`{name}` may be at most {maximum}.")
    return value


def page_of(queryset: QuerySet[Any], request: Request) -> tuple[list[Any], dict[str, Any]]:
    """One page (0-based `page`, `size` up to 200) of a queryset, with its `page` block."""
    number = _positive_int(request, "page", 0, None)
    size = _positive_int(request, "size", DEFAULT_SIZE, MAX_SIZE)
    paginator = Paginator(queryset, size)
    try:
        items = list(paginator.page(number + 1).object_list) if paginator.count else []
    except EmptyPage:
        items = []
    page = {
        "size": size, "totalElements": paginator.count,
        "totalPages": paginator.num_pages if paginator.count else 0, "number": number,
    }
    return items, page


def hal_list(request: Request, name: str, items: list[dict[str, Any]],
             page: dict[str, Any]) -> dict[str, Any]:
    """The HAL body of a numbered page of already-serialized items."""
    query = {name: str(value) for name, value in request.query_params.items()}
    nav: dict[str, dict[str, str]] = {"self": {"href": request.build_absolute_uri()}}
    if page["number"] + 1 < page["totalPages"]:
        nav["next"] = {"href": _with_page(request, query, page["number"] + 1)}
    if page["number"] > 0:
        nav["prev"] = {"href": _with_page(request, query, page["number"] - 1)}
    return {"_embedded": {name: items}, "_links": nav, "page": page}


def _with_page(request: Request, query: dict[str, str], number: int) -> str:
    return links.absolute(request, request.path, {**query, "page": number})


def cursor_params(request: Request, default: int = 100,
                  maximum: int = 1000) -> tuple[int, int | None]:
    """`limit` (1 to `maximum`) and `cursor` (the last id of the previous page)."""
    limit = _positive_int(request, "limit", default, maximum)
    raw = request.query_params.get("cursor")
    if raw is None:
        return limit, None
    cursor = parse_id(raw)
    if cursor is None:
        raise InvalidInput.field("cursor", Code.INVALID,
                                 "`cursor` is the id the previous page's `next` link gives.")
    return limit, cursor


def time_param(request: Request, name: str) -> datetime | None:
    """An ISO 8601 date or time from the query (UTC when it names no zone)."""
    raw = request.query_params.get(name)
    if raw is None:
        return None
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError as error:
        raise InvalidInput.field(name, Code.INVALID, f"`{name}` is an ISO 8601 time such as "
                                 "2020-05-25T14:30:00Z.") from error
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class Link(serializers.Serializer):  # type: ignore[type-arg]
    """A HAL link (documentation only)."""

    href = serializers.CharField()


class CursorPageInfo(serializers.Serializer):  # type: ignore[type-arg]
    """A cursor page's `page` block (documentation only)."""

    size = serializers.IntegerField(help_text="items on this page")
    limit = serializers.IntegerField(help_text="the most a page holds")


CURSOR_LINKS = inline_serializer("CursorPageLinks", {
    "self": Link(), "next": Link(required=False, help_text="absent on the last page")})


class CursorPage:
    """A cursor-paged HAL list of one kind of item: `_embedded.<name>`, `_links` with self
    and, unless it is the last page, next (the same query, `cursor` the last id), and `page`
    with its size and limit. `schema` documents it for OpenAPI."""

    def __init__(self, name: str, item: type[serializers.Serializer]) -> None:  # type: ignore[type-arg]
        self.name = name
        label = item.__name__.removesuffix("Output")
        self.schema = inline_serializer(f"{label}Page", {
            "_embedded": inline_serializer(f"{label}PageEmbedded", {name: item(many=True)}),
            "_links": CURSOR_LINKS, "page": CursorPageInfo()})

    def body(self, request: Request, items: list[dict[str, Any]], cursor: int | None,
             limit: int) -> dict[str, Any]:
        """The page of already-serialized `items`; `cursor` is the next page's (None: last)."""
        nav: dict[str, dict[str, str]] = {"self": {"href": request.build_absolute_uri()}}
        if cursor is not None:
            query = {**dict(request.query_params.items()), "cursor": str(cursor)}
            nav["next"] = {"href": links.absolute(request, request.path, query)}
        return {"_embedded": {self.name: items}, "_links": nav,
                "page": {"size": len(items), "limit": limit}}


@functools.cache
def cursor_page(name: str, item: type[serializers.Serializer]) -> CursorPage:  # type: ignore[type-arg]
    """The one CursorPage of `item`s under `name` (its OpenAPI component is defined once)."""
    return CursorPage(name, item)
