from typing import Any

from rest_framework import serializers

from apps.catalog.models import Identifier
from apps.core.serializers import HalSerializer, IdField, LinksField


class CollectionOutput(HalSerializer):
    id = IdField()
    sourceId = IdField(source="source_id")
    sourceName = serializers.CharField(source="source.name")
    sourceTitle = serializers.CharField(source="source.title")
    name = serializers.CharField()
    profile = serializers.BooleanField()
    event = serializers.BooleanField()
    schema = serializers.JSONField()
    schemaVersion = serializers.IntegerField(source="schema_version")
    compatibility = serializers.CharField(
        allow_null=True, help_text="The collection's compatibility mode; null: the org's "
        "default (`GET .../config`).")


class IdentifierOutput(HalSerializer):
    collId = IdField(source="collection_id")
    id = IdField()
    type = serializers.CharField()
    name = serializers.CharField()
    schema = serializers.JSONField()
    referenceId = IdField(source="reference_id", required=False)

    def to_representation(self, instance: Identifier) -> dict[str, Any]:
        data = super().to_representation(instance)
        if instance.type == Identifier.Type.PRIMARY:
            data.pop("referenceId", None)
        return data


class SchemaVersionOutput(HalSerializer):
    collId = IdField(source="collection_id")
    version = serializers.IntegerField()
    schema = serializers.JSONField()
    fingerprint = serializers.CharField(
        help_text="SHA-256, in hex, of the schema's Avro Parsing Canonical Form.")
    createdAt = serializers.DateTimeField(source="created_at")


class WarningOutput(serializers.Serializer):  # type: ignore[type-arg]
    attr = serializers.CharField(allow_null=True)
    code = serializers.CharField()
    detail = serializers.CharField()


WARNINGS_HELP = ("Only when the compatibility mode NONE let through a change that breaks an "
                 "identifier: what breaks.")


class CollectionChangedOutput(CollectionOutput):
    """A changed collection (documentation only: the view adds `warnings` when any)."""

    warnings = WarningOutput(many=True, required=False, help_text=WARNINGS_HELP)


class SchemaRegisteredOutput(SchemaVersionOutput):
    """A registered version (documentation only: the view adds `warnings` when any)."""

    warnings = WarningOutput(many=True, required=False, help_text=WARNINGS_HELP)


class ConfigOutput(serializers.Serializer):  # type: ignore[type-arg]
    """The org's schema registry settings (documentation only)."""

    compatibility = serializers.CharField(help_text="The default compatibility mode of the "
                                          "org's collections.")
    _links = LinksField()


class RelationEndOutput(serializers.Serializer):  # type: ignore[type-arg]
    collId = IdField(source="collection_id")
    collName = serializers.CharField(source="collection.name")
    identifierId = IdField(source="id")
    identifierName = serializers.CharField(source="name")
    identifierType = serializers.CharField(source="type")
    fields = serializers.ListField(  # type: ignore[assignment]  # the API's name for it
        child=serializers.CharField(), source="field_names")


class RelationOutput(HalSerializer):
    id = IdField(source="foreign.id")
    direction = serializers.CharField()
    # `from` is a Python keyword, hence the explicit field names below.
    from_ = RelationEndOutput(source="foreign")
    to = RelationEndOutput(source="primary")

    def to_representation(self, instance: Any) -> dict[str, Any]:
        data = super().to_representation(instance)
        data["from"] = data.pop("from_")
        return data
