from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from apps.audit.models import AuditEntry
from apps.core.admin import admin_actor
from apps.orgs.models import ApiKey, Org
from apps.orgs.services import (
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


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Keys are revoked, never deleted: the audit trail keeps what each one did."""

    list_display = ["prefix", "org", "kind", "name", "created_at", "revoked_at"]
    list_filter = ["kind", "org"]
    actions = ["revoke"]

    def get_fields(self, request: HttpRequest, obj: ApiKey | None = None) -> tuple[str, ...]:
        if obj is None:
            return ("org", "kind", "name")
        return ("org", "kind", "name", "prefix", "created_at", "revoked_at")

    def get_readonly_fields(self, request: HttpRequest, obj: ApiKey | None = None) -> list[str]:
        return [] if obj is None else ["org", "kind", "prefix", "created_at", "revoked_at"]

    def has_delete_permission(self, request: HttpRequest, obj: ApiKey | None = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: ApiKey, form: Any, change: bool) -> None:
        if change:
            api_key_rename(actor=admin_actor(request), key=ApiKey.objects.get(pk=obj.pk),
                           name=obj.name)
            return
        key, raw = api_key_create(actor=admin_actor(request), org=obj.org, kind=obj.kind,
                                  name=obj.name)
        obj.pk, obj.prefix = key.pk, key.prefix
        messages.warning(request, f"The new key is {raw} — copy it now; it is never shown again.")

    @admin.action(description="Revoke the selected keys")
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        for key in queryset:
            api_key_revoke(actor=admin_actor(request), key=key)
        messages.success(request, f"Revoked {queryset.count()} key(s).")
