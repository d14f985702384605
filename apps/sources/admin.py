from django.contrib import admin
from django.utils.html import format_html

from apps.sources.models import Source

SNIPPET = (
    '<script src="https://YOUR-SLUICE-HOST/static/tracker/sluice.min.js"\n'
    '        data-org="{org}" data-tracker-id="{tracker}"\n'
    '        data-write-key="YOUR_WRITE_KEY"></script>\n'
    "<script>\n"
    '  // then, anywhere on the page:\n'
    '  window._intempt["{tracker}"].track("flight-booking", {{"bookingId": "1"}});\n'
    "</script>"
)


@admin.register(Source)
class SourceAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["name", "org", "type", "title", "tracker_id", "created_at"]
    list_select_related = ["org"]
    list_filter = ["type", "org"]
    search_fields = ["name", "title"]
    readonly_fields = ["tracker_id", "tracker_snippet", "created_at"]

    @admin.display(description="tracker snippet")
    def tracker_snippet(self, source: Source) -> str:
        """What a web page adds to send this source's records (keys are never shown again:
        put the org's write key in)."""
        if source.type != Source.Type.WEB or not source.tracker_id:
            return "Only web sources have a tracker."
        return format_html("<pre>{}</pre>", SNIPPET.format(org=source.org.slug,
                                                           tracker=source.tracker_id))
