from typing import Any

from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.core import snapshots
from apps.core.serializers import HalSerializer, IdField
from apps.orgs.models import ApiKey, Org


class KeyScopeOutput(serializers.Serializer):  # type: ignore[type-arg]
    sourceId = IdField(source="id")
    sourceName = serializers.CharField(source="name")


class KeyOutput(HalSerializer):
    """A key as it is listed: never its raw value, which is shown once when it is made."""

    id = IdField()
    prefix = serializers.CharField(help_text="the key's first characters, to recognise it")
    kind = serializers.ChoiceField(choices=ApiKey.Kind.choices)
    name = serializers.CharField()
    scope = KeyScopeOutput(source="source", allow_null=True, help_text=(
        "the source a write key sends to alone (and the org's built-in collections); null: "
        "the whole org"))
    createdAt = serializers.DateTimeField(source="created_at")
    lastUsedAt = serializers.DateTimeField(source="last_used_at", allow_null=True, help_text=(
        "when the key was last accepted, to the minute"))
    expiresAt = serializers.DateTimeField(source="expires_at", allow_null=True,
                                          help_text="when the key stops working; null: never")
    revokedAt = serializers.DateTimeField(source="revoked_at", allow_null=True)
    active = serializers.SerializerMethodField(help_text="whether the key works now")

    def get_active(self, key: ApiKey) -> bool:
        return key.works_at(timezone.now())


class NewKeyOutput(KeyOutput):
    """A key just made, with its raw value (the context's `raw`), shown this once."""

    key = serializers.SerializerMethodField(help_text="the key itself: keep it now, it is "
                                            "never shown again")

    def get_key(self, key: ApiKey) -> str:
        return str(self.context["raw"])


class RotatedKeyOutput(NewKeyOutput):
    """The new key of a rotation; `replaces`, the context's `old` key, with its expiry."""

    replaces = serializers.SerializerMethodField()

    @extend_schema_field(KeyOutput)
    def get_replaces(self, key: ApiKey) -> dict[str, Any]:
        return dict(KeyOutput(self.context["old"], context=self.context).data)


class ApiKeyOutput(serializers.Serializer):  # type: ignore[type-arg]
    """A key as it is shown after its creation: its prefix, never its value or hash."""

    id = IdField()
    prefix = serializers.CharField()
    kind = serializers.CharField()
    name = serializers.CharField()
    createdAt = serializers.DateTimeField(source="created_at")
    revokedAt = serializers.DateTimeField(source="revoked_at", allow_null=True)


class OrgOutput(serializers.Serializer):  # type: ignore[type-arg]
    slug = serializers.CharField()
    name = serializers.CharField()
    compatibility = serializers.CharField()
    rateLimitKey = serializers.IntegerField(source="rate_limit_key", allow_null=True)
    rateLimitKeyBurst = serializers.IntegerField(source="rate_limit_key_burst", allow_null=True)
    rateLimitOrg = serializers.IntegerField(source="rate_limit_org", allow_null=True)
    rateLimitOrgBurst = serializers.IntegerField(source="rate_limit_org_burst", allow_null=True)
    rejectedCap = serializers.IntegerField(source="rejected_cap", allow_null=True)


snapshots.register(ApiKey, ApiKeyOutput)
snapshots.register(Org, OrgOutput)
