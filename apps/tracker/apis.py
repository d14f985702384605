"""The browser front doors: the Intempt-style tracker's `POST /v1/<org>/track` and the
Churn360-style usage collector's `POST /api/initialize` and `POST /api/collect`. They read
the body strictly, check the page's origin, and hand the batch to one service."""

from typing import Any, cast

from django.utils import timezone
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import exceptions, serializers
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.apis import IngestAPIView
from apps.core.permissions import key_of
from apps.ingestion import body
from apps.ingestion.apis import INGEST_ANSWER, ingest_answer
from apps.orgs.authentication import ApiKeyAuthentication
from apps.orgs.models import ApiKey
from apps.tracker import services
from apps.tracker.authentication import BodyKeyAuthentication
from apps.tracker.cors import BrowserAPIView
from apps.tracker.selectors import (
    COLLECTOR_SOURCE_TYPES,
    SourceOrigins,
    origin_allowed_by_any_org,
    source_origins,
)
from apps.tracker.sessions import (
    SESSION_SECONDS,
    CollectorSession,
    org_id_of,
    session_of,
    session_token,
)

BROWSER_MEDIA_TYPES = ("text/plain", "application/json")
SENT_AT = {"type": "string", "format": "date-time", "description": "the sender's clock"}
TRACK_BODY = {"type": "object", "required": ["batch"], "properties": {
    "writeKey": {"type": "string"}, "trackerId": {"type": "string"}, "sentAt": SENT_AT,
    "batch": {"type": "array", "items": {"type": "object", "required": ["collection"]}}}}
COLLECT_BODY = {"type": "object", "required": ["sessionToken", "batch"], "properties": {
    "sessionToken": {"type": "string"}, "sentAt": SENT_AT,
    "batch": {"type": "array", "items": {"type": "object", "required": ["type"], "properties": {
        "type": {"type": "string", "enum": ["page", "track", "identify"]}}}}}}


class JsonBodyMixin(APIView):
    """The request body read once, strictly (size limits, no NaN), by whoever needs it
    first: the origin check, the key lookup or the handler."""

    def payload(self) -> Any:
        if not hasattr(self, "_payload"):
            self._payload = body.read_json(self.request._request)
        return self._payload

    def payload_member(self, name: str) -> Any:
        if self.request.method != "POST":
            return None
        payload = self.payload()
        return payload.get(name) if isinstance(payload, dict) else None


class TrackApi(BrowserAPIView, JsonBodyMixin, IngestAPIView):
    authentication_classes = [BodyKeyAuthentication]

    def origins(self) -> SourceOrigins:
        if not hasattr(self, "_origins"):
            self._origins = source_origins(org=self.kwargs["org"])
        return self._origins

    def preflight_allows(self, origin: str) -> bool:
        return self.origins().allow(origin)

    def answer_allows(self, origin: str) -> bool:
        return self.origins().allow(origin)

    def body_key(self) -> Any:
        return self.payload_member("writeKey")

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        origin = request.headers.get("Origin")
        tracker_id = self.payload_member("trackerId") if origin else None
        if origin and not self.origins().allow(
                origin, tracker_id if isinstance(tracker_id, str) else None):
            self.refuse_origin()
        super().initial(request, *args, **kwargs)

    @extend_schema(
        request={media: TRACK_BODY for media in BROWSER_MEDIA_TYPES},
        responses={202: INGEST_ANSWER, 400: INGEST_ANSWER}, operation_id="tracker_track",
        # security requirement objects, as OpenAPI writes them (the stubs know only names)
        auth=[{"ApiKeyHeader": []}, {"ApiKeyAuthorization": []}, {}],  # type: ignore[list-item]
        description="The browser tracker's batch: `{writeKey?, trackerId?, sentAt, batch: "
        "[{collection, eventId, visitorId, userId?, timestamp, fields}]}`, as text/plain "
        "(no CORS preflight) or JSON. Each item becomes a record of the collection it names: "
        "its `fields` with the system fields the schema has. `timestamp` is moved by the "
        "sender's clock skew (receive time - `sentAt`). The key may be in the body's "
        "`writeKey`. A page may send only from an origin that the web source of `trackerId` "
        "(or any web source of the org) allows.",
    )
    def post(self, request: Request, org: str) -> Response:
        return ingest_answer(services.track_ingest(org=self.org, payload=self.payload(),
                                                   received=timezone.now()), request)


