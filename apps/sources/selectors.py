from django.db.models import QuerySet

from apps.core.selectors import org_object_get
from apps.orgs.models import Org
from apps.sources.models import Source


def source_list(*, org: Org) -> QuerySet[Source]:
    return Source.objects.filter(org=org).order_by("id")


def source_get(*, org: Org, source_id: object) -> Source | None:
    """The org's source with this id (number or string) or name, or None."""
    return org_object_get(Source.objects.all(), org=org, ref=source_id, by_name=True)
