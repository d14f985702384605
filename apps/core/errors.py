"""One JSON shape for every error (RFC 9457 problem details) with a stable snake_case `code`
and per-field `errors` carrying the field path in `attr`. Codes are never renamed
(core/codes.py lists them). This is the one place that knows which HTTP status each kind of
application error (core/exceptions.py) is answered with."""

import logging
from collections.abc import Iterator
from http import HTTPStatus
from typing import Any
from urllib.parse import urlsplit

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpRequest, JsonResponse
from django.urls import Resolver404, resolve
from rest_framework import exceptions
from rest_framework.response import Response

from apps.core import logs
from apps.core.codes import Code
from apps.core.exceptions import (
    Conflict,
    DatabaseUnavailable,
    FieldProblem,
    Forbidden,
    InvalidInput,
    NotAuthenticated,
    NotFound,
    NotJSON,
    RateLimited,
    SluiceError,
    TooLarge,
    Unavailable,
    Unsupported,
)

logger = logging.getLogger("sluice.errors")

PROBLEM_CONTENT_TYPE = "application/problem+json"
STATUS_OF_KIND: dict[type[SluiceError], int] = {
    InvalidInput: 400, NotAuthenticated: 401, Forbidden: 403, NotFound: 404, Conflict: 409,
    TooLarge: 413, Unsupported: 415, RateLimited: 429, Unavailable: 503,
}


def status_of(error: SluiceError) -> int | None:
    """The HTTP status of the error's kind; None for an error of no kind (a bug)."""
    return next((STATUS_OF_KIND[kind] for kind in type(error).__mro__
                 if kind in STATUS_OF_KIND), None)


def problem(
    status_code: int,
    code: str,
    detail: str,
    errors: list[dict[str, Any]] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": f"urn:sluice:problem:{code}",
        "title": _title(status_code),
        "status": status_code,
        "code": code,
        "detail": detail,
        "errors": errors if errors is not None
        else [{"code": code, "detail": detail, "attr": None}],
    }
    body.update(extra)
    return body


def _title(status_code: int) -> str:
    try:
        return HTTPStatus(status_code).phrase
    except ValueError:
        return "Error"


def problem_of(error: SluiceError, status_code: int) -> dict[str, Any]:
    """The problem-details body of an application error."""
    errors = [{"code": e.code, "detail": e.detail, "attr": e.attr} for e in error.errors]
    return problem(status_code, error.code, error.detail, errors, **error.extensions())


def headers_of(error: SluiceError) -> dict[str, str]:
    """The headers an application error is answered with: a missing key is challenged (a
    session token is sent in the body, so an expired one is not), and a sender told to come
    back is told when (and, over a rate limit, the limits)."""
    if isinstance(error, NotAuthenticated) and error.code == Code.NOT_AUTHENTICATED:
        return {"WWW-Authenticate": error.challenge}
    if isinstance(error, RateLimited):
        return {"Retry-After": str(error.retry_after), **error.headers}
    if isinstance(error, Unavailable):
        return {"Retry-After": str(error.retry_after)}
    return {}


