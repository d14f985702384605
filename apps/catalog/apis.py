from typing import Any

from drf_spectacular.utils import OpenApiParameter, PolymorphicProxySerializer, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from apps.catalog import selectors, services
from apps.catalog.models import Collection, Identifier
from apps.catalog.serializers import (
    CollectionOutput,
    IdentifierOutput,
    RelationOutput,
    SchemaVersionOutput,
)
from apps.core.apis import OrgAPIView
from apps.core.codes import Code
from apps.core.exceptions import InvalidInput
from apps.core.pagination import hal_list, page_of
from apps.core.serializers import IdField, hal_list_schema
from apps.orgs.models import Org
from apps.sources.selectors import source_get

NAME = r"^[A-Za-z][A-Za-z0-9_.-]{0,127}$"
NAME_HELP = "Letters, digits, '-', '_' and '.', starting with a letter."


class CollectionInput(serializers.Serializer):  # type: ignore[type-arg]
    sourceId = IdField(source="source")
    name = serializers.RegexField(NAME, help_text=NAME_HELP)
    profile = serializers.BooleanField(required=False)
    event = serializers.BooleanField(required=False)
    schema = serializers.JSONField(help_text="An Avro record schema.")

    def validate_sourceId(self, value: int) -> Any:  # noqa: N802
        source = source_get(org=self.context["org"], source_id=value)
        if source is None:
            raise serializers.ValidationError("No source with this id in this org.", "not_found")
        return source


class IdentifierInput(serializers.Serializer):  # type: ignore[type-arg]
    collId = IdField(required=False, help_text="The collection; taken from the URL when nested.")
    type = serializers.ChoiceField(choices=Identifier.Type.choices)
    name = serializers.RegexField(NAME, help_text=NAME_HELP)
    schema = serializers.JSONField(help_text="An Avro record of the collection's key fields.")
    referenceId = IdField(required=False, help_text="For foreign identifiers: a primary one.")


def collection_given(*, org: Org, coll_id: object) -> Collection | None:
    """The org's collection that a `collId` input names, None when none is given (absent or
    empty); an id of no collection of the org is invalid input."""
    if not coll_id:
        return None
    collection = selectors.collection_get(org=org, collection_id=coll_id)
    if collection is None:
        raise InvalidInput.unknown_id("collId", "collection")
    return collection


def _identifier_create(view: OrgAPIView, collection: Collection | None) -> Response:
    data = view.valid(IdentifierInput)
    collection = collection or collection_given(org=view.org, coll_id=data.get("collId"))
    if collection is None:
        raise InvalidInput.field("collId", Code.REQUIRED,
                                 "Name the collection this identifier belongs to.")
    reference = None
    if "referenceId" in data:
        reference = selectors.identifier_get(org=view.org, identifier_id=data["referenceId"])
        if reference is None:
            raise InvalidInput.unknown_id("referenceId", "identifier")
    identifier = services.identifier_create(
        collection=collection, type=data["type"], name=data["name"], schema=data["schema"],
        reference=reference,
    )
    return Response(view.output(IdentifierOutput, identifier), status=status.HTTP_201_CREATED)


class CollectionListApi(OrgAPIView):
    @extend_schema(
        responses=hal_list_schema("collections", CollectionOutput), operation_id="collections_list",
        parameters=[OpenApiParameter("sourceId", str, description="only this source's")],
    )
    def get(self, request: Request, org: str) -> Response:
        source_id = request.query_params.get("sourceId")
        source = source_get(org=self.org, source_id=source_id) if source_id else None
        if source_id and source is None:
            raise InvalidInput.unknown_id("sourceId", "source")
        collections = selectors.collection_list(org=self.org,
                                                source_id=source.id if source else None)
        items, page = page_of(collections, request)
        body = hal_list(request, "collections", self.output(CollectionOutput, items, many=True),
                        page)
        return Response(body)

    @extend_schema(
        request=PolymorphicProxySerializer("CollectionOrIdentifierInput",
                                           [CollectionInput, IdentifierInput], None),
        responses={201: PolymorphicProxySerializer(
            "CollectionOrIdentifier", [CollectionOutput, IdentifierOutput], None)},
        operation_id="collections_create",
        description="Creates a collection. A body with `collId` and `type` creates an "
        "identifier instead, as the tracker documentation's commands do.",
    )
    def post(self, request: Request, org: str) -> Response:
        if isinstance(request.data, dict) and "collId" in request.data and "type" in request.data:
            return _identifier_create(self, None)
        data = self.valid(CollectionInput)
        collection = services.collection_create(org=self.org, **data)
        return Response(self.output(CollectionOutput, collection), status=status.HTTP_201_CREATED)


class CollectionScopedApi(OrgAPIView):
    def collection(self, collection_id: str) -> Collection:
        return self.found(selectors.collection_get(org=self.org, collection_id=collection_id))


