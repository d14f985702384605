from collections.abc import Mapping
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.catalog import avro
from apps.catalog.models import Collection
from apps.catalog.selectors import collection_for_ingest, collection_get
from apps.core import links
from apps.core.apis import IngestAPIView, OrgAPIView
from apps.core.codes import Code
from apps.core.errors import problem
from apps.core.exceptions import InvalidInput
from apps.core.pagination import cursor_params, hal_cursor_list, next_cursor_query, time_param
from apps.core.serializers import IdField, LinksField
from apps.ingestion import body, services
from apps.ingestion.links import Receipt
from apps.ingestion.metrics import metrics_text
from apps.ingestion.services import Outcome
from apps.records import selectors
from apps.records.selectors import RecordQuery
from apps.records.serializers import RecordOutput, RejectedRecordOutput
from apps.records.services import record_delete
from apps.sources.selectors import source_get

READ_PARAMS = {"limit", "cursor", "since", "until"}
INGEST_ANSWER = inline_serializer("IngestAnswer", {
    "accepted": serializers.IntegerField(),
    "rejected": serializers.ListField(child=serializers.DictField()),
    "warnings": serializers.ListField(child=serializers.DictField()),
    "_links": LinksField(help_text="`self`; `records` of the collection written; `rejected` "
                         "when records were rejected"),
})
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
    }, allow_null=True, help_text="with Redis: what waits in the ingestion buffer"),
})
PAGE_PARAMETERS = [
    OpenApiParameter("limit", int, description="records per page, at most 1000 (100)"),
    OpenApiParameter("cursor", str, description="from the previous page's `next` link"),
    OpenApiParameter("since", str, description="ISO time: accepted at or after"),
    OpenApiParameter("until", str, description="ISO time: accepted at or before"),
]


def ingest_answer(outcome: Outcome, request: Request, *, collection_id: int | None = None,
                  org: str | None = None) -> Response:
    """202 with what was accepted and the links that lead on; 400 with the same body when
    every record was rejected. `org` names the org where the URL does not."""
    receipt = Receipt(collection_id, rejected=bool(outcome.rejected))
    answer = {**outcome.as_body(), "_links": links.answer_links(request, receipt, org)}
    if outcome.accepted or not outcome.rejected:
        return Response(answer, status=status.HTTP_202_ACCEPTED)
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


def _record_query(request: Request, collection: Collection) -> RecordQuery:
    limit, before = cursor_params(request)
    fields = avro.fields_of(collection.schema)
    equals = []
    for name, raw in request.query_params.items():  # the last value of each
        if name in READ_PARAMS:
            continue
        if name not in fields:
            raise InvalidInput.field(name, Code.UNKNOWN_FIELD, f"{name!r} is neither a field of "
                                     f"{collection.name!r} nor one of "
                                     f"{', '.join(sorted(READ_PARAMS))}.")
        try:
            equals.append((name, avro.query_value(fields[name], str(raw))))
        except ValueError as error:
            raise InvalidInput.field(name, Code.INVALID,
                                     f"{raw!r} cannot be a value of {name!r}: {error}.") from error
    return RecordQuery(limit=limit, before=before, since=time_param(request, "since"),
                       until=time_param(request, "until"), equals=tuple(equals))


class CollectionDataApi(IngestAPIView):
    def collection(self, collection_id: str) -> Collection:
        return self.found(collection_get(org=self.org, collection_id=collection_id))

    def collection_to_ingest(self, collection_id: str) -> Collection:
        return self.found(collection_for_ingest(org=self.org, collection_id=collection_id))

    @extend_schema(
        responses=inline_serializer("RecordPage", {
            "_embedded": inline_serializer("RecordPageEmbedded",
                                           {"records": RecordOutput(many=True)}),
            "_links": serializers.DictField(), "page": serializers.DictField()}),
        parameters=PAGE_PARAMETERS, operation_id="collection_data_list",
        description="Records newest first. Any other query parameter filters on a top-level "
        "schema field by equality (`?bookingStatus=booked`).",
    )
    def get(self, request: Request, org: str, collection_id: str) -> Response:
        collection = self.collection(collection_id)
        query = _record_query(request, collection)
        records, cursor = selectors.record_page(collection=collection, query=query)
        items = self.output(RecordOutput, records, many=True)
        return Response(hal_cursor_list(request, "records", items,
                                        next_cursor_query(request, cursor),
                                        {"size": len(items), "limit": query.limit}))

    @extend_schema(
        request={"application/json": {"oneOf": [
            {"type": "object", "description": "one record"},
            {"type": "array", "items": {"type": "object"}},
            {"type": "object", "properties": {"records": {"type": "array"}}},
        ]}},
        responses={202: INGEST_ANSWER, 400: INGEST_ANSWER}, operation_id="collection_data_send",
        description="One record, a JSON array of records or `{\"records\": [...]}`: at most "
        "2,500 records, 32 KB each, 500 KB in all. Write keys may send. " + GZIP_NOTE,
    )
    def post(self, request: Request, org: str, collection_id: str) -> Response:
        collection = self.collection_to_ingest(collection_id)
        payload = body.read_json(request._request)
        return ingest_answer(services.collection_ingest(collection=collection, payload=payload),
                             request, collection_id=collection.id)