def flatten(detail: Any, prefix: str = "") -> Iterator[FieldProblem]:
    """DRF's nested error detail as a flat list of field problems."""
    if isinstance(detail, dict):
        for key, value in detail.items():
            if key == "non_field_errors":
                yield from flatten(value, prefix)
            else:
                yield from flatten(value, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(detail, list):
        if all(isinstance(item, str) for item in detail):
            for item in detail:
                yield _field(item, prefix)
        else:
            for index, item in enumerate(detail):
                if item:
                    yield from flatten(item, f"{prefix}[{index}]")
    else:
        yield _field(detail, prefix)


def _field(detail: Any, attr: str) -> FieldProblem:
    return FieldProblem(attr or None, getattr(detail, "code", None) or Code.INVALID, str(detail))


def _drf_code(exc: exceptions.APIException) -> str:
    codes = exc.get_codes()
    return codes if isinstance(codes, str) else str(exc.default_code)


def application_error(exc: Exception) -> SluiceError | None:
    """Django's, DRF's and the database's exceptions of a kind Sluice has, as that kind."""
    if isinstance(exc, SluiceError):
        return exc
    if isinstance(exc, Http404 | exceptions.NotFound):
        return NotFound()
    if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
        return NotAuthenticated()
    if isinstance(exc, exceptions.ValidationError):
        return InvalidInput(errors=flatten(exc.detail))
    if isinstance(exc, exceptions.ParseError):
        return NotJSON(str(exc.detail))
    if isinstance(exc, DjangoPermissionDenied):
        return Forbidden(str(exceptions.PermissionDenied.default_detail))
    if isinstance(exc, exceptions.PermissionDenied):
        return Forbidden(str(exc.detail), code=_drf_code(exc))
    if isinstance(exc, OperationalError | InterfaceError):
        logger.warning("the database cannot be reached: %s", exc)
        return DatabaseUnavailable()
    return None


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    """DRF's exception handler: every exception, expected or not, as problem details."""
    error = application_error(exc)
    status_code = status_of(error) if error is not None else None
    if error is not None and status_code is not None:
        return Response(problem_of(error, status_code), status=status_code,
                        headers=headers_of(error), content_type=PROBLEM_CONTENT_TYPE)
    if isinstance(exc, exceptions.APIException):
        return _drf_problem(exc)
    request_id = logs.request_id()
    logger.exception("unhandled error, request id %s", request_id, exc_info=exc)
    return Response(
        problem(500, Code.SERVER_ERROR, _server_error_detail(request_id), requestId=request_id),
        status=500, content_type=PROBLEM_CONTENT_TYPE,
    )


def _drf_problem(exc: exceptions.APIException) -> Response:
    """A DRF error Sluice has no kind for (405, 406, 415, 429, ...), answered as DRF says."""
    response = Response(problem(exc.status_code, _drf_code(exc), str(exc.detail)),
                        status=exc.status_code, content_type=PROBLEM_CONTENT_TYPE)
    if getattr(exc, "wait", None):
        response["Retry-After"] = str(int(exc.wait))  # type: ignore[attr-defined]
    return response


def _server_error_detail(request_id: str) -> str:
    return f"Sluice failed to answer this request. Quote request id {request_id} when reporting it."


def error_json(error: SluiceError) -> JsonResponse:
    """An application error answered outside DRF (middleware, Django's error views)."""
    status_code = status_of(error) or 500
    response = JsonResponse(problem_of(error, status_code), status=status_code,
                            content_type=PROBLEM_CONTENT_TYPE)
    for name, value in headers_of(error).items():
        response[name] = value
    return response


def bad_request(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return error_json(InvalidInput("The request could not be understood.",
                                   code=Code.BAD_REQUEST))


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return error_json(Forbidden())


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return error_json(NotFound())


def method_not_allowed(request: HttpRequest) -> JsonResponse:
    """The 405 of a method the front refuses before Sluice sees it (TRACE), which the front
    asks for with the address in X-Original-URI: `Allow` names the methods it takes."""
    path = urlsplit(request.headers.get("X-Original-URI", "")).path
    try:
        view_class = getattr(resolve(path).func, "view_class", None)
    except Resolver404:
        view_class = None
    allowed = view_class().allowed_methods if view_class is not None else []
    body = problem(405, Code.METHOD_NOT_ALLOWED, "This method is not served here. This "
                   f"address takes {', '.join(allowed) or 'none'} (see /v1/docs).")
    response = JsonResponse(body, status=405, content_type=PROBLEM_CONTENT_TYPE)
    response["Allow"] = ", ".join(allowed)
    return response


def server_error(request: HttpRequest) -> JsonResponse:
    request_id = logs.request_id()
    logger.error("unhandled error, request id %s", request_id)
    body = problem(500, Code.SERVER_ERROR, _server_error_detail(request_id),
                   requestId=request_id)
    return JsonResponse(body, status=500, content_type=PROBLEM_CONTENT_TYPE)


