"""What every request gets, whatever view answers it (or none does)."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

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
