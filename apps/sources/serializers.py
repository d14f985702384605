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


snapshots.register(Source, SourceOutput)
