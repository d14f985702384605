import copy
import json
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from apps.catalog import services
from apps.catalog.models import Collection, Identifier, SchemaDryRun, SchemaVersion
from apps.core.actors import Actor
from apps.core.admin import DeletedThroughServices, admin_actor, errors_shown_on


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
class CollectionAdmin(DeletedThroughServices):
    form = CollectionForm
    # few enough to fit 1280 px beside the filters: the source names its org, and event and
    # profile are filters
    list_display = ["name", "source", "schema_version", "compatibility_mode", "updated_at"]
    list_select_related = ["org", "source__org"]
    list_filter = ["org", "event", "profile", "compatibility"]
    search_fields = ["name"]
    readonly_fields = ["schema_version", "compatibility_mode", "versions", "dry_runs"]

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

    @admin.display(description="dry runs of a schema change")
    def dry_runs(self, obj: Collection) -> str:
        if obj._state.adding:
            return "-"
        start = format_html('<a class="button" href="{}?collection={}">Dry run</a>',
                            reverse("admin:catalog_schemadryrun_add"), obj.pk)
        recent = format_html_join(mark_safe("<br>"), '<a href="{}">{}</a>: {} ({})', (
            (reverse("admin:catalog_schemadryrun_change", args=[run.pk]), run.pk, run.status,
             run.created_at.isoformat(timespec="seconds")) for run in obj.dry_runs.all()[:5]))
        return format_html("{}<br>{}", start, recent)

    def save_model(self, request: HttpRequest, obj: Collection, form: Any, change: bool) -> None:
        data = {field: form.cleaned_data[field]
                for field in ("name", "profile", "event", "schema", "compatibility")}
        data["compatibility"] = data["compatibility"] or None
        if change:
            data["source"] = form.cleaned_data["source"]
            updated = services.collection_update(
                actor=admin_actor(request), collection=Collection.objects.get(pk=obj.pk),
                changes=data)
            saved = updated.collection
            for warning in updated.warnings:
                messages.warning(request, warning.detail)
        else:
            saved = services.collection_create(actor=admin_actor(request), org=obj.org,
                                               source=obj.source, **data)
        obj.pk, obj.schema_version = saved.pk, saved.schema_version

    def deleted(self, actor: Actor, obj: Collection) -> None:
        services.collection_delete(actor=actor, collection=obj)


@admin.register(SchemaVersion)
class SchemaVersionAdmin(DeletedThroughServices):
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

    def deleted(self, actor: Actor, obj: SchemaVersion) -> None:
        services.schema_version_delete(actor=actor, version=obj)


class SchemaDryRunForm(forms.ModelForm):  # type: ignore[type-arg]
    schema = forms.JSONField(widget=forms.Textarea(attrs={"rows": 24, "cols": 100}),
                             help_text="The schema to try on the collection: nothing is "
                             "registered.")

    class Meta:
        model = SchemaDryRun
        fields = ["collection", "schema"]

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        if "schema" in cleaned:
            with errors_shown_on(self):
                services.checked_schema(cleaned["schema"])
        return cleaned


@admin.register(SchemaDryRun)
class SchemaDryRunAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Starts a dry run of a schema change (the collection page's "Dry run" button) and shows
    its result; reload the page while it is running."""

    form = SchemaDryRunForm
    list_display = ["id", "collection", "status", "compatibility", "unreadable", "accepted",
                    "created_at"]
    list_filter = ["status"]
    result_fields = ("collection", "status", "compatibility", "would_register", "verdict_list",
                     "identifier_list", "progress", "stored_records", "rejected_records", "error",
                     "pretty_schema", "created_at", "finished_at")

    def get_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        return ("collection", "schema") if obj is None else self.result_fields

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        return () if obj is None else self.result_fields

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        """The collection the button came from, and its current schema to edit."""
        collection = Collection.objects.filter(pk=request.GET.get("collection") or 0).first()
        if collection is None:
            return {}
        return {"collection": collection.pk, "schema": collection.schema}

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: SchemaDryRun, form: Any,
                   change: bool) -> None:
        saved = services.schema_dry_run_start(collection=form.cleaned_data["collection"],
                                              schema=form.cleaned_data["schema"])
        obj.pk = saved.pk

    def response_add(self, request: HttpRequest, obj: SchemaDryRun,
                     post_url_continue: str | None = None) -> HttpResponse:
        return HttpResponseRedirect(reverse("admin:catalog_schemadryrun_change", args=[obj.pk]))

    @admin.display(description="would register", boolean=True)
    def would_register(self, obj: SchemaDryRun) -> bool:
        return obj.would_register

    @admin.display(description="verdict of each mode")
    def verdict_list(self, obj: SchemaDryRun) -> str:
        return format_html_join(mark_safe("<br>"), "{}: {}", (
            (mode, "compatible" if verdict["compatible"] else "; ".join(
                one["detail"] for one in verdict["incompatibilities"]))
            for mode, verdict in obj.verdicts.items()))

    @admin.display(description="identifiers it breaks")
    def identifier_list(self, obj: SchemaDryRun) -> str:
        return "; ".join(problem["detail"] for problem in obj.identifiers) or "none"

    @admin.display(description="progress")
    def progress(self, obj: SchemaDryRun) -> str:
        return f"{obj.scanned} of {obj.to_scan} records read one by one"

    @admin.display(description="stored records")
    def stored_records(self, obj: SchemaDryRun) -> str:
        examples = format_html_join(mark_safe("<br>"), "record {} (version {}): {}", (
            (one["id"], one["schemaVersion"], one["reason"]) for one in obj.unreadable_examples))
        return format_html("{} stored, {} the schema could not read<br>{}", obj.stored,
                           obj.unreadable, examples)

    @admin.display(description="rejected records")
    def rejected_records(self, obj: SchemaDryRun) -> str:
        examples = format_html_join(mark_safe("<br>"), "rejected record {} (version {})", (
            (one["id"], one["schemaVersion"]) for one in obj.accepted_examples))
        return format_html("{} rejected, {} the schema would accept (a replay would store "
                           "them)<br>{}", obj.rejected, obj.accepted, examples)

    @admin.display(description="schema")
    def pretty_schema(self, obj: SchemaDryRun) -> str:
        return json.dumps(obj.schema, indent=2)


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
class IdentifierAdmin(DeletedThroughServices):
    form = IdentifierForm
    list_display = ["name", "collection", "type", "reference", "created_at"]
    list_filter = ["type", "org"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is None

    def save_model(self, request: HttpRequest, obj: Identifier, form: Any, change: bool) -> None:
        saved = services.identifier_create(
            actor=admin_actor(request), collection=obj.collection, type=obj.type,
            name=obj.name, schema=obj.schema, reference=obj.reference,
        )
        obj.pk = saved.pk

    def deleted(self, actor: Actor, obj: Identifier) -> None:
        services.identifier_delete(actor=actor, identifier=obj)
