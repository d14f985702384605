from enum import StrEnum

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models

from apps.core.ids import new_id
from apps.orgs.models import Org


class Action(StrEnum):
    """What a change did; `<target type>.<verb>`. Only ever added to: clients filter on them."""

    SOURCE_CREATED = "source.created"
    SOURCE_UPDATED = "source.updated"
    SOURCE_DELETED = "source.deleted"
    COLLECTION_CREATED = "collection.created"
    COLLECTION_UPDATED = "collection.updated"
    COLLECTION_DELETED = "collection.deleted"
    SCHEMA_VERSION_ADDED = "schema.version_added"
    SCHEMA_VERSION_DELETED = "schema.version_deleted"
    IDENTIFIER_CREATED = "identifier.created"
    IDENTIFIER_DELETED = "identifier.deleted"
    KEY_CREATED = "key.created"
    KEY_UPDATED = "key.updated"
    KEY_REVOKED = "key.revoked"
    KEY_ROTATED = "key.rotated"  # the old key of a rotation, given its expiry
    ORG_CREATED = "org.created"
    ORG_UPDATED = "org.updated"


class AuditEntry(models.Model):
    """One change to an org's catalog or keys: who made it, what it was, and the changed object
    before and after, as the API shows it. Entries are only ever added."""

    class ActorType(models.TextChoices):
        KEY = "key", "API key"
        USER = "user", "Admin user"
        SYSTEM = "system", "Sluice itself"

    id = models.BigIntegerField(primary_key=True, default=new_id, editable=False)
    org = models.ForeignKey(Org, on_delete=models.CASCADE, related_name="audit_entries")
    at = models.DateTimeField(auto_now_add=True)
    actor_type = models.CharField(max_length=10, choices=ActorType.choices)
    actor_id = models.CharField(max_length=40, blank=True)
    actor_name = models.CharField(max_length=150)
    action = models.CharField(max_length=60)
    target_type = models.CharField(max_length=40)
    target_id = models.CharField(max_length=40)
    before = models.JSONField(null=True, blank=True, encoder=DjangoJSONEncoder)
    after = models.JSONField(null=True, blank=True, encoder=DjangoJSONEncoder)
    request_id = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "audit entries"
        indexes = [
            models.Index(fields=["org", "-id"], name="audit_newest_per_org"),
            models.Index(fields=["org", "target_type", "target_id", "-id"],
                         name="audit_per_target"),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.target_type} {self.target_id} by {self.actor_name}"
