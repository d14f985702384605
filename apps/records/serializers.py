from rest_framework import serializers

from apps.core.serializers import HalSerializer, IdField


class RecordOutput(HalSerializer):
    id = IdField()
    collId = IdField(source="collection_id")
    schemaVersion = serializers.IntegerField(source="schema_version")
    identifiers = serializers.JSONField()
    receivedAt = serializers.DateTimeField(source="received_at")
    updatedAt = serializers.DateTimeField(source="updated_at")
    data = serializers.JSONField()  # type: ignore[assignment]  # the API's name for it


class RejectedRecordOutput(HalSerializer):
    id = IdField()
    collId = IdField(source="collection_id")
    schemaVersion = serializers.IntegerField(source="schema_version")
    receivedAt = serializers.DateTimeField(source="received_at")
    errors = serializers.JSONField()  # type: ignore[assignment]  # the API's name for it
    raw = serializers.JSONField()
