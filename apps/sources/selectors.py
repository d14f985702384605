from django.db.models import QuerySet

from apps.core.ids import parse_id
from apps.orgs.models import Org
from apps.sources.models import Source


def source_list(*, org: Org) -> QuerySet[Source]:
    return Source.objects.filter(org=org).order_by("id")


def source_get(*, org: Org, source_id: object) -> Source | None:
    """The org's source with this id (number or string) or name, or None."""
    parsed = parse_id(source_id)
    sources = Source.objects.filter(org=org)
    if parsed is not None:
        return sources.filter(id=parsed).first()
    return sources.filter(name=str(source_id)).first()
