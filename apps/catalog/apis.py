from typing import Any

from drf_spectacular.utils import OpenApiParameter, PolymorphicProxySerializer, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from apps.catalog import selectors, services
from apps.catalog.models import Collection, Identifier, SchemaVersion
from apps.catalog.serializers import (
    CollectionChangedOutput,
    CollectionOutput,
    ConfigOutput,
    IdentifierOutput,
    RelationOutput,
    SchemaDryRunOutput,
    SchemaRegisteredOutput,
    SchemaVersionOutput,
)
from apps.core import links
from apps.core.apis import OrgAPIView
from apps.core.codes import Code
from apps.core.exceptions import FieldProblem, InvalidInput
from apps.core.pagination import hal_list, page_of
from apps.core.serializers import IdField, hal_list_schema
from apps.orgs.models import Compatibility, Org
from apps.orgs.services import org_update
from apps.sources.selectors import source_get

NAME = r"^[A-Za-z][A-Za-z0-9_.-]{0,127}$"
NAME_HELP = "Letters, digits, '-', '_' and '.', starting with a letter."


class CollectionInput(serializers.Serializer):  # type: ignore[type-arg]
    sourceId = IdField(source="source")
    name = serializers.RegexField(NAME, help_text=NAME_HELP)
    profile = serializers.BooleanField(required=False)
    event = serializers.BooleanField(required=False)
    schema = serializers.JSONField(help_text="An Avro record schema.")
    compatibility = serializers.ChoiceField(
        choices=Compatibility.choices, allow_null=True, required=False,
        help_text="What a new schema must stay compatible with (Confluent Schema Registry's "
        "modes); null or absent: the org's default.")

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


class SchemaInput(serializers.Serializer):  # type: ignore[type-arg]
    schema = serializers.JSONField(help_text="An Avro record schema.")


class ConfigInput(serializers.Serializer):  # type: ignore[type-arg]
    compatibility = serializers.ChoiceField(choices=Compatibility.choices)


def with_warnings(body: dict[str, Any], warnings: list[FieldProblem]) -> dict[str, Any]:
    """The answer, with `warnings` when a change let through under the mode NONE breaks
    something."""
    if warnings:
        body["warnings"] = [problem._asdict() for problem in warnings]
    return body


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
        actor=view.actor, collection=collection, type=data["type"], name=data["name"],
        schema=data["schema"], reference=reference,
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
        collection = services.collection_create(actor=self.actor, org=self.org, **data)
        return Response(self.output(CollectionOutput, collection), status=status.HTTP_201_CREATED)


SCHEMA_CHANGE = (
    "A changed schema becomes the collection's next version when it keeps the identifiers' "
    "fields and the collection's compatibility mode (409 `incompatible_schema` lists each "
    "break); one identical to an existing version registers nothing.")


DRY_RUN = (
    "true: register nothing, and answer 202 with a dry run: every mode's verdict and the "
    "identifiers the schema breaks at once, then, as a worker scans (poll `_links.self`, "
    "also the `Location`), how many stored records the schema could not read and how many "
    "rejected records it would accept.")


def dry_run_asked(request: Request) -> bool:
    value = request.query_params.get("dryRun", "false")
    if value not in ("true", "false"):
        raise InvalidInput.field("dryRun", Code.INVALID, "`dryRun` is true or false.")
    return value == "true"


class CollectionScopedApi(OrgAPIView):
    def collection(self, collection_id: str) -> Collection:
        return self.found(selectors.collection_get(org=self.org, collection_id=collection_id))


