"""An org's API keys over the API: list, create, read, rotate and revoke. Only a secret key
of the org manages them; a raw key is answered once, when it is made, and never listed."""

from datetime import timedelta
from typing import Any

from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from apps.core.apis import OrgAPIView
from apps.core.exceptions import InvalidInput
from apps.core.pagination import hal_list, page_of
from apps.core.serializers import IdField, hal_list_schema
from apps.orgs import selectors, services
from apps.orgs.models import ApiKey
from apps.orgs.serializers import KeyOutput, NewKeyOutput, RotatedKeyOutput
from apps.sources.models import Source
from apps.sources.selectors import source_get

MAX_GRACE_SECONDS = 366 * 24 * 3600


class KeysAPIView(OrgAPIView):
    """Managing keys is for a secret key alone: a read key may not even list them."""

    read_key_methods = ()

    def api_key(self, key_id: str) -> ApiKey:
        return self.found(selectors.api_key_get(org=self.org, key_id=key_id))

    def source(self, source_id: object) -> Source | None:
        """The org's source with this id (or name); None for none; 400 for an unknown one."""
        if source_id is None:
            return None
        source = source_get(org=self.org, source_id=source_id)
        if source is None:
            raise InvalidInput.unknown_id("sourceId", "source")
        return source


class KeyInput(serializers.Serializer):  # type: ignore[type-arg]
    kind = serializers.ChoiceField(choices=ApiKey.Kind.choices, help_text=(
        "`secret`: manages the org, reads and sends; `read`: reads and exports, changes "
        "nothing; `write`: only sends records (safe in a web page)"))
    name = serializers.CharField(max_length=200, required=False, allow_blank=True,
                                 help_text="what the key is for, e.g. `billing server`")
    sourceId = IdField(required=False, allow_null=True, help_text=(
        "a write key for one source: it sends only to that source's collections (and the "
        "org's built-in ones)"))
    expiresAt = serializers.DateTimeField(required=False, allow_null=True,
                                          help_text="when the key stops working; left out: "
                                          "never")


class KeyListApi(KeysAPIView):
    @extend_schema(responses=hal_list_schema("keys", KeyOutput), operation_id="keys_list",
                   parameters=[OpenApiParameter("sourceId", str,
                                                description="only the keys of this source")],
                   description="The org's keys, the newest first, revoked and expired ones "
                   "too (`active` tells which work). Never the keys themselves: only their "
                   "prefix. A secret key only.")
    def get(self, request: Request, org: str) -> Response:
        keys = selectors.api_key_list(org=self.org)
        source_id = request.query_params.get("sourceId")
        if source_id is not None:
            keys = keys.filter(source=self.source(source_id))
        items, page = page_of(keys, request)
        return Response(hal_list(request, "keys", self.output(KeyOutput, items, many=True),
                                 page))

    @extend_schema(request=KeyInput, responses={201: NewKeyOutput}, operation_id="keys_create",
                   description="A new key, answered with the key itself (`key`) this once: "
                   "keep it then. A secret key only.")
    def post(self, request: Request, org: str) -> Response:
        data = self.valid(KeyInput)
        key, raw = services.api_key_create(
            org=self.org, actor=self.actor, kind=data["kind"],
            name=data.get("name", ""), source=self.source(data.get("sourceId")),
            expires_at=data.get("expiresAt"))
        body = NewKeyOutput(key, context={"request": request, "raw": raw}).data
        return Response(body, status=status.HTTP_201_CREATED)


class KeyDetailApi(KeysAPIView):
    @extend_schema(responses=KeyOutput, operation_id="keys_read")
    def get(self, request: Request, org: str, key_id: str) -> Response:
        return Response(self.output(KeyOutput, self.api_key(key_id)))

    @extend_schema(responses={200: KeyOutput}, operation_id="keys_revoke",
                   description="Revokes the key: from the next request on, in every web "
                   "process, it is refused like an unknown key (401). The key stays listed, "
                   "with `revokedAt`. Revoking a revoked key changes nothing. A key cannot "
                   "revoke its org's last working secret key (409 `last_secret_key`): create "
                   "or rotate one first.")
    def delete(self, request: Request, org: str, key_id: str) -> Response:
        key = self.api_key(key_id)
        services.api_key_revoke(key=key, actor=self.actor)
        return Response(self.output(KeyOutput, key))


class RotateInput(serializers.Serializer):  # type: ignore[type-arg]
    oldKeyExpiresAt = serializers.DateTimeField(required=False, help_text=(
        "when the rotated key stops working (a time past means now)"))
    graceSeconds = serializers.IntegerField(required=False, min_value=0,
                                            max_value=MAX_GRACE_SECONDS, help_text=(
        "or: for how many seconds from now it keeps working (0: it stops now)"))

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if "oldKeyExpiresAt" in attrs and "graceSeconds" in attrs:
            raise serializers.ValidationError("Give `oldKeyExpiresAt` or `graceSeconds`, not "
                                              "both.")
        return attrs


class KeyRotateApi(KeysAPIView):
    @extend_schema(request=RotateInput, responses={201: RotatedKeyOutput},
                   operation_id="keys_rotate",
                   description="A new key of the same kind, name and source, answered with "
                   "the key itself (`key`) this once; the rotated key (`replaces`) keeps "
                   "working until `oldKeyExpiresAt`, or for `graceSeconds`; with neither, for "
                   "24 hours. Deploy the new key meanwhile. A body is optional. A revoked or "
                   "expired key cannot be rotated (409 `key_not_live`).")
    def post(self, request: Request, org: str, key_id: str) -> Response:
        old = self.api_key(key_id)
        data = self.valid(RotateInput) if request.data else {}
        key, raw = services.api_key_rotate(org=self.org, key=old, actor=self.actor,
                                           old_key_expires_at=old_key_expiry(data))
        body = RotatedKeyOutput(key, context={"request": request, "raw": raw, "old": old}).data
        return Response(body, status=status.HTTP_201_CREATED)


def old_key_expiry(data: dict[str, Any]) -> Any:
    """When the rotated key stops working, as the body asks; None: the default grace."""
    if "graceSeconds" in data:
        return timezone.now() + timedelta(seconds=data["graceSeconds"])
    return data.get("oldKeyExpiresAt")
