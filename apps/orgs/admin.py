from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from apps.orgs.models import ApiKey, Org
from apps.orgs.services import api_key_create, api_key_revoke


@admin.register(Org)
class OrgAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["slug", "name", "compatibility", "created_at"]
    search_fields = ["slug", "name"]
    fieldsets = [
        (None, {"fields": ["slug", "name", "compatibility"]}),
        ("Limits", {"description": "This org's own; blank: the setting's (README, "
                    "\"Limits\"). They apply from its next request.",
                    "fields": ["rate_limit_key", "rate_limit_key_burst", "rate_limit_org",
                               "rate_limit_org_burst", "rejected_cap"]}),
    ]


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["prefix", "org", "kind", "name", "created_at", "revoked_at"]
    list_filter = ["kind", "org"]
    actions = ["revoke"]

    def get_fields(self, request: HttpRequest, obj: ApiKey | None = None) -> tuple[str, ...]:
        if obj is None:
            return ("org", "kind", "name")
        return ("org", "kind", "name", "prefix", "created_at", "revoked_at")

    def get_readonly_fields(self, request: HttpRequest, obj: ApiKey | None = None) -> list[str]:
        return [] if obj is None else ["org", "kind", "prefix", "created_at", "revoked_at"]

    def save_model(self, request: HttpRequest, obj: ApiKey, form: Any, change: bool) -> None:
        if change:
            obj.save(update_fields=["name"])
            return
        key, raw = api_key_create(org=obj.org, kind=obj.kind, name=obj.name)
        obj.pk, obj.prefix = key.pk, key.prefix
        messages.warning(request, f"The new key is {raw} — copy it now; it is never shown again.")

    @admin.action(description="Revoke the selected keys")
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        for key in queryset:
            api_key_revoke(key=key)
        messages.success(request, f"Revoked {queryset.count()} key(s).")
