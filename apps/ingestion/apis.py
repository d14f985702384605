import hmac
import time
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.schemas.inspectors import ViewInspector
from rest_framework.views import APIView

from apps.catalog.apis import collection_given
from apps.catalog.models import Collection
from apps.catalog.selectors import collection_for_ingest
from apps.core import links
from apps.core.apis import OrgAPIView
from apps.core.codes import Code
from apps.core.errors import PROBLEM_CONTENT_TYPE, problem
from apps.core.exceptions import InvalidInput, NotAuthenticated
from apps.core.renderers import JSONRenderer
from apps.core.serializers import IdField, LinksField
from apps.ingestion import limits, services
from apps.ingestion.links import Receipt
from apps.ingestion.metrics import metrics_text
from apps.ingestion.services import Outcome
from apps.records import selectors
from apps.records.apis import RecordListApi, schema_version_param
from apps.sources.selectors import source_get

INGEST_ANSWER = inline_serializer("IngestAnswer", {
    "accepted": serializers.IntegerField(),
    "rejected": serializers.ListField(child=serializers.DictField()),
    "warnings": serializers.ListField(child=serializers.DictField()),
    "_links": LinksField(help_text="`self`; `records` of the collection written; `rejected` "
                         "when records were rejected"),
})
SEND_VERSION = OpenApiParameter(
    "schemaVersion", str, pattern=r"^([1-9][0-9]*|latest)$",
    description="the schema version the records were written in (a number, or `latest`): "
    "they are validated against it and stored tagged with it, and read back in any version "
    "(`GET .../data?schemaVersion=`). 400 `unknown_schema_version` if the collection has no "
    "such version. Without it, the current version.")
GZIP_NOTE = ("The body may be compressed (`Content-Encoding: gzip`) and may be sent chunked; "
             "the limits count it inflated.")
HEALTH = inline_serializer("Health", {
    "status": serializers.ChoiceField(["ok", "unavailable"]),
    "database": serializers.ChoiceField(["ok", "unreachable"]),
    "queue": serializers.ChoiceField(["ok", "unreachable"]),
    "buffer": inline_serializer("IngestionBuffer", {
        "evictionPolicy": serializers.CharField(
            allow_null=True, help_text="Redis's maxmemory-policy; only `noeviction` is safe"),
        "safe": serializers.BooleanField(
            help_text="false: Redis may evict buffered records when its memory is full"),
        "shards": inline_serializer("BufferShard", {
            "shard": serializers.IntegerField(),
            "waiting": serializers.IntegerField(
                help_text="requests' batches waiting to be stored, taken by a drain or not"),
            "oldestSeconds": serializers.FloatField(
                allow_null=True, help_text="age of the oldest waiting record"),
            "draining": serializers.BooleanField(help_text="a drain holds the shard"),
        }, many=True),
        "oldestSeconds": serializers.FloatField(
            allow_null=True, help_text="age of the oldest record waiting to be stored, of "
            "any shard; null when nothing waits"),
        "workers": serializers.ChoiceField(
            ["idle", "draining", "behind"], help_text="whether workers keep up: `idle` "
            "(nothing waits), `draining` (what waits is younger than `behindAfterSeconds`), "
            "`behind` (older: workers are stopped, or too few). It does not change the "
            "answer's status: the web process still takes records"),
        "behindAfterSeconds": serializers.FloatField(
            help_text="SLUICE_DRAIN_BEHIND_SECONDS: the age past which workers are `behind`"),
    }, allow_null=True, help_text="with Redis: what waits in the ingestion buffer"),
})


WAIT_SECONDS = 5.0  # the longest a sender may wait for its records to be stored
WAIT = OpenApiParameter(
    "wait", bool, description="`true`: answer once the records are stored (200), so a read "
    "right after sees them; if they are not stored within 5 s, 202 with a `Location` where "
    "they will show. The header `Prefer: wait=N` (seconds, at most 5) does the same, and is "
    "answered with `Preference-Applied`. Without either, 202 as soon as they are queued "
    "(they show about a second later).")


