from django.db import models

from apps.core.ids import new_id
from apps.orgs.models import Org


class Merge(models.Model):
    """A browser's visitorId identified as a known user: their records make one profile. A
    visitorId already merged into another user is kept as a conflict, never merged."""

    class Status(models.TextChoices):
        MERGED = "merged", "Merged"
        CONFLICT = "conflict", "Conflict: the visitor is merged into another user"

    id = models.BigIntegerField(primary_key=True, default=new_id, editable=False)
    org = models.ForeignKey(Org, on_delete=models.CASCADE, related_name="merges")
    visitor_id = models.CharField(max_length=200)
    user_id = models.CharField(max_length=200)
    status = models.CharField(max_length=10, choices=Status.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["org", "visitor_id"],
                                    condition=models.Q(status="merged"),
                                    name="a_visitor_merges_into_one_user"),
            models.UniqueConstraint(fields=["org", "visitor_id", "user_id"],
                                    name="merge_recorded_once"),
        ]

    def __str__(self) -> str:
        return f"{self.visitor_id} -> {self.user_id} ({self.status})"
