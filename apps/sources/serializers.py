from typing import Any

from rest_framework import serializers

from apps.core import snapshots
from apps.core.serializers import HalSerializer, IdField
from apps.sources.models import Source


class SourceOutput(HalSerializer):
    id = IdField()
    name = serializers.CharField()
    title = serializers.CharField()
    description = serializers.CharField()
    type = serializers.CharField()
    trackerId = serializers.CharField(source="tracker_id", allow_null=True)
    allowedOrigins = serializers.ListField(child=serializers.CharField(), source="allowed_origins")
    createdAt = serializers.DateTimeField(source="created_at")


class CreatedSourceOutput(SourceOutput):
    """A new source; a web source's own write key, shown this once."""

    writeKey = serializers.CharField(
        source="write_key", required=False, help_text="a new web source's own write key, "
        "which sends only to this source's collections and the built-in ones: shown once "
        "(later, GET /v1/<org>/keys?sourceId= lists it by prefix)")

    def to_representation(self, instance: Any) -> dict[str, Any]:
        shown: dict[str, Any] = super().to_representation(instance)
        if shown.get("writeKey") is None:
            shown.pop("writeKey", None)
        return shown


snapshots.register(Source, SourceOutput)
