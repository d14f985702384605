from django.db import models

from apps.catalog.models import Collection
from apps.orgs.models import Org


class Record(models.Model):
    """One validated record, keyed by its collection's primary identifier: a later record
    with the same key replaces it (a profile's current state; a retried event stored once)."""

    id = models.BigIntegerField(primary_key=True)
    org = models.ForeignKey(Org, on_delete=models.CASCADE, db_constraint=False,
                            related_name="+")
    collection = models.ForeignKey(Collection, on_delete=models.CASCADE, db_constraint=False,
                                   related_name="records")
    schema_version = models.PositiveIntegerField()
    key = models.TextField()
    identifiers = models.JSONField()
    received_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    data = models.JSONField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["collection", "key"], name="record_key_unique")
        ]
        indexes = [models.Index(fields=["collection", "-id"], name="record_newest_first")]

    def __str__(self) -> str:
        return f"{self.collection_id}/{self.key}"


class RejectedRecord(models.Model):
    """A record that failed validation (or storage), kept with its reasons until replayed."""

    id = models.BigIntegerField(primary_key=True)
    org = models.ForeignKey(Org, on_delete=models.CASCADE, db_constraint=False,
                            related_name="+")
    collection = models.ForeignKey(Collection, on_delete=models.CASCADE, db_constraint=False,
                                   related_name="rejected_records")
    schema_version = models.PositiveIntegerField()
    raw = models.JSONField()
    errors = models.JSONField()
    received_at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["org", "-id"], name="rejected_newest_first"),
            models.Index(fields=["collection", "-id"], name="rejected_by_collection"),
        ]

    def __str__(self) -> str:
        return f"rejected {self.id}"
