"""The one way an org's object is found by the reference a client sent."""

from typing import Any, TypeVar

from django.db.models import Model, QuerySet

from apps.core.ids import parse_id

M = TypeVar("M", bound=Model)


def org_object_get(objects: QuerySet[M], *, org: Any, ref: object,
                   by_name: bool = False) -> M | None:
    """The org's object with this id (a number or its string), or else, `by_name`, with this
    name; None when the org has none (whoever else has one)."""
    in_org = objects.filter(org=org)
    parsed = parse_id(ref)
    if parsed is not None:
        return in_org.filter(id=parsed).first()
    return in_org.filter(name=str(ref)).first() if by_name else None
