from django.urls import reverse

from apps.core import links
from apps.sources.models import Source


@links.register(Source)
def source_links(source: Source, org: str) -> dict[str, str]:
    return {
        "self": reverse("source-detail", kwargs={"org": org, "source_id": source.id}),
        "data": reverse("source-data", kwargs={"org": org, "source_id": source.id}),
        "collections": reverse("collection-list", kwargs={"org": org})
        + f"?sourceId={source.id}",
    }
