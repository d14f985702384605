from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from apps.audit.models import AuditEntry
from apps.core.admin import admin_actor, errors_shown_on
from apps.orgs.models import ApiKey, Org
from apps.orgs.services import (
    api_key_checked,
    api_key_create,
    api_key_rename,
    api_key_revoke,
    org_create,
    org_update,
)


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

    def save_model(self, request: HttpRequest, obj: Org, form: Any, change: bool) -> None:
        actor = admin_actor(request)
        if change:
            changes = {name: form.cleaned_data[name] for name in form.changed_data}
            org_update(actor=actor, org=Org.objects.get(pk=obj.pk), changes=changes)
            return
        created = org_create(actor=actor, slug=obj.slug, name=obj.name,
                             compatibility=obj.compatibility)
        obj.pk = created.org.pk
        messages.warning(request, f"Its secret key is {created.secret_key} and its write key "
                         f"{created.write_key} — copy them now; they are never shown again.")

    def get_deleted_objects(self, objs: Any, request: HttpRequest) -> Any:
        """An org goes with its keys and its audit trail, which are otherwise never deleted."""
        deleted, counts, needed, protected = super().get_deleted_objects(objs, request)
        kept = {str(model._meta.verbose_name) for model in (ApiKey, AuditEntry)}
        return deleted, counts, needed - kept, protected


class ApiKeyForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = ApiKey
        fields = ["org", "kind", "name", "source", "expires_at"]

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        if self.instance._state.adding and cleaned.get("org") and cleaned.get("kind"):
            with errors_shown_on(self):
                api_key_checked(org=cleaned["org"], kind=cleaned["kind"],
                                source=cleaned.get("source"),
                                expires_at=cleaned.get("expires_at"))
        return cleaned


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Keys made here are shown once; revoking goes through the same service as the API.
    Keys are revoked, never deleted: the audit trail keeps what each one did."""

    form = ApiKeyForm
    list_display = ["prefix", "org", "kind", "name", "source", "last_used_at", "expires_at",
                    "revoked_at"]  # when it was made: on its page (the list fits 1280 px)
    list_filter = ["kind", "org"]
    actions = ["revoke"]

    def get_fields(self, request: HttpRequest, obj: ApiKey | None = None) -> tuple[str, ...]:
        if obj is None:
            return ("org", "kind", "name", "source", "expires_at")
        return ("org", "kind", "name", "source", "prefix", "created_at", "last_used_at",
                "expires_at", "revoked_at")

    def get_readonly_fields(self, request: HttpRequest, obj: ApiKey | None = None) -> list[str]:
        return [] if obj is None else ["org", "kind", "source", "prefix", "created_at",
                                       "last_used_at", "expires_at", "revoked_at"]

    def has_delete_permission(self, request: HttpRequest, obj: ApiKey | None = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: ApiKey, form: Any, change: bool) -> None:
        if change:
            api_key_rename(actor=admin_actor(request), key=ApiKey.objects.get(pk=obj.pk),
                           name=obj.name)
            return
        key, raw = api_key_create(actor=admin_actor(request), org=obj.org, kind=obj.kind,
                                  name=obj.name, source=obj.source, expires_at=obj.expires_at)
        obj.pk, obj.prefix = key.pk, key.prefix
        messages.warning(request, f"The new key is {raw} — copy it now; it is never shown again.")

    @admin.action(description="Revoke the selected keys")
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        for key in queryset:
            api_key_revoke(actor=admin_actor(request), key=key)
        messages.success(request, f"Revoked {queryset.count()} key(s).")