class CollectionDetailApi(CollectionScopedApi):
    @extend_schema(responses=CollectionOutput, operation_id="collections_read")
    def get(self, request: Request, org: str, collection_id: str) -> Response:
        return Response(self.output(CollectionOutput, self.collection(collection_id)))

    @extend_schema(request=CollectionInput, responses=CollectionOutput,
                   operation_id="collections_replace")
    def put(self, request: Request, org: str, collection_id: str) -> Response:
        return self._update(collection_id, partial=False)

    @extend_schema(request=CollectionInput, responses=CollectionOutput,
                   operation_id="collections_update")
    def patch(self, request: Request, org: str, collection_id: str) -> Response:
        return self._update(collection_id, partial=True)

    def _update(self, collection_id: str, *, partial: bool) -> Response:
        collection = self.collection(collection_id)
        changes = self.valid(CollectionInput, partial=partial)
        collection = services.collection_update(collection=collection, changes=changes)
        return Response(self.output(CollectionOutput, collection))

    @extend_schema(responses={204: None}, operation_id="collections_delete")
    def delete(self, request: Request, org: str, collection_id: str) -> Response:
        services.collection_delete(collection=self.collection(collection_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class CollectionIdentifierListApi(CollectionScopedApi):
    @extend_schema(responses=hal_list_schema("identifiers", IdentifierOutput),
                   operation_id="collection_identifiers_list")
    def get(self, request: Request, org: str, collection_id: str) -> Response:
        identifiers = selectors.identifier_list(org=self.org,
                                                collection=self.collection(collection_id))
        items, page = page_of(identifiers, request)
        return Response(hal_list(request, "identifiers",
                                 self.output(IdentifierOutput, items, many=True), page))

    @extend_schema(request=IdentifierInput, responses={201: IdentifierOutput},
                   operation_id="collection_identifiers_create")
    def post(self, request: Request, org: str, collection_id: str) -> Response:
        collection = self.collection(collection_id)
        given = request.data.get("collId") if isinstance(request.data, dict) else None
        if given is not None and str(given) != str(collection.id):
            raise InvalidInput.field("collId", Code.MISMATCH,
                                     "Leave `collId` out, or give this collection's id.")
        return _identifier_create(self, collection)


class SchemaVersionListApi(CollectionScopedApi):
    @extend_schema(responses=hal_list_schema("schemas", SchemaVersionOutput),
                   operation_id="collection_schemas_list")
    def get(self, request: Request, org: str, collection_id: str) -> Response:
        versions = selectors.schema_version_list(collection=self.collection(collection_id))
        items, page = page_of(versions, request)
        return Response(hal_list(request, "schemas",
                                 self.output(SchemaVersionOutput, items, many=True), page))


class SchemaVersionDetailApi(CollectionScopedApi):
    @extend_schema(responses=SchemaVersionOutput, operation_id="collection_schemas_read")
    def get(self, request: Request, org: str, collection_id: str, version: int) -> Response:
        found = selectors.schema_version_get(collection=self.collection(collection_id),
                                             version=version)
        return Response(self.output(SchemaVersionOutput, self.found(found)))


class IdentifierListApi(OrgAPIView):
    @extend_schema(
        responses=hal_list_schema("identifiers", IdentifierOutput),
        operation_id="identifiers_list",
        parameters=[OpenApiParameter("collId", str, description="only this collection's")],
    )
    def get(self, request: Request, org: str) -> Response:
        collection = collection_given(org=self.org, coll_id=request.query_params.get("collId"))
        items, page = page_of(selectors.identifier_list(org=self.org, collection=collection),
                              request)
        return Response(hal_list(request, "identifiers",
                                 self.output(IdentifierOutput, items, many=True), page))

    @extend_schema(request=IdentifierInput, responses={201: IdentifierOutput},
                   operation_id="identifiers_create")
    def post(self, request: Request, org: str) -> Response:
        return _identifier_create(self, None)


class IdentifierDetailApi(OrgAPIView):
    def identifier(self, identifier_id: str) -> Identifier:
        return self.found(selectors.identifier_get(org=self.org, identifier_id=identifier_id))

    @extend_schema(responses=IdentifierOutput, operation_id="identifiers_read")
    def get(self, request: Request, org: str, identifier_id: str) -> Response:
        return Response(self.output(IdentifierOutput, self.identifier(identifier_id)))

    @extend_schema(responses={204: None}, operation_id="identifiers_delete")
    def delete(self, request: Request, org: str, identifier_id: str) -> Response:
        services.identifier_delete(identifier=self.identifier(identifier_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class RelationListApi(OrgAPIView):
    @extend_schema(
        responses=hal_list_schema("relations", RelationOutput), operation_id="relations_list",
        parameters=[OpenApiParameter("collId", str, description="relations of this collection")],
    )
    def get(self, request: Request, org: str) -> Response:
        collection = collection_given(org=self.org, coll_id=request.query_params.get("collId"))
        relations = selectors.relation_list(org=self.org, collection=collection)
        items = self.output(RelationOutput, relations, many=True)
        page = {"size": len(items), "totalElements": len(items), "totalPages": 1, "number": 0}
        return Response(hal_list(request, "relations", items, page))
