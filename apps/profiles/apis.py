from typing import Any, cast

from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from apps.catalog.builtin_names import BuiltinCollection
from apps.catalog.models import Collection
from apps.core import links
from apps.core.apis import OrgAPIView
from apps.core.codes import Code
from apps.core.exceptions import InvalidInput, NotFound
from apps.core.pagination import cursor_page, cursor_params
from apps.core.serializers import HalSerializer, LinksField
from apps.profiles import selectors, services
from apps.profiles.links import Erasure, Profile
from apps.records.apis import READ_VERSION, in_version
from apps.records.selectors import RecordQuery, profile_record, related_page
from apps.records.serializers import RecordOutput


class ProfileOutput(HalSerializer):
    collection = serializers.CharField(source="collection.name")
    key = serializers.CharField()
    record = RecordOutput()
    mergedVisitors = serializers.ListField(child=serializers.CharField(),
                                           source="merged_visitors")

    def to_representation(self, instance: Any) -> dict[str, Any]:
        # the record's own links need the request too
        cast(dict[str, Any], self.fields["record"].context).update(self.context)
        return super().to_representation(instance)


class ProfileScopedApi(OrgAPIView):
    def profile_collection(self, name: str) -> Collection:
        return self.found(selectors.profile_collection(org=self.org, name=name))


class ProfileApi(ProfileScopedApi):
    @extend_schema(responses=ProfileOutput, operation_id="profiles_read",
                   parameters=[READ_VERSION],
                   description="A profile's current record, with `_links` to the records of "
                   "each collection whose foreign identifier points at it. `schemaVersion` "
                   "is a version of the profile's collection.")
    def get(self, request: Request, org: str, collection: str, key: str) -> Response:
        profile_collection = self.profile_collection(collection)
        [record] = in_version(request, profile_collection, [
            self.found(profile_record(collection=profile_collection, key=key))])
        profile = Profile(profile_collection, key, record,
                          selectors.references_to(collection=profile_collection),
                          selectors.merged_visitors(collection=profile_collection, key=key))
        return Response(self.output(ProfileOutput, profile))

    @extend_schema(responses=inline_serializer("Erasure", {
        "deleted": serializers.DictField(child=serializers.IntegerField()),
        "_links": LinksField(help_text="`self` and the profile's `collection`")}),
        operation_id="profiles_erase",
        description="Erasure: deletes the profile's record and every record that points at it.")
    def delete(self, request: Request, org: str, collection: str, key: str) -> Response:
        profile_collection = self.profile_collection(collection)
        deleted = services.profile_erase(collection=profile_collection, key=key)
        if not deleted:
            raise NotFound()
        erasure = Erasure(profile_collection)
        return Response({"deleted": deleted, "_links": links.answer_links(request, erasure)},
                        status=status.HTTP_200_OK)


class ProfileRelatedApi(ProfileScopedApi):
    @extend_schema(
        responses=cursor_page("records", RecordOutput).schema,
        parameters=[OpenApiParameter("limit", int), OpenApiParameter("cursor", str),
                    OpenApiParameter("includeChildren", bool,
                                     description="accounts: with all descendant accounts"),
                    READ_VERSION],
        operation_id="profiles_related_list",
        description="Records of the collection `other` that point at the profile, newest "
        "first. `schemaVersion` is a version of that collection.")
    def get(self, request: Request, org: str, collection: str, key: str,
            other: str) -> Response:
        profile_collection = self.profile_collection(collection)
        related = dict((c.name, (c, name)) for c, name in
                       selectors.references_to(collection=profile_collection))
        if other not in related:
            raise NotFound()
        keys = [key]
        if request.query_params.get("includeChildren") == "true":
            if profile_collection.name != BuiltinCollection.ACCOUNTS:
                raise InvalidInput.field("includeChildren", Code.INVALID,
                                         "Only accounts have children.")
            keys = selectors.descendant_keys(collection=profile_collection, key=key)
        limit, before = cursor_params(request)
        target, identifier = related[other]
        records, cursor = related_page(
            collection=target, identifier=identifier, keys=keys,
            visitor_ids=selectors.merged_visitors(collection=profile_collection, key=key),
            query=RecordQuery(limit=limit, before=before))
        items = self.output(RecordOutput, in_version(request, target, records), many=True)
        return Response(cursor_page("records", RecordOutput).body(request, items, cursor, limit))


class MergeOutput(HalSerializer):
    visitorId = serializers.CharField(source="visitor_id")
    userId = serializers.CharField(source="user_id")
    status = serializers.CharField()
    createdAt = serializers.DateTimeField(source="created_at")


class MergeListApi(OrgAPIView):
    @extend_schema(responses=inline_serializer("Merges", {
        "merges": MergeOutput(many=True), "_links": LinksField()}),
        operation_id="profiles_merges_list")
    def get(self, request: Request, org: str) -> Response:
        merges = self.output(MergeOutput, selectors.merge_list(org=self.org), many=True)
        return Response({"merges": merges, "_links": links.answer_links(request)})
