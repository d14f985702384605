import json
from typing import Any

from django.contrib import admin, messages
from django.forms import ModelForm
from django.http import HttpRequest, HttpResponse
from django.templatetags.static import static

from apps.core.actors import Actor
from apps.core.admin import DeletedThroughServices, admin_actor
from apps.sources import services
from apps.sources.models import Source
from apps.tracker.selectors import track_example

SCRIPT = "tracker/sluice.min.js"
SNIPPET = (
    '<script src="{script}"\n'
    '        data-org="{org}" data-tracker-id="{tracker}"\n'
    '        data-write-key="YOUR_WRITE_KEY"></script>\n'
    "<script>\n"
    "  // then, anywhere on the page:\n"
    '  window._intempt["{tracker}"].track({collection},\n'
    "    {fields});\n"
    "</script>"
)


def tracker_snippet(request: HttpRequest, source: Source) -> str | None:
    """What a web page adds to send this source's records, its script from the host that
    serves this admin page; None for a source without a tracker."""
    if source.type != Source.Type.WEB or not source.tracker_id:
        return None
    example = track_example(org=source.org, source=source)
    return SNIPPET.format(script=request.build_absolute_uri(static(SCRIPT)),
                          org=source.org.slug, tracker=source.tracker_id,
                          collection=json.dumps(example.collection),
                          fields=json.dumps(example.fields, ensure_ascii=False))


@admin.register(Source)
class SourceAdmin(DeletedThroughServices):
    """A source's page ends with its tracker snippet
    (templates/admin/sources/source/change_form.html)."""

    list_display = ["name", "org", "type", "title", "tracker_id", "created_at"]
    list_select_related = ["org"]
    list_filter = ["type", "org"]
    search_fields = ["name", "title"]
    readonly_fields = ["tracker_id", "created_at"]

    def render_change_form(self, request: HttpRequest, context: dict[str, Any],
                           add: bool = False, change: bool = False, form_url: str = "",
                           obj: Source | None = None) -> HttpResponse:
        # the snippet needs the request (its host), which readonly fields are not given
        if obj is not None:
            context["tracker_snippet"] = tracker_snippet(request, obj)
        return super().render_change_form(request, context, add, change, form_url, obj)

    def save_model(self, request: HttpRequest, obj: Source, form: ModelForm,  # type: ignore[type-arg]
                   change: bool) -> None:
        actor = admin_actor(request)
        if change:
            changes = {name: form.cleaned_data[name] for name in form.changed_data}
            saved = services.source_update(actor=actor, source=Source.objects.get(pk=obj.pk),
                                           changes=changes)
        else:
            saved = services.source_create(
                actor=actor, org=obj.org, name=obj.name, type=obj.type, title=obj.title,
                description=obj.description, allowed_origins=obj.allowed_origins)
        obj.pk, obj.tracker_id, obj.created_at = saved.pk, saved.tracker_id, saved.created_at
        if saved.write_key:
            messages.warning(request, f"The source's own write key is {saved.write_key} — "
                             "copy it now for its tracker tag; it is never shown again.")

    def deleted(self, actor: Actor, obj: Source) -> None:
        services.source_delete(actor=actor, source=obj)
