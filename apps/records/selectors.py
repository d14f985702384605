"""Every read of records and rejected records: pages newest first by cursor (the last id
seen), single records, keys, a stream in id order, and records read in another schema
version than they were written in."""

import copy
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db import connection
from django.db.models import Count, Q, QuerySet, Sum

from apps.catalog import avro
from apps.catalog.models import Collection, SchemaVersion
from apps.catalog.selectors import schema_of_version
from apps.core.codes import Code
from apps.core.exceptions import Conflict
from apps.core.ids import id_at, parse_id
from apps.core.selectors import org_object_get
from apps.orgs.models import Org
from apps.records.models import Record, RejectedDrops, RejectedRecord

if TYPE_CHECKING:
    from apps.records.services import Batch  # which imports these selectors


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


def _equal(records: QuerySet[Record], query: RecordQuery) -> QuerySet[Record]:
    for name, value in query.equals:
        records = records.filter(**{f"data__{name}": value})
    return records


def _read_back(record: Record) -> Record:
    """The record with its data as the schema version it was written with reads (float and
    double values as JSON numbers with a fraction or exponent)."""
    def schema() -> dict[str, Any]:
        return SchemaVersion.objects.values_list("schema", flat=True).get(  # type: ignore[no-any-return]
            collection_id=record.collection_id, version=record.schema_version)
    record.data = avro.reader_for(record.collection_id, record.schema_version, schema).read(
        record.data)
    return record


def record_page(*, collection: Collection, query: RecordQuery) -> tuple[list[Record], int | None]:
    records = _window(Record.objects.filter(collection=collection), query)
    page, cursor = _page(_equal(records, query), query.limit)
    return [_read_back(record) for record in page], cursor


def records_stream(*, org: Org, collection: Collection, query: RecordQuery | None = None,
                   chunk_size: int = 2000) -> Iterator[Record]:
    """Every record of the collection in `query`'s window and fields (its limit is a page's,
    not a stream's), oldest first, fetched `chunk_size` at a time through a server-side
    cursor on PostgreSQL: memory stays the same however many there are."""
    query = query or RecordQuery()
    records = _window(Record.objects.filter(org=org, collection=collection), query)
    return map(_read_back, _equal(records, query).order_by("id").iterator(chunk_size=chunk_size))


def record_data_stream(*, org: Org, collection: Collection, versions: Iterable[int],
                       chunk_size: int = 2000) -> Iterator[tuple[int, int, dict[str, Any]]]:
    """`(id, schema version, data)` of every record of the collection written in one of
    `versions`, oldest first, fetched as records_stream does: about a fifth of its cost per
    record, for scans that need no more."""
    records = Record.objects.filter(org=org, collection=collection,
                                    schema_version__in=list(versions))
    return records.order_by("id").values_list("id", "schema_version", "data").iterator(
        chunk_size=chunk_size)


def record_counts_by_version(*, org: Org, collection: Collection) -> dict[int, int]:
    """How many stored records of the collection each schema version wrote."""
    counted = Record.objects.filter(org=org, collection=collection).values(
        "schema_version").annotate(records=Count("id")).order_by()
    return {row["schema_version"]: row["records"] for row in counted}


def rejected_count(*, org: Org, collection: Collection) -> int:
    return RejectedRecord.objects.filter(org=org, collection=collection).count()


def rejected_dropped(*, org: Org, collection: Collection | None) -> int:
    """How many rejected records of the collection (or of the org) its cap dropped."""
    drops = RejectedDrops.objects.filter(org=org)
    if collection is not None:
        drops = drops.filter(collection=collection)
    return int(drops.aggregate(dropped=Sum("dropped"))["dropped"] or 0)


def rejected_full(*, collection_ids: Iterable[int]) -> dict[int, int]:
    """Of these collections, those that held their cap of rejected records at their last
    write, with how many they dropped so far."""
    return dict(RejectedDrops.objects.filter(collection_id__in=set(collection_ids), full=True)
                .values_list("collection_id", "dropped"))


def rejected_stream(*, org: Org, collection: Collection,
                    chunk_size: int = 2000) -> Iterator[RejectedRecord]:
    """Every rejected record of the collection, oldest first, as records_stream fetches."""
    rejected = RejectedRecord.objects.filter(org=org, collection=collection)
    return rejected.order_by("id").iterator(chunk_size=chunk_size)


def record_get(*, collection: Collection, record_id: object) -> Record | None:
    parsed = parse_id(record_id)
    if parsed is None:
        return None
    record = Record.objects.filter(collection=collection, id=parsed).first()
    return _read_back(record) if record else None


def written_in_version(*, collection: Collection, version: int) -> tuple[bool, bool]:
    """Whether stored records, and rejected ones, of the collection were written in schema
    version `version`."""
    return (Record.objects.filter(collection=collection, schema_version=version).exists(),
            RejectedRecord.objects.filter(collection=collection, schema_version=version).exists())


