from typing import Any
from urllib.parse import urlsplit

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from apps.core.apis import OrgAPIView
from apps.core.pagination import hal_list, page_of
from apps.core.serializers import hal_list_schema
from apps.sources import selectors, services
from apps.sources.models import Source
from apps.sources.serializers import CreatedSourceOutput, SourceOutput

NAME_HELP = "Letters, digits, '-', '_' and '.', starting with a letter."


def _origin(value: str) -> str:
    if value == "*":
        return value
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.path not in ("", "/"):
        raise serializers.ValidationError(
            f"{value!r} is not an origin: write scheme://host[:port], e.g. https://shop.example."
        )
    return f"{parts.scheme}://{parts.netloc}".lower()


class SourceInput(serializers.Serializer):  # type: ignore[type-arg]
    name = serializers.RegexField(r"^[A-Za-z][A-Za-z0-9_.-]{0,127}$", help_text=NAME_HELP)
    title = serializers.CharField(max_length=200, required=False, allow_blank=True)
    description = serializers.CharField(required=False, allow_blank=True)
    type = serializers.ChoiceField(choices=Source.Type.choices)
    allowedOrigins = serializers.ListField(
        child=serializers.CharField(), required=False, source="allowed_origins", max_length=100
    )

    def validate_allowedOrigins(self, value: list[str]) -> list[str]:  # noqa: N802
        return [_origin(origin) for origin in value]


class SourceListApi(OrgAPIView):
    @extend_schema(responses=hal_list_schema("sources", SourceOutput), operation_id="sources_list")
    def get(self, request: Request, org: str) -> Response:
        items, page = page_of(selectors.source_list(org=self.org), request)
        return Response(hal_list(request, "sources", self.output(SourceOutput, items, many=True),
                                 page))

    @extend_schema(request=SourceInput, responses={201: CreatedSourceOutput},
                   operation_id="sources_create",
                   description="A web source is answered with its own write key, once.")
    def post(self, request: Request, org: str) -> Response:
        source = services.source_create(actor=self.actor, org=self.org,
                                        **self.valid(SourceInput))
        return Response(self.output(CreatedSourceOutput, source),
                        status=status.HTTP_201_CREATED)


class SourceDetailApi(OrgAPIView):
    def source(self, source_id: str) -> Source:
        return self.found(selectors.source_get(org=self.org, source_id=source_id))

    @extend_schema(responses=SourceOutput, operation_id="sources_read")
    def get(self, request: Request, org: str, source_id: str) -> Response:
        return Response(self.output(SourceOutput, self.source(source_id)))

    @extend_schema(request=SourceInput, responses=SourceOutput, operation_id="sources_replace")
    def put(self, request: Request, org: str, source_id: str) -> Response:
        return self._update(source_id, partial=False)

    @extend_schema(request=SourceInput, responses=SourceOutput, operation_id="sources_update")
    def patch(self, request: Request, org: str, source_id: str) -> Response:
        return self._update(source_id, partial=True)

    def _update(self, source_id: str, *, partial: bool) -> Response:
        source = self.source(source_id)
        changes: dict[str, Any] = self.valid(SourceInput, partial=partial)
        source = services.source_update(actor=self.actor, source=source, changes=changes)
        return Response(self.output(SourceOutput, source))

    @extend_schema(responses={204: None}, operation_id="sources_delete")
    def delete(self, request: Request, org: str, source_id: str) -> Response:
        services.source_delete(actor=self.actor, source=self.source(source_id))
        return Response(status=status.HTTP_204_NO_CONTENT)
