"""The browser front doors: the Intempt-style tracker's `POST /v1/<org>/track` and the
Churn360-style usage collector's `POST /api/initialize` and `POST /api/collect`. They read
the body strictly, check the page's origin, and hand the batch to one service."""

from typing import Any, cast

from django.utils import timezone
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from apps.core.parsers import body_member
from apps.core.serializers import TextField
from apps.ingestion.apis import INGEST_ANSWER, IngestAPIView, RecordsBody, ingest_answer
from apps.orgs.models import ApiKey
from apps.tracker import services
from apps.tracker.authentication import (
    BodyKeyAuthentication,
    SegmentKeyAuthentication,
    SessionTokenAuthentication,
)
from apps.tracker.cors import AnyOriginAPIView, OrgOriginsAPIView
from apps.tracker.selectors import COLLECTOR_SOURCE_TYPES
from apps.tracker.sessions import SESSION_SECONDS, CollectorSession, session_token

BROWSER_MEDIA_TYPES = ("text/plain", "application/json")
SENT_AT = {"description": "a time of the sender's clock, ISO 8601 text; one Sluice cannot read "
           "is ignored, as Segment ignores it"}
TRACK_BODY = {"type": "object", "required": ["batch"], "properties": {
    "writeKey": {"type": "string", "nullable": True,
                 "description": "the key, when no header carries it (null: none)"},
    "trackerId": {"description": "the web source's tracker id, text; read only from a page "
                  "(a request with an Origin), ignored otherwise"}, "sentAt": SENT_AT,
    "batch": {"type": "array", "items": {"type": "object", "required": ["collection"]}}}}
COLLECT_BODY = {"type": "object", "required": ["sessionToken", "batch"], "properties": {
    "sessionToken": {"type": "string"}, "sentAt": SENT_AT,
    "batch": {"type": "array", "items": {"type": "object", "required": ["type"], "properties": {
        "type": {"type": "string", "enum": ["page", "track", "identify"]}}}}}}


class TrackApi(OrgOriginsAPIView, IngestAPIView):
    authentication_classes = [BodyKeyAuthentication]

    def source_named(self, request: Request) -> str | None:
        tracker_id = body_member(request, "trackerId")
        return tracker_id if isinstance(tracker_id, str) else None

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
        return ingest_answer(services.track_ingest(org=self.org, payload=request.data,
                                                   received=timezone.now(),
                                                   only_source=self.only_source), request)


# ---------------------------------------------------------------------------
# The usage collector (Churn360) at /api/
# ---------------------------------------------------------------------------
class CollectorAPIView(OrgOriginsAPIView):
    """The org is the key's (initialize) or the session's (collect): the URL names none."""

    org_in_url = False
    write_key_methods = ("POST",)
    source_types = COLLECTOR_SOURCE_TYPES


class InitializeInput(serializers.Serializer):  # type: ignore[type-arg]
    customerIdentifier = TextField(required=False, max_length=200, help_text=(
        "the customer: an id shared by CRM, support and finance tools, a CRM id, an email "
        "domain or the company name; left out, the session is an anonymous visitor's"))
    userEmail = TextField(required=False, max_length=254,
                          help_text="the user's email; left out, identify names it")


class CollectorInitializeApi(CollectorAPIView):
    @extend_schema(
        request=InitializeInput, operation_id="collector_initialize",
        responses={200: inline_serializer("CollectorSession", {
            "sessionToken": serializers.CharField(),
            "expiresIn": serializers.IntegerField(help_text="seconds")})},
        description="Starts a usage-collector session with the `x-api-key` header (a write or "
        "secret key), for a customer and user when the body names them. A session started "
        "with the key alone (`{}`) is an anonymous visitor's: its records are keyed by "
        "`visitorId` until identify names the user. The token is opaque (sealed by Sluice: "
        "nothing in it can be read or changed) and expires after 20 minutes; initialize "
        "again before then. A page may call from an origin that a web or usage-collector "
        "source of the key's org allows (403 `origin_not_allowed` otherwise); the CORS "
        "preflight answers every origin alike.",
    )
    def post(self, request: Request) -> Response:
        data = self.valid(InitializeInput)
        token = session_token(key=cast(ApiKey, request.auth),
                              customer_identifier=data.get("customerIdentifier"),
                              user_email=data.get("userEmail"))
        return Response({"sessionToken": token, "expiresIn": SESSION_SECONDS})


