from django.db import models

from apps.core.ids import new_id
from apps.orgs.models import Org


class Source(models.Model):
    """Where records come from: a web tracker, a server, the usage collector..."""

    class Type(models.TextChoices):
        WEB = "web", "Web tracker"
        SERVER = "server", "Server"
        USAGE = "usage", "Usage collector"
        API = "api", "API"

    id = models.BigIntegerField(primary_key=True, default=new_id, editable=False)
    org = models.ForeignKey(Org, on_delete=models.CASCADE, related_name="sources")
    name = models.CharField(max_length=128)
    title = models.CharField(max_length=200, blank=True)
    description = models.TextField(blank=True)
    type = models.CharField(max_length=20, choices=Type.choices)
    tracker_id = models.CharField(max_length=32, unique=True, null=True, blank=True, editable=False)
    allowed_origins = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # the raw value of a new web source's own write key, on the instance source_create
    # answers only: it is shown once and never stored
    write_key: str | None = None

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["org", "name"], name="source_name_unique_per_org")
        ]

    def __str__(self) -> str:
        return f"{self.org.slug}/{self.name}"