class RecordDetailApi(OrgAPIView):
    def record(self, collection_id: str, record_id: str) -> Any:
        collection = self.found(collection_get(org=self.org, collection_id=collection_id))
        return self.found(selectors.record_get(collection=collection, record_id=record_id))

    @extend_schema(responses=RecordOutput, operation_id="collection_data_read")
    def get(self, request: Request, org: str, collection_id: str, record_id: str) -> Response:
        return Response(self.output(RecordOutput, self.record(collection_id, record_id)))

    @extend_schema(responses={204: None}, operation_id="collection_data_delete")
    def delete(self, request: Request, org: str, collection_id: str, record_id: str) -> Response:
        record_delete(record=self.record(collection_id, record_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


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
        payload = body.read_json(request._request)
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
        return ingest_answer(services.source_ingest(collections=collections, payload=payload),
                             request)


class HealthApi(APIView):
    """For load balancers and monitors (served without a key): nothing of any org is told."""

    @extend_schema(responses={200: HEALTH, 503: HEALTH}, operation_id="health",
                   description="200 when this web process reaches its database and its queue; "
                   "503 naming what it cannot reach. With Redis, `buffer` tells what waits to "
                   "be stored, per shard: alert when `oldestSeconds` grows, or `safe` is false.")
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
        if isinstance(data, str):
            return data
        # an error's problem body (a 405, a 406) is JSON like every other
        return JSONRenderer().render(data, accepted_media_type, renderer_context)


class MetricsApi(APIView):
    """For Prometheus (served without a key, like health): nothing of any org is told."""

    renderer_classes = [PrometheusText]

    @extend_schema(responses={(200, "text/plain"): OpenApiTypes.STR}, operation_id="metrics",
                   description="Prometheus text format. With Redis, per shard of the ingestion "
                   "buffer: `sluice_buffer_waiting_batches`, `sluice_buffer_oldest_seconds`, "
                   "`sluice_buffer_draining`; and `sluice_buffer_up`, `sluice_buffer_safe`.")
    def get(self, request: Request) -> Response:
        return Response(metrics_text(), content_type=f"{PrometheusText.media_type}; "
                        "version=0.0.4; charset=utf-8")


class RejectedListApi(OrgAPIView):
    @extend_schema(
        responses=inline_serializer("RejectedPage", {
            "_embedded": inline_serializer("RejectedPageEmbedded",
                                           {"rejected": RejectedRecordOutput(many=True)}),
            "_links": serializers.DictField(), "page": serializers.DictField()}),
        parameters=[*PAGE_PARAMETERS, OpenApiParameter("collId", str)],
        operation_id="rejected_list",
    )
    def get(self, request: Request, org: str) -> Response:
        coll_id = request.query_params.get("collId")
        collection = collection_get(org=self.org, collection_id=coll_id) if coll_id else None
        if coll_id and collection is None:
            raise InvalidInput.unknown_id("collId", "collection")
        limit, before = cursor_params(request)
        query = RecordQuery(limit=limit, before=before, since=time_param(request, "since"),
                            until=time_param(request, "until"))
        rejected, cursor = selectors.rejected_page(org=self.org, collection=collection,
                                                   query=query)
        items = self.output(RejectedRecordOutput, rejected, many=True)
        return Response(hal_cursor_list(request, "rejected", items,
                                        next_cursor_query(request, cursor),
                                        {"size": len(items), "limit": limit}))


class RejectedDetailApi(OrgAPIView):
    @extend_schema(responses=RejectedRecordOutput, operation_id="rejected_read")
    def get(self, request: Request, org: str, rejected_id: str) -> Response:
        found = selectors.rejected_get(org=self.org, rejected_id=rejected_id)
        return Response(self.output(RejectedRecordOutput, self.found(found)))


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
        collection = None
        if "collId" in data:
            collection = collection_get(org=self.org, collection_id=data["collId"])
            if collection is None:
                raise InvalidInput.unknown_id("collId", "collection")
        rejected = selectors.rejected_for_replay(org=self.org, ids=data.get("ids"),
                                                 collection=collection)
        outcome = services.rejected_replay(rejected=list(rejected[: body.MAX_RECORDS]))
        return Response({**outcome.as_body(), "_links": links.answer_links(request, outcome)})
