"""CORS for the browser front doors, in one place.

A preflight cannot know the org a page sends to (the collector's URL names none and its key
is not sent), so the preflights of the tracker and the collector answer the same, byte for
byte, for every origin: they tell nobody which origins an org allows. The request itself is
checked once its key is known: an `Origin` that no source of the key's own org allows gets a
403 `origin_not_allowed` without CORS headers. Answers given before the key is known (a 401,
or a key of another org) are the same for every origin and readable by any, so a page can tell
its key is wrong. Requests without an Origin (servers, curl) are not origin-checked."""

from typing import Any, cast

from django.http import HttpRequest, HttpResponse
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.apis import OrgAPIView
from apps.core.codes import Code
from apps.core.exceptions import Forbidden
from apps.tracker.selectors import TRACKER_SOURCE_TYPES, SourceOrigins, source_origins

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


def _preflight_headers(response: HttpResponse) -> HttpResponse:
    response["Access-Control-Allow-Methods"] = ALLOW_METHODS
    response["Access-Control-Allow-Headers"] = ALLOW_HEADERS
    response["Access-Control-Max-Age"] = PREFLIGHT_MAX_AGE
    return response


def preflight_for_every_origin() -> HttpResponse:
    """The one preflight answer of the doors whose org the preflight cannot know. The pages'
    requests that need a preflight are sent without credentials, so `*` lets them through."""
    response = HttpResponse(status=204)
    response["Access-Control-Allow-Origin"] = "*"
    return _preflight_headers(response)


class BrowserAPIView(APIView):
    """A view that browsers call from other origins. Its preflight is the same for every
    origin; subclasses say which origins may read an answer (`answer_allows`);
    `refuse_origin` raises the 403."""

    origin_refused = False

    def preflight(self, origin: str) -> HttpResponse:
        return preflight_for_every_origin()

    def answer_allows(self, origin: str) -> bool:
        raise NotImplementedError

    def refuse_origin(self) -> None:
        self.origin_refused = True
        raise OriginNotAllowed(attr="Origin")

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        origin = request.headers.get("Origin")
        if request.method == "OPTIONS" and origin:
            return self.preflight(origin)
        return cast(HttpResponse, super().dispatch(request, *args, **kwargs))

    def finalize_response(self, request: Request, response: Response, *args: Any,
                          **kwargs: Any) -> Response:
        response = super().finalize_response(request, response, *args, **kwargs)
        origin = request.headers.get("Origin")
        if origin and not self.origin_refused and self.answer_allows(origin):
            allow(response, origin)
        return response


class OrgOriginsAPIView(BrowserAPIView, OrgAPIView):
    """A door for the pages of one org: once the key (or session) says which org asks, the
    request's origin must be one that the org's sources of `source_types` allow."""

    source_types: tuple[str, ...] = TRACKER_SOURCE_TYPES

    def origins(self) -> SourceOrigins:
        """The origins the asking org's sources allow."""
        if not hasattr(self, "_origins"):
            self._origins = source_origins(org=self.org, types=self.source_types)
        return self._origins

    def source_named(self, request: Request) -> str | None:
        """The tracker id of the one source whose origins apply, if the request names one."""
        return None

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        origin = request.headers.get("Origin")
        if origin and not self.origins().allow(origin, self.source_named(request)):
            self.refuse_origin()

    def answer_allows(self, origin: str) -> bool:
        return not hasattr(self, "org") or self.origins().allow(origin)


class AnyOriginAPIView(BrowserAPIView):
    """A door that a page of any origin may call (a write key is public, as Segment's is):
    its preflight lets the origin send credentials, which Segment's library may be set to."""

    def preflight(self, origin: str) -> HttpResponse:
        response = HttpResponse(status=204)
        allow(response, origin)
        return _preflight_headers(response)

    def answer_allows(self, origin: str) -> bool:
        return True