def wait_asked(request: Request) -> tuple[float, bool]:
    """How long the sender asked to wait for its records to be stored (0: not at all), and
    whether it asked with `Prefer`."""
    asked = request.query_params.get("wait")
    if asked is not None:
        if asked.lower() not in ("true", "false", "1", "0"):
            raise InvalidInput.field("wait", Code.INVALID,
                                     "`wait` is `true` (answer once stored) or `false`.")
        return (WAIT_SECONDS if asked.lower() in ("true", "1") else 0.0), False
    for preference in request.headers.get("Prefer", "").split(","):
        name, _, value = preference.strip().partition("=")
        if name.strip().lower() == "wait":
            try:
                seconds = float(value.strip().strip('"')) if value else WAIT_SECONDS
            except ValueError:
                seconds = WAIT_SECONDS
            return max(0.0, min(seconds, WAIT_SECONDS)), True
    return 0.0, False


def _stored_within(outcome: Outcome, seconds: float) -> bool:
    deadline, pause = time.monotonic() + seconds, 0.01
    while not selectors.batches_stored(batches=outcome.queued):
        if time.monotonic() + pause > deadline:
            return False
        time.sleep(pause)
        pause = min(pause * 1.5, 0.1)
    return True


def ingest_answer(outcome: Outcome, request: Request, *, collection_id: int | None = None,
                  org: str | None = None) -> Response:
    """202 with what was accepted and the links that lead on (200 once stored, when the
    sender asked to wait); 400 with the same body when every record was rejected (once the
    rejected records are kept, when the sender asked to wait). `org` names the org where
    the URL does not."""
    receipt = Receipt(collection_id, rejected=bool(outcome.rejected))
    answer = {**outcome.as_body(), "_links": links.answer_links(request, receipt, org)}
    seconds, preferred = wait_asked(request)
    stored = _stored_within(outcome, seconds) if seconds and outcome.queued else None
    if outcome.accepted or not outcome.rejected:
        response = Response(answer, status=status.HTTP_200_OK if stored
                            else status.HTTP_202_ACCEPTED)
        if stored is False:
            response["Location"] = links.absolute(request, links.path(
                "collection-data", org=org or links.org_slug(request),
                collection_id=outcome.queued[0].collection_id))
    else:
        response = _all_rejected(outcome, answer)
    if preferred:
        response["Preference-Applied"] = f"wait={seconds:g}"
    return response


def _all_rejected(outcome: Outcome, answer: dict[str, Any]) -> Response:
    errors = [
        {**error, "attr": f"{entry.get('collection', 'records')}[{entry['index']}]"
         + (f".{error['attr']}" if error["attr"] else "")}
        for entry in outcome.rejected for error in entry["errors"]
    ]
    body_ = problem(400, "all_records_rejected", "No record was valid; each is kept in the "
                    "rejected list (GET /v1/<org>/rejected) with its reasons.", errors,
                    **answer)
    return Response(body_, status=status.HTTP_400_BAD_REQUEST,
                    content_type="application/problem+json")


class IngestSchema(AutoSchema):
    """Every write of records may wait for them to be stored: `wait`, and its 200."""

    def _writes(self) -> bool:
        return self.method in ("POST", "PUT", "PATCH")

    def get_override_parameters(self) -> list[Any]:
        found = super().get_override_parameters()
        return [*found, WAIT] if self._writes() else found

    def get_operation(self, *args: Any, **kwargs: Any) -> Any:
        operation = super().get_operation(*args, **kwargs)
        answers = (operation or {}).get("responses", {})
        if operation is not None and self._writes() and "202" in answers:
            stored = {**answers["202"], "description": "stored (the sender asked to wait)"}
            operation["responses"] = {"200": stored, **answers}
        return operation