def profile_record(*, collection: Collection, key: str) -> Record | None:
    """The current record of `key` in a profile collection."""
    return Record.objects.filter(collection=collection, key=key).first()


def keys_stored(*, collection: Collection, keys: Iterable[str]) -> set[str]:
    """Which of `keys` have a stored record in the collection."""
    return set(Record.objects.filter(collection=collection, key__in=list(keys))
               .values_list("key", flat=True))


def record_keys_existing(*, wanted: Iterable[tuple[Collection, str]]) -> set[tuple[int, str]]:
    """Which of the `(collection, key)` pairs have a stored record, as `(collection id, key)`."""
    condition = Q()
    for collection, key in wanted:
        condition |= Q(collection_id=collection.id, key=key)
    if not condition:
        return set()
    return set(Record.objects.filter(condition).values_list("collection_id", "key"))


def keys_pointing_at(*, collection: Collection, identifier: str, keys: list[str]) -> list[str]:
    """The keys of the collection's records whose identifier `identifier` holds one of `keys`."""
    return list(Record.objects.filter(collection=collection).filter(
        identifier_is(identifier, keys)).values_list("key", flat=True))


def builtin_data(*, org: Org, collection: str, key: str) -> dict[str, Any] | None:
    """The current data of `key` in the org's collection named `collection`, or None."""
    record = Record.objects.filter(collection__org=org, collection__name=collection,
                                   key=key).first()
    return record.data if record else None


def builtin_data_list(*, org: Org, collection: str) -> list[dict[str, Any]]:
    """The data of every record of the org's collection named `collection`, oldest first."""
    rows = Record.objects.filter(collection__org=org, collection__name=collection)
    return list(rows.order_by("id").values_list("data", flat=True))


def builtin_field_by_key(*, org: Org, collection: str, field: str) -> dict[str, Any]:
    """Each key of the org's collection named `collection`, with the value of its `field`."""
    return dict(Record.objects.filter(collection__org=org, collection__name=collection)
                .values_list("key", f"data__{field}"))


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


def related_to(identifier: str, keys: list[str], visitor_ids: list[str]) -> Q:
    """Records whose foreign identifier `identifier` points at one of `keys`, or that were
    sent by a visitor merged into them."""
    condition = identifier_is(identifier, keys)
    if visitor_ids:
        condition |= Q(data__visitorId__in=visitor_ids)
    return condition


def related_page(*, collection: Collection, identifier: str, keys: list[str],
                 visitor_ids: list[str], query: RecordQuery) -> tuple[list[Record], int | None]:
    """Records of `collection` related to `keys` (see related_to), newest first."""
    records = Record.objects.filter(collection=collection).filter(
        related_to(identifier, keys, visitor_ids))
    page, cursor = _page(_window(records, query), query.limit)
    return [_read_back(record) for record in page], cursor


def records_in_version(*, collection: Collection, records: list[Record],
                       version: int) -> list[Record]:
    """The records as schema version `version` of the collection reads them, by Avro's
    resolution rules from the version each was written in (copies, tagged `version`; a
    record written in it is given as it is). InvalidInput when the collection has no such
    version; Conflict naming the first record that Avro's rules cannot read in it."""
    reader = (version, schema_of_version(collection=collection, version=version))
    return [record if record.schema_version == version else _read_in(collection, record, reader)
            for record in records]


def _read_in(collection: Collection, record: Record,
             reader: tuple[int, dict[str, Any]]) -> Record:
    written = schema_of_version(collection=collection, version=record.schema_version)
    resolver = avro.resolver_for(collection.id, (record.schema_version, written), reader)
    try:
        data = resolver.resolved(record.data)
    except avro.Unresolvable as error:
        raise Conflict(f"The record {record.id} of {collection.name!r}, written in schema "
                       f"version {record.schema_version}, cannot be read in version "
                       f"{reader[0]} by Avro's rules: {error}. Read it without schemaVersion, "
                       "or in a version that can read it.", code=Code.UNREADABLE_IN_VERSION,
                       attr="schemaVersion") from error
    read = copy.copy(record)  # never saved: the stored record keeps its own version
    read.data, read.schema_version = data, reader[0]
    return read


def batches_stored(*, batches: list["Batch"]) -> bool:
    """Whether every record of the batches is stored (its key holds what it sent, or what came
    after it) and every rejected record kept (or dropped past the collection's cap): what a
    sender that asked to wait waits for."""
    for batch in batches:
        keys = {record[1] for record in batch.records}
        received = datetime.fromisoformat(batch.received_at)
        if keys and Record.objects.filter(collection_id=batch.collection_id, key__in=keys,
                                          received_at__gte=received).count() < len(keys):
            return False
        rejected = [entry[0] for entry in batch.rejected]
        if rejected and RejectedRecord.objects.filter(id__in=rejected).count() < len(
                rejected) and not RejectedDrops.objects.filter(
                collection_id=batch.collection_id, last_dropped_at__gte=received).exists():
            return False
    return True