class CollectionDetailApi(CollectionScopedApi):
    @extend_schema(responses=CollectionOutput, operation_id="collections_read")
    def get(self, request: Request, org: str, collection_id: str) -> Response:
        return Response(self.output(CollectionOutput, self.collection(collection_id)))

    @extend_schema(request=CollectionInput, responses=CollectionChangedOutput,
                   operation_id="collections_replace", description=SCHEMA_CHANGE)
    def put(self, request: Request, org: str, collection_id: str) -> Response:
        return self._update(collection_id, partial=False)

    @extend_schema(request=CollectionInput, responses=CollectionChangedOutput,
                   operation_id="collections_update", description=SCHEMA_CHANGE)
    def patch(self, request: Request, org: str, collection_id: str) -> Response:
        return self._update(collection_id, partial=True)

    def _update(self, collection_id: str, *, partial: bool) -> Response:
        collection = self.collection(collection_id)
        changes = self.valid(CollectionInput, partial=partial)
        updated = services.collection_update(actor=self.actor, collection=collection,
                                             changes=changes)
        return Response(with_warnings(self.output(CollectionOutput, updated.collection),
                                      updated.warnings))

    @extend_schema(responses={204: None}, operation_id="collections_delete")
    def delete(self, request: Request, org: str, collection_id: str) -> Response:
        services.collection_delete(actor=self.actor, collection=self.collection(collection_id))
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

    @extend_schema(
        request=SchemaInput, operation_id="collection_schemas_create",
        responses={201: SchemaRegisteredOutput, 200: SchemaRegisteredOutput,
                   202: SchemaDryRunOutput},
        parameters=[OpenApiParameter("dryRun", bool, description=DRY_RUN)],
        description="Registers a schema as the collection's next version (201), as a schema "
        "registry does; a schema identical to an existing version (the same Parsing "
        "Canonical Form and the same JSON) answers that version (200). "
        "It must keep the identifiers' fields and the compatibility mode (409 "
        "`incompatible_schema` lists each break). With `dryRun=true`, see `dryRun`.")
    def post(self, request: Request, org: str, collection_id: str) -> Response:
        collection = self.collection(collection_id)
        data = self.valid(SchemaInput)
        if dry_run_asked(request):
            return self._dry_run(collection, data["schema"])
        registered = services.schema_version_register(actor=self.actor, collection=collection,
                                                      schema=data["schema"])
        body = with_warnings(self.output(SchemaVersionOutput, registered.version),
                             registered.warnings)
        return Response(body, status=status.HTTP_201_CREATED if registered.created
                        else status.HTTP_200_OK)


    def _dry_run(self, collection: Collection, schema: Any) -> Response:
        dry_run = services.schema_dry_run_start(collection=collection, schema=schema)
        body = self.output(SchemaDryRunOutput, dry_run)
        return Response(body, status=status.HTTP_202_ACCEPTED,
                        headers={"Location": body["_links"]["self"]["href"]})


class SchemaDryRunDetailApi(CollectionScopedApi):
    @extend_schema(responses=SchemaDryRunOutput, operation_id="collection_dry_runs_read",
                   description="A dry run of a schema change as it stands: poll it until its "
                   "`status` is `done` (or `failed`).")
    def get(self, request: Request, org: str, collection_id: str, dry_run_id: str) -> Response:
        dry_run = selectors.schema_dry_run_get(
            org=self.org, collection=self.collection(collection_id), dry_run_id=dry_run_id)
        return Response(self.output(SchemaDryRunOutput, self.found(dry_run)))


class SchemaVersionDetailApi(CollectionScopedApi):
    def version(self, collection_id: str, version: int) -> SchemaVersion:
        return self.found(selectors.schema_version_get(
            collection=self.collection(collection_id), version=version))

    @extend_schema(responses=SchemaVersionOutput, operation_id="collection_schemas_read")
    def get(self, request: Request, org: str, collection_id: str, version: int) -> Response:
        return Response(self.output(SchemaVersionOutput, self.version(collection_id, version)))

    @extend_schema(
        responses={204: None}, operation_id="collection_schemas_delete",
        description="Deletes a version that is not the current one (409 "
        "`current_schema_version`) and that no record or rejected record was written in "
        "(409 `schema_version_in_use`).")
    def delete(self, request: Request, org: str, collection_id: str, version: int) -> Response:
        services.schema_version_delete(actor=self.actor,
                                       version=self.version(collection_id, version))
        return Response(status=status.HTTP_204_NO_CONTENT)


class ConfigApi(OrgAPIView):
    """The org's schema registry settings, as Confluent Schema Registry's `/config`."""

    @extend_schema(responses=ConfigOutput, operation_id="config_read")
    def get(self, request: Request, org: str) -> Response:
        return self._answer(request)

    @extend_schema(request=ConfigInput, responses=ConfigOutput, operation_id="config_update",
                   description="Sets the default compatibility mode of the org's collections "
                   "(those whose `compatibility` is null). It counts for the next change.")
    def put(self, request: Request, org: str) -> Response:
        data = self.valid(ConfigInput)
        org_update(actor=self.actor, org=self.org, changes=data)
        return self._answer(request)

    def _answer(self, request: Request) -> Response:
        return Response({"compatibility": self.org.compatibility,
                         "_links": links.answer_links(request)})


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
        services.identifier_delete(actor=self.actor,
                                   identifier=self.identifier(identifier_id))
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