class RecordsBody:
    """A view whose body holds records: required, within the limits of one ingestion request;
    its writes may wait for them to be stored (`wait`)."""

    schema: ViewInspector | None = IngestSchema()

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)  # type: ignore[misc]
        wait_asked(request)  # a `wait` that means nothing is refused before anything is queued

    body_limit = limits.MAX_REQUEST_BYTES
    body_limit_advice = limits.REQUEST_ADVICE
    body_required = True


class IngestAPIView(RecordsBody, OrgAPIView):
    """Write keys may POST records here as well as secret keys; a web source's write key
    only to its source's collections (and the built-in ones)."""

    write_key_methods = ("POST",)

    @property
    def only_source(self) -> int | None:
        """The source whose collections alone the key may send to; None: any of the org."""
        return self.key.source_id


class CollectionDataApi(IngestAPIView, RecordListApi):
    """POST sends records; GET reads them back (apps/records/apis.py)."""

    def collection_to_ingest(self, collection_id: str) -> Collection:
        return self.found(collection_for_ingest(org=self.org, collection_id=collection_id))

    @extend_schema(
        request={"application/json": {"oneOf": [
            {"type": "object", "description": "one record"},
            {"type": "array", "items": {"type": "object"}},
            {"type": "object", "properties": {"records": {"type": "array"}}},
        ]}},
        responses={202: INGEST_ANSWER, 400: INGEST_ANSWER}, operation_id="collection_data_send",
        parameters=[SEND_VERSION],
        description="One record, a JSON array of records or `{\"records\": [...]}`: at most "
        "2,500 records, 32 KB each, 500 KB in all. Write keys may send. " + GZIP_NOTE,
    )
    def post(self, request: Request, org: str, collection_id: str) -> Response:
        collection = self.collection_to_ingest(collection_id)
        services.scope_checked(only_source=self.only_source, collections=[collection])
        outcome = services.collection_ingest(
            collection=collection, payload=request.data,
            version=schema_version_param(request, collection))
        return ingest_answer(outcome, request, collection_id=collection.id)


class SourceDataApi(IngestAPIView):
    @extend_schema(
        request={"application/json": {"type": "object", "additionalProperties": {
            "type": "array", "items": {"type": "object"}}}},
        responses={202: INGEST_ANSWER, 400: INGEST_ANSWER}, operation_id="source_data_send",
        description="`{\"<collection name>\": [records...], ...}`: records of several "
        "collections of this source in one request. " + GZIP_NOTE,
    )
    def post(self, request: Request, org: str, source_id: str) -> Response:
        source = self.found(source_get(org=self.org, source_id=source_id))
        payload = request.data
        if not isinstance(payload, dict) or not payload:
            raise InvalidInput.field("body", Code.INVALID,
                                     "Send {\"<collection name>\": [records...], ...}.")
        collections = {c.name: c for c in source.collections.prefetch_related("identifiers")}
        for name, records in payload.items():
            if name not in collections:
                raise InvalidInput.field(name, Code.UNKNOWN_COLLECTION, f"The source "
                                         f"{source.name!r} has no collection named {name!r}. Its "
                                         f"collections: {', '.join(collections) or 'none'}.")
            if not isinstance(records, list):
                raise InvalidInput.field(name, Code.INVALID,
                                         "Give the records of a collection as a JSON array.")
        services.scope_checked(only_source=self.only_source,
                               collections=[collections[name] for name in payload])
        return ingest_answer(services.source_ingest(collections=collections, payload=payload),
                             request)


class HealthApi(APIView):
    """For load balancers and monitors (served without a key): nothing of any org is told."""

    @extend_schema(responses={200: HEALTH, 503: HEALTH}, operation_id="health",
                   description="200 when this web process reaches its database and its queue; "
                   "503 naming what it cannot reach. With Redis, `buffer` tells what waits to "
                   "be stored, per shard, and whether workers are draining it: alert when "
                   "`workers` is `behind` (`oldestSeconds` past `behindAfterSeconds`), or "
                   "`safe` is false.")
    def get(self, request: Request) -> Response:
        health = services.health()
        return Response(health, status=status.HTTP_200_OK if health["status"] == "ok"
                        else status.HTTP_503_SERVICE_UNAVAILABLE)