# ---------------------------------------------------------------------------
# The usage collector (Churn360) at /api/
# ---------------------------------------------------------------------------
class HasApiKey(BasePermission):
    """Any live key, write or secret: the collector's URL names no org, the key does."""

    def has_permission(self, request: Request, view: Any) -> bool:
        if request.auth is None:
            raise exceptions.NotAuthenticated()
        return True


class CollectorAPIView(BrowserAPIView):
    """The org is the key's (initialize) or the session's (collect); until it is known, an
    answer is readable by origins that some org allows."""

    org_id: int | None = None

    def preflight_allows(self, origin: str) -> bool:
        return origin_allowed_by_any_org(origin=origin)

    def answer_allows(self, origin: str) -> bool:
        if self.org_id is None:
            return origin_allowed_by_any_org(origin=origin)
        return self.org_allows(origin)

    def org_allows(self, origin: str) -> bool:
        assert self.org_id is not None
        return source_origins(org=self.org_id, types=COLLECTOR_SOURCE_TYPES).allow(origin)

    def check_origin(self, request: Request) -> None:
        origin = request.headers.get("Origin")
        if origin and not self.org_allows(origin):
            self.refuse_origin()


class InitializeInput(serializers.Serializer):  # type: ignore[type-arg]
    customerIdentifier = serializers.CharField(max_length=200, help_text=(
        "the customer: an id shared by CRM, support and finance tools, a CRM id, an email "
        "domain or the company name"))
    userEmail = serializers.CharField(max_length=254, help_text="the user's email")


class CollectorInitializeApi(CollectorAPIView):
    authentication_classes = [ApiKeyAuthentication]
    permission_classes = [HasApiKey]

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        self.org_id = key_of(request).org_id
        self.check_origin(request)

    @extend_schema(
        request=InitializeInput, operation_id="collector_initialize",
        responses={200: inline_serializer("CollectorSession", {
            "sessionToken": serializers.CharField(),
            "expiresIn": serializers.IntegerField(help_text="seconds")})},
        description="Starts a usage-collector session for a customer and user with the "
        "`x-api-key` header (a write or secret key). The token expires after 20 minutes; "
        "initialize again before then.",
    )
    def post(self, request: Request) -> Response:
        if not isinstance(request.data, dict):
            raise exceptions.ValidationError({"non_field_errors": [
                "The body must be one JSON object."]})
        serializer = InitializeInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        token = session_token(key=cast(ApiKey, request.auth),
                              customer_identifier=data["customerIdentifier"],
                              user_email=data["userEmail"])
        return Response({"sessionToken": token, "expiresIn": SESSION_SECONDS})


class CollectorCollectApi(JsonBodyMixin, CollectorAPIView):
    authentication_classes: list[type] = []
    permission_classes: list[type] = []

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        token = self.payload_member("sessionToken")
        self.org_id = org_id_of(token)
        self.session: CollectorSession = session_of(token)
        self.check_origin(request)

    @extend_schema(
        request={media: COLLECT_BODY for media in BROWSER_MEDIA_TYPES},
        responses={202: INGEST_ANSWER, 400: INGEST_ANSWER}, operation_id="collector_collect",
        auth=[],
        description="The collector's batch of `page`, `track` and `identify` calls, "
        "authenticated by the session token in the body. Page views go to the built-in "
        "`pages` collection, track calls to `events`, identify calls to `users`, each keyed "
        "to the session's customer (`accountId`) and user (`userId`: identify's, else the "
        "session's email). A 401 `session_expired` asks for a new session.",
    )
    def post(self, request: Request) -> Response:
        return ingest_answer(services.collect_ingest(session=self.session,
                                                     payload=self.payload(),
                                                     received=timezone.now()),
                             request, org=self.session.org.slug)
