"""HAL lists: `_embedded.<things>`, `_links` with self/next/prev, and `page`."""

from datetime import UTC, datetime
from typing import Any

from django.core.paginator import EmptyPage, Paginator
from django.db.models import QuerySet
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


def hal_cursor_list(request: Request, name: str, items: list[dict[str, Any]],
                    next_query: dict[str, Any] | None, page: dict[str, Any]) -> dict[str, Any]:
    """The HAL body of a cursor-paged list; `next_query` is the query of the next page."""
    nav: dict[str, dict[str, str]] = {"self": {"href": request.build_absolute_uri()}}
    if next_query is not None:
        nav["next"] = {"href": links.absolute(request, request.path, next_query)}
    return {"_embedded": {name: items}, "_links": nav, "page": page}


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


def next_cursor_query(request: Request, cursor: int | None) -> dict[str, Any] | None:
    if cursor is None:
        return None
    return {**dict(request.query_params.items()), "cursor": str(cursor)}
