"""One JSON shape for every error (RFC 9457 problem details) with a stable snake_case `code`
and per-field `errors` carrying the field path in `attr`. Codes are never renamed."""

import logging
import uuid
from collections.abc import Iterator
from http import HTTPStatus
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpRequest, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response

logger = logging.getLogger("sluice.errors")

PROBLEM_CONTENT_TYPE = "application/problem+json"
NOT_AUTHENTICATED_DETAIL = (
    "Send a valid API key of this org as 'Authorization: ApiKey <key>' or 'x-api-key: <key>'."
)
NOT_FOUND_DETAIL = "Nothing exists at this address for your key. Check the org, the id and the key."


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "This conflicts with what already exists."
    default_code = "conflict"


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request is too large."
    default_code = "payload_too_large"


RETRY_AFTER_SECONDS = 5  # told to senders when a service Sluice needs is away


class DatabaseUnavailable(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "Sluice cannot reach its database right now. Retry soon."
    default_code = "database_unavailable"
    wait = RETRY_AFTER_SECONDS  # answered as Retry-After


class FieldError(exceptions.ValidationError):
    """A 400 naming the field path that is wrong, e.g. `schema.fields[3].type`."""

    def __init__(self, attr: str, detail: str, code: str = "invalid") -> None:
        super().__init__({attr: [exceptions.ErrorDetail(detail, code)]})


def field_errors(errors: list[tuple[str, str, str]]) -> exceptions.ValidationError:
    """A 400 with several `(attr, code, detail)` field errors, kept in order."""
    merged: dict[str, list[exceptions.ErrorDetail]] = {}
    for attr, code, detail in errors:
        merged.setdefault(attr, []).append(exceptions.ErrorDetail(detail, code))
    return exceptions.ValidationError(merged)


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


def flatten(detail: Any, prefix: str = "") -> Iterator[dict[str, Any]]:
    """DRF's nested error detail as a flat list of `{code, detail, attr}`."""
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


def _field(detail: Any, attr: str) -> dict[str, Any]:
    return {"code": getattr(detail, "code", "invalid"), "detail": str(detail), "attr": attr or None}


def _code(exc: exceptions.APIException) -> str:
    if isinstance(exc, exceptions.ValidationError):
        return "validation_error"
    if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
        return "not_authenticated"
    codes = exc.get_codes()
    return codes if isinstance(codes, str) else exc.default_code


def _detail(exc: exceptions.APIException, code: str) -> str:
    if code == "validation_error":
        return "The request is not valid; see `errors` for each field."
    if code == "not_authenticated":
        return NOT_AUTHENTICATED_DETAIL
    if code == "not_found":
        return NOT_FOUND_DETAIL
    if code == "parse_error":
        return f"The body is not valid JSON ({exc.detail}). Send one JSON object or array."
    return str(exc.detail)


def problem_response(exc: exceptions.APIException) -> Response:
    code = _code(exc)
    detail = _detail(exc, code)
    errors = list(flatten(exc.detail)) if code == "validation_error" else None
    response = Response(
        problem(exc.status_code, code, detail, errors), status=exc.status_code,
        content_type=PROBLEM_CONTENT_TYPE,
    )
    if code == "not_authenticated":
        response.status_code = status.HTTP_401_UNAUTHORIZED
        response.data["status"] = status.HTTP_401_UNAUTHORIZED
        response.data["title"] = _title(status.HTTP_401_UNAUTHORIZED)
        response["WWW-Authenticate"] = "ApiKey"
    if getattr(exc, "wait", None):
        response["Retry-After"] = str(int(exc.wait))  # type: ignore[attr-defined]
    return response


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    """DRF's exception handler: every exception, expected or not, as problem details."""
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, OperationalError | InterfaceError):
        logger.warning("the database cannot be reached: %s", exc)
        exc = DatabaseUnavailable()
    if isinstance(exc, exceptions.APIException):
        return problem_response(exc)
    request_id = uuid.uuid4().hex
    logger.exception("unhandled error, request id %s", request_id, exc_info=exc)
    return Response(
        problem(500, "server_error", _server_error_detail(request_id), requestId=request_id),
        status=500, content_type=PROBLEM_CONTENT_TYPE,
    )


def _server_error_detail(request_id: str) -> str:
    return f"Sluice failed to answer this request. Quote request id {request_id} when reporting it."


def json_error_view(status_code: int, code: str, detail: str,
                    attr: str | None = None) -> JsonResponse:
    """A problem answered outside DRF; `attr` names the field at fault, if one is."""
    errors = [{"code": code, "detail": detail, "attr": attr}]
    return JsonResponse(problem(status_code, code, detail, errors), status=status_code,
                        content_type=PROBLEM_CONTENT_TYPE)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return json_error_view(400, "bad_request", "The request could not be understood.")


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return json_error_view(403, "permission_denied", "This key may not do this.")


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return json_error_view(404, "not_found", NOT_FOUND_DETAIL)


def server_error(request: HttpRequest) -> JsonResponse:
    request_id = uuid.uuid4().hex
    logger.error("unhandled error, request id %s", request_id)
    body = problem(500, "server_error", _server_error_detail(request_id), requestId=request_id)
    return JsonResponse(body, status=500, content_type=PROBLEM_CONTENT_TYPE)
