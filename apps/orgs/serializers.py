from rest_framework import serializers

from apps.core import snapshots
from apps.core.serializers import IdField
from apps.orgs.models import ApiKey, Org


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


snapshots.register(ApiKey, ApiKeyOutput)
snapshots.register(Org, OrgOutput)
