import json
from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from apps.audit.models import AuditEntry


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """The audit trail, read only: entries are made by the changes themselves."""

    list_display = ["at", "org", "actor", "action", "target_type", "target_id"]
    list_select_related = ["org"]
    list_filter = ["action", "actor_type", "target_type", "org"]
    search_fields = ["target_id", "actor_name", "request_id"]
    date_hierarchy = "at"
    fields = readonly_fields = ("at", "org", "actor", "action", "target_type", "target_id",
                                "pretty_before", "pretty_after", "request_id")

    @admin.display(description="actor")
    def actor(self, obj: AuditEntry) -> str:
        return f"{obj.get_actor_type_display()} {obj.actor_name}"

    @admin.display(description="before")
    def pretty_before(self, obj: AuditEntry) -> str:
        return json.dumps(obj.before, indent=2)

    @admin.display(description="after")
    def pretty_after(self, obj: AuditEntry) -> str:
        return json.dumps(obj.after, indent=2)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
