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


class RejectedDrops(models.Model):
    """What a collection's cap on rejected records left out: how many were dropped (counted,
    not kept) since it was created, and whether it holds its cap as of its last write."""

    collection = models.OneToOneField(Collection, on_delete=models.CASCADE, primary_key=True,
                                      db_constraint=False, related_name="rejected_drops")
    org = models.ForeignKey(Org, on_delete=models.CASCADE, db_constraint=False,
                            related_name="+")
    dropped = models.BigIntegerField(default=0)
    full = models.BooleanField(default=False)
    last_dropped_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "rejected drops"

    def __str__(self) -> str:
        return f"{self.collection_id}: {self.dropped} dropped"
