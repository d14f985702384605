"""What every request gets, whatever view answers it (or none does)."""

import logging
import time
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.signals import request_finished
from django.http import HttpRequest, HttpResponse

from apps.core import logs, metrics
from apps.core.bodies import FRAMING_LIMIT
from apps.core.codes import Code
from apps.core.errors import error_json
from apps.core.exceptions import InvalidInput, NotFound

Handler = Callable[[HttpRequest], HttpResponse]


def drain_body(request: HttpRequest) -> int:
    """Reads and drops what is left of the request body (at most 16 MB): answered before it was
    read, a sender still sending gets the answer instead of a reset connection, and its next
    request on the connection is understood. Answers the bytes read."""
    total = 0
    try:
        while total < FRAMING_LIMIT and (chunk := request.read(64 * 1024)):
            total += len(chunk)
    except (OSError, ValueError):  # the connection is gone, or the stream was closed
        pass
    return total


def body_drained(get_response: Handler) -> Handler:
    """Drains bodies the view did not read (an error answered first, a 401, a 405): gunicorn
    drains at most 64 KB itself, and beyond that closes the keep-alive connection it has just
    answered on, so that the client's next request on it fails."""

    def middleware(request: HttpRequest) -> HttpResponse:
        response = get_response(request)
        drain_body(request)
        return response

    return middleware


def client_address(get_response: Handler) -> Handler:
    """REMOTE_ADDR is the client's address as the front saw it. A request that came over
    gunicorn's unix socket (no address of its own) came through nginx, which sets
    X-Forwarded-For to the one address it saw; any other request keeps its own, whatever it
    claims."""

    def middleware(request: HttpRequest) -> HttpResponse:
        if not request.META.get("REMOTE_ADDR"):
            request.META["REMOTE_ADDR"] = request.META.get("HTTP_X_FORWARDED_FOR", "")
        return get_response(request)

    return middleware


def nul_refused(get_response: Handler) -> Handler:
    """No stored text may hold a NUL character (PostgreSQL refuses it): an address that holds
    one is nothing (404), a query parameter that holds one is a 400 naming it."""

    def middleware(request: HttpRequest) -> HttpResponse:
        if "\x00" in request.path:
            return error_json(NotFound())
        if "%00" in request.META.get("QUERY_STRING", ""):
            for name, values in request.GET.lists():
                if any("\x00" in text for text in (name, *values)):
                    return error_json(InvalidInput("Query parameters may not contain the NUL "
                                                   "character (%00).", code=Code.NUL_CHARACTER,
                                                   attr=name))
        return get_response(request)

    return middleware


def json_by_default(get_response: Handler) -> Handler:
    """A body sent without a Content-Type is read as JSON, the one format Sluice speaks
    (some HTTP clients name none for a string body)."""

    def middleware(request: HttpRequest) -> HttpResponse:
        if request.META.get("CONTENT_LENGTH", "0") not in ("", "0") and \
                not request.META.get("CONTENT_TYPE"):
            request.META["CONTENT_TYPE"] = "application/json"
        return get_response(request)

    return middleware


# ---------------------------------------------------------------------------
# Each request's line in the log and its counts in the metrics
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class _Answered:
    method: str
    route: str
    path: str
    status: int
    started: float


_answered: ContextVar[_Answered | None] = ContextVar("sluice_answered", default=None)
requests_log = logging.getLogger("sluice.requests")


def requests_observed(get_response: Handler) -> Handler:
    """Every request gets a request id (the sender's X-Request-ID when it is a plain token,
    else a new one), carried by each log line written while it is answered and by the
    answer's X-Request-ID. Once the answer has gone, the request is logged in one line and
    counted in the metrics."""

    def middleware(request: HttpRequest) -> HttpResponse:
        request_id = logs.request_id_of(request.headers.get("X-Request-ID"))
        logs.request_begun(request_id)
        started = time.perf_counter()
        response = get_response(request)
        response["X-Request-ID"] = request_id
        _answered.set(_Answered(str(request.method), route_of(request), request.path,
                                response.status_code, started))
        return response

    return middleware


def route_of(request: HttpRequest) -> str:
    """The name of the URL pattern that answered (never the path itself: its ids and org
    would make every request a series of its own)."""
    match = request.resolver_match
    if match is not None:
        return match.view_name
    return "static" if request.path.startswith(str(settings.STATIC_URL)) else "unmatched"


def _answer_sent(**_: Any) -> None:
    answered = _answered.get()
    if answered is None:  # not a request that went through requests_observed
        return
    _answered.set(None)
    seconds = time.perf_counter() - answered.started
    metrics.request_answered(answered.route, answered.method, answered.status, seconds)
    level = logging.ERROR if answered.status >= 500 else logging.INFO
    if requests_log.isEnabledFor(level):
        requests_log.log(level, "request answered", extra={
            "method": answered.method, "route": answered.route, "path": answered.path,
            "status": answered.status, "duration_ms": round(seconds * 1000, 1)})
    logs.ended()


request_finished.connect(_answer_sent, dispatch_uid="sluice-requests-observed")
