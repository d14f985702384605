"""Reads of records, newest first, paged by cursor (the last id seen)."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection
from django.db.models import Q, QuerySet

from apps.catalog.models import Collection
from apps.core.ids import id_at, parse_id
from apps.core.selectors import org_object_get
from apps.orgs.models import Org
from apps.records.models import Record, RejectedRecord


@dataclass(frozen=True)
class RecordQuery:
    """Which records to read: `before` is the cursor, `since`/`until` bound the time Sluice
    accepted them (their time-ordered ids), `equals` holds top-level field values."""

    limit: int = 100
    before: int | None = None
    since: datetime | None = None
    until: datetime | None = None
    equals: tuple[tuple[str, Any], ...] = ()


def _window(records: QuerySet[Any], query: RecordQuery) -> QuerySet[Any]:
    if query.before is not None:
        records = records.filter(id__lt=query.before)
    if query.since is not None:
        records = records.filter(id__gte=id_at(int(query.since.timestamp() * 1000)))
    if query.until is not None:
        records = records.filter(id__lt=id_at(int(query.until.timestamp() * 1000) + 1))
    return records


def _page(records: QuerySet[Any], limit: int) -> tuple[list[Any], int | None]:
    """Up to `limit` rows and the cursor of the next page (None on the last)."""
    rows = list(records.order_by("-id")[: limit + 1])
    if len(rows) > limit:
        return rows[:limit], rows[limit - 1].id
    return rows, None


def record_page(*, collection: Collection, query: RecordQuery) -> tuple[list[Record], int | None]:
    records = _window(Record.objects.filter(collection=collection), query)
    for name, value in query.equals:
        records = records.filter(**{f"data__{name}": value})
    return _page(records, query.limit)


def record_get(*, collection: Collection, record_id: object) -> Record | None:
    parsed = parse_id(record_id)
    if parsed is None:
        return None
    return Record.objects.filter(collection=collection, id=parsed).first()


def rejected_page(*, org: Org, collection: Collection | None,
                  query: RecordQuery) -> tuple[list[RejectedRecord], int | None]:
    rejected = RejectedRecord.objects.filter(org=org)
    if collection is not None:
        rejected = rejected.filter(collection=collection)
    return _page(_window(rejected, query), query.limit)


def rejected_get(*, org: Org, rejected_id: object) -> RejectedRecord | None:
    return org_object_get(RejectedRecord.objects.all(), org=org, ref=rejected_id)


def rejected_for_replay(*, org: Org, ids: list[int] | None,
                        collection: Collection | None) -> QuerySet[RejectedRecord]:
    rejected = RejectedRecord.objects.filter(org=org).select_related("collection")
    if ids is not None:
        rejected = rejected.filter(id__in=ids)
    if collection is not None:
        rejected = rejected.filter(collection=collection)
    return rejected.order_by("id")


def identifier_is(name: str, keys: list[str]) -> Q:
    """Records whose identifier `name` holds one of `keys`; on PostgreSQL as containment, which
    the GIN index on identifiers answers."""
    if connection.vendor != "postgresql":
        return Q(**{f"identifiers__{name}__in": keys})
    condition = Q()
    for key in keys:
        condition |= Q(identifiers__contains={name: key})
    return condition


def related_page(*, collection: Collection, identifier: str, keys: list[str],
                 visitor_ids: list[str], query: RecordQuery) -> tuple[list[Record], int | None]:
    """Records of `collection` whose foreign identifier points at one of `keys` (or that were
    sent by a visitor merged into them), newest first."""
    condition = identifier_is(identifier, keys)
    if visitor_ids:
        condition |= Q(data__visitorId__in=visitor_ids)
    records = Record.objects.filter(collection=collection).filter(condition)
    return _page(_window(records, query), query.limit)
