import json
from typing import Any

from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse
from django.templatetags.static import static

from apps.sources.models import Source
from apps.sources.services import source_create
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
class SourceAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """A source's page ends with its tracker snippet
    (templates/admin/sources/source/change_form.html)."""

    list_display = ["name", "org", "type", "title", "tracker_id", "created_at"]
    list_select_related = ["org"]
    list_filter = ["type", "org"]
    search_fields = ["name", "title"]
    readonly_fields = ["tracker_id", "created_at"]

    def save_model(self, request: HttpRequest, obj: Source, form: Any, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        made = source_create(org=obj.org, name=obj.name, type=obj.type, title=obj.title,
                             description=obj.description, allowed_origins=obj.allowed_origins)
        obj.pk, obj.tracker_id, obj.created_at = made.pk, made.tracker_id, made.created_at
        if made.write_key:
            messages.warning(request, f"The source's own write key is {made.write_key} — copy "
                             "it now for its tracker tag; it is never shown again.")

    def render_change_form(self, request: HttpRequest, context: dict[str, Any],
                           add: bool = False, change: bool = False, form_url: str = "",
                           obj: Source | None = None) -> HttpResponse:
        # the snippet needs the request (its host), which readonly fields are not given
        if obj is not None:
            context["tracker_snippet"] = tracker_snippet(request, obj)
        return super().render_change_form(request, context, add, change, form_url, obj)
