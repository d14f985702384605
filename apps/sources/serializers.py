from rest_framework import serializers

from apps.core.serializers import HalSerializer, IdField


class SourceOutput(HalSerializer):
    id = IdField()
    name = serializers.CharField()
    title = serializers.CharField()
    description = serializers.CharField()
    type = serializers.CharField()
    trackerId = serializers.CharField(source="tracker_id", allow_null=True)
    allowedOrigins = serializers.ListField(child=serializers.CharField(), source="allowed_origins")
    createdAt = serializers.DateTimeField(source="created_at")
