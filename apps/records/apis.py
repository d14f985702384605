"""Reading records and rejected records back, and deleting a record. Records are sent
(POST .../data) and rejected records replayed through apps/ingestion."""

from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from apps.catalog import avro
from apps.catalog.apis import collection_given
from apps.catalog.models import Collection
from apps.catalog.selectors import collection_get
from apps.core.apis import OrgAPIView
from apps.core.codes import Code
from apps.core.exceptions import InvalidInput
from apps.core.pagination import (
    CURSOR_LINKS,
    CursorPageInfo,
    cursor_page,
    cursor_params,
    time_param,
)
from apps.records import selectors
from apps.records.models import Record
from apps.records.selectors import RecordQuery
from apps.records.serializers import RecordOutput, RejectedRecordOutput
from apps.records.services import record_delete

READ_PARAMS = {"limit", "cursor", "since", "until", "schemaVersion"}
PAGE_PARAMETERS = [
    OpenApiParameter("limit", int, description="records per page, at most 1000 (100)"),
    OpenApiParameter("cursor", str, description="from the previous page's `next` link"),
    OpenApiParameter("since", str, description="ISO time: accepted at or after"),
    OpenApiParameter("until", str, description="ISO time: accepted at or before"),
]
LATEST = "latest"
READ_VERSION = OpenApiParameter(
    "schemaVersion", str, pattern=r"^([1-9][0-9]*|latest)$",
    description="a schema version of the collection, or `latest`: each record's `data` as "
    "that version reads it, by Avro's schema resolution from the version it was written in "
    "(defaults filled, aliases followed, promotions applied, removed fields dropped), and "
    "`schemaVersion` that version. 400 `unknown_schema_version` if the collection has no "
    "such version; 409 `unreadable_in_version` naming a record Avro's rules cannot read in "
    "it. Without it, each record as it was written.")


def schema_version_param(request: Request, collection: Collection) -> int | None:
    """The schema version `?schemaVersion=` names (a number, or `latest`: the collection's
    current one), or None when it is not given."""
    raw = request.query_params.get("schemaVersion")
    if raw is None:
        return None
    if raw == LATEST:
        return collection.schema_version
    if not raw.isdigit() or int(raw) < 1:
        raise InvalidInput.field("schemaVersion", Code.INVALID, "`schemaVersion` is a "
                                 "version number of the collection's schema, or `latest`.")
    return int(raw)


def in_version(request: Request, collection: Collection, records: list[Record]) -> list[Record]:
    """The records in the schema version the request asks for, or as written."""
    version = schema_version_param(request, collection)
    if version is None:
        return records
    return selectors.records_in_version(collection=collection, records=records,
                                        version=version)


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


class RecordListApi(OrgAPIView):
    """GET collections/<id>/data. Ingestion's CollectionDataApi serves it at that path, where
    it takes the POST of records as well."""

    def collection(self, collection_id: str) -> Collection:
        return self.found(collection_get(org=self.org, collection_id=collection_id))

    @extend_schema(
        responses=cursor_page("records", RecordOutput).schema,
        parameters=[*PAGE_PARAMETERS, READ_VERSION], operation_id="collection_data_list",
        description="Records newest first. Any other query parameter filters on a top-level "
        "field of the current schema by equality (`?bookingStatus=booked`).",
    )
    def get(self, request: Request, org: str, collection_id: str) -> Response:
        collection = self.collection(collection_id)
        query = _record_query(request, collection)
        records, cursor = selectors.record_page(collection=collection, query=query)
        items = self.output(RecordOutput, in_version(request, collection, records), many=True)
        return Response(cursor_page("records", RecordOutput).body(request, items, cursor,
                                                                  query.limit))


class RecordDetailApi(OrgAPIView):
    def record(self, collection_id: str, record_id: str) -> tuple[Collection, Record]:
        collection = self.found(collection_get(org=self.org, collection_id=collection_id))
        return collection, self.found(selectors.record_get(collection=collection,
                                                           record_id=record_id))

    @extend_schema(responses=RecordOutput, parameters=[READ_VERSION],
                   operation_id="collection_data_read")
    def get(self, request: Request, org: str, collection_id: str, record_id: str) -> Response:
        collection, record = self.record(collection_id, record_id)
        [read] = in_version(request, collection, [record])
        return Response(self.output(RecordOutput, read))

    @extend_schema(responses={204: None}, operation_id="collection_data_delete")
    def delete(self, request: Request, org: str, collection_id: str, record_id: str) -> Response:
        record_delete(record=self.record(collection_id, record_id)[1])
        return Response(status=status.HTTP_204_NO_CONTENT)


REJECTED_PAGE = inline_serializer("RejectedRecordPage", {
    "_embedded": inline_serializer("RejectedRecordPageEmbedded", {
        "rejected": RejectedRecordOutput(many=True)}),
    "_links": CURSOR_LINKS, "page": CursorPageInfo(),
    "dropped": serializers.IntegerField(help_text=(
        "rejected records of the collection (without `collId`, of the org) that were not "
        "kept, past the cap on rejected records per collection, since it was created")),
})


class RejectedListApi(OrgAPIView):
    @extend_schema(
        responses=REJECTED_PAGE,
        parameters=[*PAGE_PARAMETERS, OpenApiParameter("collId", str)],
        operation_id="rejected_list",
    )
    def get(self, request: Request, org: str) -> Response:
        collection = collection_given(org=self.org, coll_id=request.query_params.get("collId"))
        limit, before = cursor_params(request)
        query = RecordQuery(limit=limit, before=before, since=time_param(request, "since"),
                            until=time_param(request, "until"))
        rejected, cursor = selectors.rejected_page(org=self.org, collection=collection,
                                                   query=query)
        items = self.output(RejectedRecordOutput, rejected, many=True)
        page = cursor_page("rejected", RejectedRecordOutput).body(request, items, cursor, limit)
        dropped = selectors.rejected_dropped(org=self.org, collection=collection)
        return Response({**page, "dropped": dropped})


class RejectedDetailApi(OrgAPIView):
    @extend_schema(responses=RejectedRecordOutput, operation_id="rejected_read")
    def get(self, request: Request, org: str, rejected_id: str) -> Response:
        found = selectors.rejected_get(org=self.org, rejected_id=rejected_id)
        return Response(self.output(RejectedRecordOutput, self.found(found)))
