import copy
import json
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.http import HttpRequest
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe

from apps.catalog import services
from apps.catalog.models import Collection, Identifier, SchemaVersion
from apps.core.admin import errors_shown_on


class CollectionForm(forms.ModelForm):  # type: ignore[type-arg]
    schema = forms.JSONField(widget=forms.Textarea(attrs={"rows": 24, "cols": 100}))

    class Meta:
        model = Collection
        fields = ["org", "source", "name", "profile", "event", "compatibility", "schema"]

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        if "schema" in cleaned:
            with errors_shown_on(self):
                checked = services.checked_schema(cleaned["schema"])
                if not self.instance._state.adding and checked != self.instance.schema:
                    self._check_change(checked, cleaned.get("compatibility") or None)
        return cleaned

    def _check_change(self, schema: dict[str, Any], compatibility: str | None) -> None:
        """The checks a new version must pass, made before anything is saved."""
        collection = copy.copy(self.instance)
        collection.compatibility = compatibility
        services.schema_change_checked(collection=collection, schema=schema)


@admin.register(Collection)
class CollectionAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    form = CollectionForm
    list_display = ["name", "org", "source", "event", "profile", "schema_version",
                    "compatibility_mode", "updated_at"]
    list_filter = ["org", "event", "profile", "compatibility"]
    search_fields = ["name"]
    readonly_fields = ["schema_version", "compatibility_mode", "versions"]

    @admin.display(description="compatibility in force")
    def compatibility_mode(self, obj: Collection) -> str:
        if obj._state.adding:
            return "-"
        return obj.compatibility or f"{obj.org.compatibility} (the org's default)"

    @admin.display(description="schema versions (SHA-256 of the Parsing Canonical Form)")
    def versions(self, obj: Collection) -> str:
        if obj._state.adding:
            return "-"
        return format_html_join(
            mark_safe("<br>"), "v{} {} ({})",
            ((v.version, v.fingerprint, v.created_at.isoformat(timespec="seconds"))
             for v in obj.versions.order_by("version")))

    def save_model(self, request: HttpRequest, obj: Collection, form: Any, change: bool) -> None:
        data = {field: form.cleaned_data[field]
                for field in ("name", "profile", "event", "schema", "compatibility")}
        data["compatibility"] = data["compatibility"] or None
        if change:
            data["source"] = form.cleaned_data["source"]
            updated = services.collection_update(
                collection=Collection.objects.get(pk=obj.pk), changes=data
            )
            saved = updated.collection
            for warning in updated.warnings:
                messages.warning(request, warning.detail)
        else:
            saved = services.collection_create(org=obj.org, source=obj.source, **data)
        obj.pk, obj.schema_version = saved.pk, saved.schema_version


@admin.register(SchemaVersion)
class SchemaVersionAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["collection", "version", "fingerprint", "created_at"]
    readonly_fields = ["collection", "version", "fingerprint", "pretty_schema", "created_at"]
    exclude = ["schema"]

    @admin.display(description="schema")
    def pretty_schema(self, obj: SchemaVersion) -> str:
        return json.dumps(obj.schema, indent=2)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class IdentifierForm(forms.ModelForm):  # type: ignore[type-arg]
    schema = forms.JSONField(widget=forms.Textarea(attrs={"rows": 12, "cols": 100}))

    class Meta:
        model = Identifier
        fields = ["collection", "type", "name", "schema", "reference"]

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        if {"collection", "type", "schema"} <= cleaned.keys():
            with errors_shown_on(self):
                services.identifier_checked(
                    collection=cleaned["collection"], type=cleaned["type"],
                    schema=cleaned["schema"], reference=cleaned.get("reference"),
                )
        return cleaned


@admin.register(Identifier)
class IdentifierAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    form = IdentifierForm
    list_display = ["name", "collection", "type", "reference", "created_at"]
    list_filter = ["type", "org"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is None

    def save_model(self, request: HttpRequest, obj: Identifier, form: Any, change: bool) -> None:
        saved = services.identifier_create(
            collection=obj.collection, type=obj.type, name=obj.name, schema=obj.schema,
            reference=obj.reference,
        )
        obj.pk = saved.pk
