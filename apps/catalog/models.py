from django.db import models

from apps.core.ids import new_id
from apps.orgs.models import Compatibility, Org
from apps.sources.models import Source


class Collection(models.Model):
    """A named stream of records of one Avro record schema; `schema` is the current version."""

    id = models.BigIntegerField(primary_key=True, default=new_id, editable=False)
    org = models.ForeignKey(Org, on_delete=models.CASCADE, related_name="collections")
    source = models.ForeignKey(Source, on_delete=models.PROTECT, related_name="collections")
    name = models.CharField(max_length=128)
    profile = models.BooleanField(default=False)
    event = models.BooleanField(default=True)
    schema = models.JSONField()
    schema_version = models.PositiveIntegerField(default=1)
    # null, as the API says it: no mode of its own, the org's default counts
    compatibility = models.CharField(  # noqa: DJ001
        max_length=20, choices=Compatibility.choices, null=True, blank=True,
        help_text="Empty: the org's default mode.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["org", "name"], name="collection_name_unique_per_org")
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def compatibility_in_force(self) -> str:
        """The collection's own mode, else its org's default."""
        return self.compatibility or self.org.compatibility


class SchemaVersion(models.Model):
    """One numbered schema of a collection; records keep the version they were written with."""

    id = models.BigIntegerField(primary_key=True, default=new_id, editable=False)
    collection = models.ForeignKey(Collection, on_delete=models.CASCADE, related_name="versions")
    version = models.PositiveIntegerField()
    schema = models.JSONField()
    fingerprint = models.CharField(
        max_length=64, help_text="SHA-256 (hex) of the schema's Avro Parsing Canonical Form.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["collection", "version"]
        constraints = [
            models.UniqueConstraint(
                fields=["collection", "version"], name="schema_version_unique_per_collection"
            )
        ]

    def __str__(self) -> str:
        return f"{self.collection} v{self.version}"


class Identifier(models.Model):
    """Which fields identify a collection's records (primary) or point at another
    collection's primary identifier (foreign)."""

    class Type(models.TextChoices):
        PRIMARY = "primary", "Primary"
        FOREIGN = "foreign", "Foreign"

    id = models.BigIntegerField(primary_key=True, default=new_id, editable=False)
    org = models.ForeignKey(Org, on_delete=models.CASCADE, related_name="identifiers")
    collection = models.ForeignKey(Collection, on_delete=models.CASCADE, related_name="identifiers")
    type = models.CharField(max_length=10, choices=Type.choices)
    name = models.CharField(max_length=128)
    schema = models.JSONField()
    reference = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="referenced_by"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["collection", "name"], name="identifier_name_unique_per_collection"
            ),
            models.UniqueConstraint(
                fields=["collection"], condition=models.Q(type="primary"),
                name="one_primary_identifier_per_collection",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.collection}.{self.name} ({self.type})"

    @property
    def field_names(self) -> list[str]:
        return [field["name"] for field in self.schema["fields"]]


class SchemaDryRun(models.Model):
    """What registering `schema` on a collection would do, found without registering it: the
    verdict of every compatibility mode and the identifiers it breaks at once, then the
    stored records it could not read and the rejected records it would accept, counted by a
    worker that saves its progress as it goes."""

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    id = models.BigIntegerField(primary_key=True, default=new_id, editable=False)
    org = models.ForeignKey(Org, on_delete=models.CASCADE, related_name="+")
    collection = models.ForeignKey(Collection, on_delete=models.CASCADE,
                                   related_name="dry_runs")
    schema = models.JSONField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING)
    compatibility = models.CharField(max_length=20, choices=Compatibility.choices,
                                     help_text="The collection's mode in force at the start.")
    # as the API answers them: {mode: {"compatible", "incompatibilities"}}, and the
    # identifiers' problems [{"attr", "code", "detail"}]
    verdicts = models.JSONField(default=dict)
    identifiers = models.JSONField(default=list)
    # per version: {"version", "records", "provenReadable"}: proven versions are not scanned
    versions = models.JSONField(default=list)
    to_scan = models.BigIntegerField(default=0)
    scanned = models.BigIntegerField(default=0)
    unreadable = models.BigIntegerField(default=0)
    unreadable_examples = models.JSONField(default=list)
    rejected = models.BigIntegerField(default=0)
    accepted = models.BigIntegerField(default=0)
    accepted_examples = models.JSONField(default=list)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"dry run {self.id} of {self.collection}"

    @property
    def stored(self) -> int:
        return sum(version["records"] for version in self.versions)

    @property
    def would_register(self) -> bool:
        """Whether registering the schema would have been taken when the dry run started."""
        return bool(self.verdicts[self.compatibility]["compatible"]) and (
            not self.identifiers or self.compatibility == Compatibility.NONE)