class PrometheusText(BaseRenderer):
    media_type = "text/plain"
    format = "prometheus"
    charset = "utf-8"

    def render(self, data: Any, accepted_media_type: str | None = None,
               renderer_context: Mapping[str, Any] | None = None) -> Any:
        if isinstance(data, bytes | str):
            return data
        # an error's problem body (a 405, a 406) is JSON like every other
        return JSONRenderer().render(data, accepted_media_type, renderer_context)


class MetricsTokenRequired(NotAuthenticated):
    challenge = 'Bearer realm="metrics"'
    default_detail = "Send the metrics token (SLUICE_METRICS_TOKEN) as 'Authorization: Bearer " \
        "<token>'."


def metrics_token_checked(request: Request) -> None:
    """With SLUICE_METRICS_TOKEN set, a scrape carries it as a bearer token."""
    token = settings.METRICS_TOKEN
    if not token:
        return
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(),
                                                             token.encode()):
        raise MetricsTokenRequired()


class MetricsApi(APIView):
    """For Prometheus (served without a key; with SLUICE_METRICS_TOKEN set, with that token):
    nothing of any org is told but the counts of its records by collection."""

    renderer_classes = [PrometheusText]

    @extend_schema(
        responses={(200, "text/plain"): OpenApiTypes.STR,
                   (401, PROBLEM_CONTENT_TYPE): OpenApiTypes.OBJECT},
        operation_id="metrics",
        description="Prometheus text format, counted across every web and worker process "
        "(with Redis): `sluice_http_requests_total` (route, method, status), "
        "`sluice_http_request_duration_seconds` (route, method), `sluice_ingest_records_total` "
        "(org, collection, outcome: accepted or rejected), `sluice_records_stored_total`, "
        "`sluice_drain_duration_seconds`, `sluice_drain_batch_records`, "
        "`sluice_task_retries_total` (task); per shard of the ingestion buffer "
        "`sluice_buffer_waiting_batches`, `sluice_buffer_oldest_seconds`, "
        "`sluice_buffer_draining`; and `sluice_buffer_up`, `sluice_buffer_safe`. When the "
        "server has SLUICE_METRICS_TOKEN set, send it as `Authorization: Bearer <token>` "
        "(else 401).")
    def get(self, request: Request) -> Response:
        metrics_token_checked(request)
        return Response(metrics_text(), content_type=f"{PrometheusText.media_type}; "
                        "version=0.0.4; charset=utf-8")


class ReplayInput(serializers.Serializer):  # type: ignore[type-arg]
    ids = serializers.ListField(child=IdField(), required=False, max_length=2500)
    collId = IdField(required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs.get("ids") and "collId" not in attrs:
            raise serializers.ValidationError("Give `ids` of rejected records, or `collId` to "
                                              "replay all of a collection's.")
        return attrs


class RejectedReplayApi(OrgAPIView):
    @extend_schema(request=ReplayInput, operation_id="rejected_replay", responses=inline_serializer(
        "ReplayAnswer", {"replayed": serializers.IntegerField(),
                         "stillRejected": serializers.IntegerField(),
                         "rejected": serializers.ListField(child=serializers.DictField()),
                         "_links": LinksField(help_text="`self` and the `rejected` list")}))
    def post(self, request: Request, org: str) -> Response:
        data = self.valid(ReplayInput)
        collection = collection_given(org=self.org, coll_id=data.get("collId"))
        rejected = selectors.rejected_for_replay(org=self.org, ids=data.get("ids"),
                                                 collection=collection)
        outcome = services.rejected_replay(rejected=list(rejected[: limits.MAX_RECORDS]))
        return Response({**outcome.as_body(), "_links": links.answer_links(request, outcome)})
