from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.catalog.models import Collection, Identifier, SchemaVersion
from apps.core import snapshots
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
    rejectedDropped = serializers.SerializerMethodField(
        help_text="Rejected records not kept, past the cap on rejected records per "
        "collection, since it was created (`GET /v1/<org>/rejected?collId=`).")

    @extend_schema_field(serializers.IntegerField())
    def get_rejectedDropped(self, collection: Collection) -> int:  # noqa: N802
        drops = getattr(collection, "rejected_drops", None)  # none until one is dropped
        return drops.dropped if drops is not None else 0


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


class IncompatibilityOutput(serializers.Serializer):  # type: ignore[type-arg]
    path = serializers.CharField(help_text="Where it breaks, in the reader's schema.")
    kind = serializers.CharField(help_text="Apache Avro's checker's name for the break.")
    readerType = serializers.JSONField(allow_null=True)
    writerType = serializers.JSONField(allow_null=True)
    version = serializers.IntegerField()
    direction = serializers.ChoiceField(choices=["backward", "forward"])
    detail = serializers.CharField()


class VerdictOutput(serializers.Serializer):  # type: ignore[type-arg]
    compatible = serializers.BooleanField()
    incompatibilities = IncompatibilityOutput(many=True)


class ProgressOutput(serializers.Serializer):  # type: ignore[type-arg]
    scanned = serializers.IntegerField(help_text="Records checked one by one so far.")
    total = serializers.IntegerField(source="to_scan", help_text="Records to check one by one: "
                                     "those of the versions not proven readable, and every "
                                     "rejected record.")


class VersionReadOutput(serializers.Serializer):  # type: ignore[type-arg]
    version = serializers.IntegerField()
    records = serializers.IntegerField(help_text="Stored records written in this version.")
    provenReadable = serializers.BooleanField(help_text="Apache Avro's checker proves that the "
                                              "new schema reads this version's records: they "
                                              "are counted, not read one by one.")


class UnreadableExampleOutput(serializers.Serializer):  # type: ignore[type-arg]
    id = serializers.CharField()
    schemaVersion = serializers.IntegerField()
    reason = serializers.CharField(help_text="Why Avro's resolution rules cannot read it.")


class StoredRecordsOutput(serializers.Serializer):  # type: ignore[type-arg]
    total = serializers.IntegerField(source="stored")
    unreadable = serializers.IntegerField(help_text="Records the new schema could not read.")
    examples = UnreadableExampleOutput(many=True, source="unreadable_examples")
    versions = VersionReadOutput(many=True)


class AcceptedExampleOutput(serializers.Serializer):  # type: ignore[type-arg]
    id = serializers.CharField()
    schemaVersion = serializers.IntegerField()
    rejectedFor = WarningOutput(many=True, help_text="Why it was rejected.")


class RejectedRecordsOutput(serializers.Serializer):  # type: ignore[type-arg]
    total = serializers.IntegerField(source="rejected")
    wouldBeAccepted = serializers.IntegerField(source="accepted", help_text="Rejected records "
                                               "that the new schema would accept: what a "
                                               "replay after registering it would store.")
    examples = AcceptedExampleOutput(many=True, source="accepted_examples")


class SchemaDryRunOutput(HalSerializer):
    id = IdField()
    collId = IdField(source="collection_id")
    status = serializers.ChoiceField(choices=["running", "done", "failed"])
    compatibility = serializers.CharField(help_text="The collection's mode in force.")
    wouldRegister = serializers.BooleanField(
        source="would_register", help_text="Whether registering the schema would be taken: "
        "it keeps the mode in force and the identifiers (or the mode is NONE).")
    verdicts = serializers.DictField(child=VerdictOutput(), help_text="Each of the seven "
                                     "modes: whether the schema keeps it, and where not.")
    identifiers = WarningOutput(many=True, help_text="The identifiers' fields the schema "
                                "breaks: refused in every mode but NONE.")
    progress = ProgressOutput(source="*")
    storedRecords = StoredRecordsOutput(source="*")
    rejectedRecords = RejectedRecordsOutput(source="*")
    error = serializers.CharField(allow_blank=True, help_text="Why a failed scan stopped.")
    schema = serializers.JSONField()
    createdAt = serializers.DateTimeField(source="created_at")
    finishedAt = serializers.DateTimeField(source="finished_at", allow_null=True)


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
    locals()["from"] = RelationEndOutput(source="foreign")  # a Python keyword, named so
    to = RelationEndOutput(source="primary")


snapshots.register(Collection, CollectionOutput)
snapshots.register(Identifier, IdentifierOutput)
snapshots.register(SchemaVersion, SchemaVersionOutput)
