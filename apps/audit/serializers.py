from rest_framework import serializers

from apps.audit.models import AuditEntry
from apps.core.serializers import HalSerializer, IdField

SNAPSHOT_HELP = ("The {} as the API showed it ({} the change); null when it did not exist. "
                 "Never a key's value or hash.")


class ActorOutput(serializers.Serializer):  # type: ignore[type-arg]
    type = serializers.ChoiceField(choices=AuditEntry.ActorType.choices, source="actor_type")
    id = serializers.CharField(source="actor_id", help_text="The key's or the user's id; empty "
                               "for Sluice itself.")
    name = serializers.CharField(source="actor_name", help_text="The key's shown prefix, the "
                                 "admin user's username, or the command that made the change.")


class TargetOutput(serializers.Serializer):  # type: ignore[type-arg]
    type = serializers.CharField(source="target_type", help_text="source, collection, "
                                 "identifier, key or org (a schema version is its collection's)")
    id = serializers.CharField(source="target_id")


class AuditEntryOutput(HalSerializer):
    id = IdField()
    at = serializers.DateTimeField()
    actor = ActorOutput(source="*")
    action = serializers.CharField(help_text="`<target type>.<verb>`, e.g. collection.updated")
    target = TargetOutput(source="*")
    before = serializers.JSONField(allow_null=True, help_text=SNAPSHOT_HELP.format("object",
                                                                                  "before"))
    after = serializers.JSONField(allow_null=True, help_text=SNAPSHOT_HELP.format("object",
                                                                                 "after"))
    requestId = serializers.CharField(source="request_id", allow_null=True,
                                      help_text="The X-Request-ID of the request that made "
                                      "the change; null when none.")

    def to_representation(self, instance: AuditEntry) -> dict[str, object]:
        data = super().to_representation(instance)
        data["requestId"] = data["requestId"] or None
        return data