class CollectorCollectApi(RecordsBody, CollectorAPIView):
    authentication_classes = [SessionTokenAuthentication]

    @extend_schema(
        request={media: COLLECT_BODY for media in BROWSER_MEDIA_TYPES},
        responses={202: INGEST_ANSWER, 400: INGEST_ANSWER}, operation_id="collector_collect",
        auth=[],
        description="The collector's batch of `page`, `track` and `identify` calls, "
        "authenticated by the session token in the body. Page views go to the built-in "
        "`pages` collection, track calls to `events`, identify calls to `users`, each keyed "
        "to the customer (`accountId`: the item's, else the session's) and the user "
        "(`userId`: identify's, else the session's email), and always to the browser's "
        "`visitorId`; an anonymous session's records have no `accountId` or `userId` until "
        "identify names them. A 401 `session_expired` asks for a new session.",
    )
    def post(self, request: Request) -> Response:
        session = cast(CollectorSession, request.auth)
        return ingest_answer(services.collect_ingest(session=session, payload=request.data,
                                                     received=timezone.now()),
                             request, org=session.org.slug)


# ---------------------------------------------------------------------------
# Segment's Tracking API at /v1/batch, /v1/track, ... (RudderStack's libraries send the same)
# ---------------------------------------------------------------------------
SEGMENT_MESSAGE = {"type": "object", "properties": {
    "type": {"type": "string", "enum": ["identify", "track", "page", "screen", "group", "alias"]},
    "messageId": {"type": "string"}, "anonymousId": {"type": "string"},
    "userId": {"type": "string"}, "event": {"type": "string"}, "name": {"type": "string"},
    "properties": {"type": "object"}, "traits": {"type": "object"},
    "groupId": {"type": "string"}, "previousId": {"type": "string"},
    "context": {"type": "object"}, "integrations": {"type": "object"},
    "timestamp": SENT_AT, "originalTimestamp": SENT_AT, "sentAt": SENT_AT}}
SEGMENT_BATCH = {"type": "object", "required": ["batch"], "properties": {
    "batch": {"type": "array", "items": SEGMENT_MESSAGE}, "sentAt": SENT_AT,
    "writeKey": {"type": "string"}, "context": {"type": "object"}}}
SEGMENT_ANSWER = inline_serializer("SegmentAnswer", {
    "success": serializers.BooleanField(), "accepted": serializers.IntegerField(),
    "rejected": serializers.ListField(child=serializers.DictField()),
    "warnings": serializers.ListField(child=serializers.DictField()),
})


class SegmentApi(AnyOriginAPIView, IngestAPIView):
    """A page of any origin may send: a write key is public, as Segment's is."""

    org_in_url = False
    authentication_classes = [SegmentKeyAuthentication]

    @extend_schema(
        request={media: SEGMENT_BATCH | SEGMENT_MESSAGE for media in BROWSER_MEDIA_TYPES},
        responses={200: SEGMENT_ANSWER, 400: SEGMENT_ANSWER},
        description="Segment's Tracking API, as Segment's and RudderStack's libraries send "
        "it: point them at this host. `/v1/batch` takes `{batch: [messages], sentAt}`; "
        "`/v1/<call>` (or its first letter) one message of that call. The key is the write "
        "key, as HTTP Basic user name (empty password) or the body's `writeKey`. A `track` "
        "goes to the built-in `events` collection, or to the org's collection named as the "
        "event (validated by its schema); `page` and `screen` to `pages`; `identify` merges "
        "traits into the user's `users` record (an `anonymousId` stitches the visitor to "
        "the user); `group` merges into `accounts` and makes the user a member; `alias` "
        "stitches `previousId` to `userId`. `messageId` keys events and pages: a message "
        "sent again is stored once. `timestamp` is corrected for the sender's clock: "
        "receivedAt - (sentAt - originalTimestamp). Answers 200 `{success: true}` with "
        "what was accepted and rejected (rejected messages are kept, with their reasons); "
        "400 when none was valid.",
    )
    def post(self, request: Request, call: str) -> Response:
        outcome = services.segment_ingest(org=self.org, call=call, payload=request.data,
                                          received=timezone.now(), only_source=self.only_source)
        response = ingest_answer(outcome, request, org=self.org.slug)
        if response.status_code < 300:
            response.data = {"success": True, **response.data}
            response.status_code = 200
        return response


class SegmentMetricsApi(AnyOriginAPIView):
    """Segment's browser library reports its own delivery metrics to `<apiHost>/m`: taken and
    dropped here, so that they go nowhere else and the page logs no error."""

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]

    @extend_schema(request=None, responses={204: None}, auth=[],
                   description="Segment's browser library's own metrics: taken and dropped.")
    def post(self, request: Request) -> Response:
        return Response(status=204)
