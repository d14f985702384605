"""CORS for the browser front doors, in one place. A request that carries an `Origin` is
taken only from an origin that a source of the org allows; its answers (errors included)
carry the CORS headers so that the page's script can read them. A refused origin gets a 403
`origin_not_allowed` without CORS headers. Requests without an Origin (servers, curl) are
not origin-checked."""

from typing import Any, cast

from django.http import HttpRequest, HttpResponse
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.codes import Code
from apps.core.errors import error_json
from apps.core.exceptions import Forbidden

ALLOW_METHODS = "POST, OPTIONS"
# X-Retry-Count: Segment's browser library sends it on its retries
ALLOW_HEADERS = "Content-Type, x-api-key, Authorization, X-Retry-Count"
PREFLIGHT_MAX_AGE = "600"
# what a page's script may read of an answer beyond the basics: when to retry, and the limits
EXPOSE_HEADERS = "Retry-After, RateLimit, RateLimit-Policy"


class OriginNotAllowed(Forbidden):
    """A web page of an origin that no web source of the org allows."""

    default_code = Code.ORIGIN_NOT_ALLOWED
    default_detail = (
        "This origin may not send to this org. Add it to the allowedOrigins of the org's web "
        "source (PATCH /v1/<org>/sources/<id>)."
    )


def _vary(response: HttpResponse | Response, header: str) -> None:
    present = [v.strip() for v in response.get("Vary", "").split(",") if v.strip()]
    if header not in present:
        response["Vary"] = ", ".join([*present, header])


def allow(response: HttpResponse | Response, origin: str) -> None:
    """Lets the page of `origin` read `response`. Credentials are allowed because
    `navigator.sendBeacon` always sends them; Sluice authenticates by key or session token
    only, never by cookie, so they grant nothing."""
    response["Access-Control-Allow-Origin"] = origin
    response["Access-Control-Allow-Credentials"] = "true"
    response["Access-Control-Expose-Headers"] = EXPOSE_HEADERS
    _vary(response, "Origin")


def preflight(origin: str, allowed: bool) -> HttpResponse:
    if not allowed:
        return error_json(OriginNotAllowed())
    response = HttpResponse(status=204)
    allow(response, origin)
    response["Access-Control-Allow-Methods"] = ALLOW_METHODS
    response["Access-Control-Allow-Headers"] = ALLOW_HEADERS
    response["Access-Control-Max-Age"] = PREFLIGHT_MAX_AGE
    return response


class BrowserAPIView(APIView):
    """A view that browsers call from other origins. Subclasses say which origins their org
    allows: `preflight_allows` (before anything is known but the URL) and `answer_allows`
    (for any answer, once the view knows what it can); `refuse_origin` raises the 403."""

    origin_refused = False

    def preflight_allows(self, origin: str) -> bool:
        raise NotImplementedError

    def answer_allows(self, origin: str) -> bool:
        raise NotImplementedError

    def refuse_origin(self) -> None:
        self.origin_refused = True
        raise OriginNotAllowed()

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        origin = request.headers.get("Origin")
        if request.method == "OPTIONS" and origin:
            self.args, self.kwargs = args, kwargs
            return preflight(origin, self.preflight_allows(origin))
        return cast(HttpResponse, super().dispatch(request, *args, **kwargs))

    def finalize_response(self, request: Request, response: Response, *args: Any,
                          **kwargs: Any) -> Response:
        response = super().finalize_response(request, response, *args, **kwargs)
        origin = request.headers.get("Origin")
        if origin and not self.origin_refused and self.answer_allows(origin):
            allow(response, origin)
        return response
