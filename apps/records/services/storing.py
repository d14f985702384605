"""Storing records: one service stores batches, idempotent on each record's key. PostgreSQL
takes them with one binary COPY into a staging table merged into the records; SQLite with a
plain bulk upsert. The path is chosen once, by the database in use.

A batch may hold partial records: each names only the fields of a profile it changes, and is
merged into the stored record where records are merged (in the database, row locked), so that
concurrent updates of one profile all apply. A field given replaces the stored one, except a
map field given as an object (`traits`, `paymentProcessorIds`): that merges key by key.
Partial records of one key within one write are combined in order before they are merged."""

import dataclasses
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
import psycopg
from django.db import DatabaseError, InterfaceError, OperationalError, connection, transaction
from django.utils import timezone
from psycopg import postgres
from psycopg.adapt import Dumper
from psycopg.pq import Format
from psycopg.types.json import Jsonb

from apps.records.models import Record, RejectedRecord
from apps.records.services.rejected_cap import rejected_within_cap

logger = logging.getLogger("sluice.records")

# SQLSTATEs of a database failing for itself: connection exception, transaction rollback
# (serialization failure, deadlock), insufficient resources, object not in prerequisite state
# (lock_timeout), operator intervention (statement_timeout, shutdown), system error; and a
# standby in a failover, an idle transaction timed out
TRANSIENT_CLASSES = frozenset({"08", "40", "53", "55", "57", "58"})
TRANSIENT_STATES = frozenset({"25006", "25P03"})
TRANSIENT_ERRORS = (OperationalError, InterfaceError, psycopg.OperationalError,
                    psycopg.InterfaceError)
# Django wraps what psycopg raises in execute; a COPY's errors come from psycopg unwrapped
STORAGE_ERRORS = (DatabaseError, psycopg.Error)


@dataclass
class Batch:
    """What one ingestion request queued: records of one collection, as plain data."""

    org_id: int
    collection_id: int
    schema_version: int
    received_at: str
    records: list[list[Any]] = field(default_factory=list)  # [id, key, identifiers, data]
    rejected: list[list[Any]] = field(default_factory=list)  # [id, raw, errors]
    # Partial records (data: the fields given; identifiers: those whose fields are given, None
    # when no longer set) carry what a first write starts from: {"data": the schema's
    # defaults, "identifiers": theirs, "maps": the map fields, merged key by key}.
    partial: dict[str, Any] | None = None
    # [field, by, collection id]: a record that leaves `field` null and names a record of that
    # collection in `by` takes that record's `field` (and identifier), as stored when the
    # record is (an event naming only its user counts under the user's account)
    inherits: list[list[Any]] | None = None

    def as_message(self) -> dict[str, Any]:
        message = self.__dict__.copy()
        for name in ("partial", "inherits"):
            if message[name] is None:
                del message[name]  # whole records travel as they always have
        return message


@dataclass(frozen=True)
class StoreResult:
    stored: int
    rejected: int


RECORD_COLUMNS = ("id", "org_id", "collection_id", "schema_version", "key", "identifiers",
                  "received_at", "updated_at", "data")
REJECTED_COLUMNS = ("id", "org_id", "collection_id", "schema_version", "raw", "errors",
                    "received_at")
Row = tuple[Any, ...]  # a record's RECORD_COLUMNS


@dataclass(frozen=True)
class Patch:
    """What partial records of one key change: fields replaced, map fields merged key by key,
    and identifiers (None: no longer set)."""

    fields: dict[str, Any]
    maps: dict[str, Any]
    identifiers: dict[str, Any]

    @classmethod
    def of(cls, data: dict[str, Any], identifiers: dict[str, Any], maps: set[str]) -> "Patch":
        merged = {name for name, value in data.items() if name in maps and isinstance(value, dict)}
        return cls({name: value for name, value in data.items() if name not in merged},
                   {name: data[name] for name in merged}, identifiers)

    def then(self, later: "Patch") -> "Patch":
        """This patch and then `later`, as one: the later one wins where both set a field."""
        fields = {**self.fields, **later.fields}
        maps = {name: value for name, value in self.maps.items() if name not in later.fields}
        for name, value in later.maps.items():
            if name in fields:  # set whole by this patch: the later keys go into that value
                fields[name] = _map_merged(fields[name], value)
            else:
                maps[name] = _map_merged(maps.get(name), value)
        return Patch(fields, maps, {**self.identifiers, **later.identifiers})

    def applied(self, data: dict[str, Any]) -> dict[str, Any]:
        return {**data, **self.fields,
                **{name: _map_merged(data.get(name), value) for name, value in self.maps.items()}}


def _map_merged(old: Any, new: Any) -> Any:
    return {**old, **new} if isinstance(old, dict) else new


def _identifiers_patched(identifiers: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in {**identifiers, **patch}.items() if value is not None}


@dataclass(frozen=True)
class PartialRow:
    """Partial records of one key in one write, as one patch, and the record a first write of
    them starts from (the schema's defaults, with the last one's id, version and times)."""

    start: Row
    patch: Patch

    def first_write(self) -> Row:
        *head, identifiers, received, updated, data = self.start
        return (*head, _identifiers_patched(identifiers, self.patch.identifiers), received,
                updated, self.patch.applied(data))

    def over(self, row: Row) -> Row:
        """`row` (stored, or a whole record earlier in the write) with the patch applied; the
        defaults fill what an older schema version of it lacks. Same as PARTIAL_MERGE_SQL."""
        start = self.start
        return (row[0], row[1], row[2], max(row[3], start[3]), row[4],
                _identifiers_patched(row[5], self.patch.identifiers), max(row[6], start[6]),
                start[7], self.patch.applied({**start[8], **row[8]}))

    def staged(self) -> Row:
        patch = self.patch
        return (*self.first_write(), patch.fields, patch.maps, patch.identifiers)


def _record_rows(batches: list[Batch], now: datetime) -> tuple[list[Row], list[PartialRow]]:
    """One row per key: within the batches, a later whole record of a key replaces an earlier
    one, and a partial one applies over what was received before it."""
    if all(batch.partial is None for batch in batches):  # most traffic
        return _whole_rows(batches, now), []
    rows: dict[tuple[int, str], Row] = {}
    partials: dict[tuple[int, str], PartialRow] = {}
    for batch in sorted(batches, key=lambda item: datetime.fromisoformat(item.received_at)):
        if batch.partial is not None:
            _partials_added(batch, batch.partial, now, rows, partials)
            continue
        for row in _whole_rows([batch], now):
            rows[(row[2], row[4])] = row
            partials.pop((row[2], row[4]), None)
    return list(rows.values()), list(partials.values())


def _whole_rows(batches: Iterable[Batch], now: datetime) -> list[Row]:
    """One row per key: within the batches, a later record of a key replaces an earlier one."""
    rows: dict[tuple[int, str], Row] = {}
    for batch in batches:
        received = datetime.fromisoformat(batch.received_at)
        for record_id, key, identifiers, data in batch.records:
            rows[(batch.collection_id, key)] = (
                record_id, batch.org_id, batch.collection_id, batch.schema_version, key,
                identifiers, received, now, data,
            )
    return list(rows.values())


def _partials_added(batch: Batch, start: dict[str, Any], now: datetime,
                    rows: dict[tuple[int, str], Row],
                    partials: dict[tuple[int, str], PartialRow]) -> None:
    received, map_fields = datetime.fromisoformat(batch.received_at), set(start["maps"])
    for record_id, key, identifiers, data in batch.records:
        where = (batch.collection_id, key)
        partial = PartialRow((record_id, batch.org_id, batch.collection_id,
                              batch.schema_version, key, start["identifiers"], received, now,
                              start["data"]), Patch.of(data, identifiers, map_fields))
        if where in rows:
            rows[where] = partial.over(rows[where])
        elif where in partials:
            partials[where] = dataclasses.replace(
                partial, patch=partials[where].patch.then(partial.patch))
        else:
            partials[where] = partial


def _rejected_rows(batches: Iterable[Batch]) -> list[Row]:
    return [
        (rejected_id, batch.org_id, batch.collection_id, batch.schema_version, raw, errors,
         datetime.fromisoformat(batch.received_at))
        for batch in batches for rejected_id, raw, errors in batch.rejected
    ]


# ---------------------------------------------------------------------------
# PostgreSQL: binary COPY into a staging table, merged by key. A record replaces the stored one
# of its key only if it was received at or after it: drains storing at once, or a retry coming
# late, cannot bring back an older state of a profile. Partial records have a staging table of
# their own, and always apply: each changes only what it names, so one stored after a
# later-received one loses nothing of it (only where both set one field does the one stored
# last win: ordering fields exactly would take a receive time per field).
# ---------------------------------------------------------------------------
STAGE_SQL = """
CREATE TEMP TABLE IF NOT EXISTS records_stage
    (LIKE records_record INCLUDING DEFAULTS) ON COMMIT DELETE ROWS
"""
MERGE_SQL = f"""
INSERT INTO records_record ({", ".join(RECORD_COLUMNS)})
SELECT {", ".join(RECORD_COLUMNS)} FROM records_stage
ON CONFLICT (collection_id, key) DO UPDATE SET
    schema_version = EXCLUDED.schema_version, identifiers = EXCLUDED.identifiers,
    received_at = EXCLUDED.received_at, updated_at = EXCLUDED.updated_at, data = EXCLUDED.data
WHERE records_record.received_at <= EXCLUDED.received_at
"""
PARTIAL_COLUMNS = (*RECORD_COLUMNS, "patch", "maps", "identifiers_patch")
PARTIAL_STAGE_SQL = """
CREATE TEMP TABLE IF NOT EXISTS records_partial_stage
    (LIKE records_record INCLUDING DEFAULTS, patch jsonb NOT NULL, maps jsonb NOT NULL,
     identifiers_patch jsonb NOT NULL, PRIMARY KEY (collection_id, key)) ON COMMIT DELETE ROWS
"""
# The row is locked by the upsert, so the stored record merged into is the latest committed
# one. EXCLUDED.data, the first write's record, fills what an older schema version lacks.
PARTIAL_MERGE_SQL = f"""
INSERT INTO records_record AS r ({", ".join(RECORD_COLUMNS)})
SELECT {", ".join(RECORD_COLUMNS)} FROM records_partial_stage
ON CONFLICT (collection_id, key) DO UPDATE SET
    schema_version = greatest(r.schema_version, EXCLUDED.schema_version),
    received_at = greatest(r.received_at, EXCLUDED.received_at),
    updated_at = EXCLUDED.updated_at,
    (identifiers, data) = (
        SELECT jsonb_strip_nulls(r.identifiers || p.identifiers_patch),
               EXCLUDED.data || r.data || p.patch || coalesce((
                   SELECT jsonb_object_agg(field, CASE WHEN jsonb_typeof(r.data -> field)
                       = 'object' THEN (r.data -> field) || value ELSE value END)
                   FROM jsonb_each(p.maps) AS m(field, value)), '{{}}')
        FROM records_partial_stage AS p
        WHERE p.collection_id = EXCLUDED.collection_id AND p.key = EXCLUDED.key)
"""
REJECTED_SQL = f"""
INSERT INTO records_rejectedrecord ({", ".join(REJECTED_COLUMNS)})
VALUES ({", ".join(["%s"] * len(REJECTED_COLUMNS))}) ON CONFLICT (id) DO NOTHING
"""
RECORD_TYPES = ["bigint", "bigint", "bigint", "integer", "text", "jsonb", "timestamptz",
                "timestamptz", "jsonb"]
PARTIAL_TYPES = [*RECORD_TYPES, "jsonb", "jsonb", "jsonb"]


def _jsonb(value: Any) -> Jsonb:
    return Jsonb(value, dumps=_orjson_text)


def _orjson_text(value: Any) -> str:
    return orjson.dumps(value).decode()


class _OrjsonJsonbDumper(Dumper):
    """A dict as binary jsonb straight from orjson's bytes: psycopg's own Jsonb goes through
    a str, and wraps every value; this is most of what a stored record costs the worker."""

    format = Format.BINARY
    oid = postgres.types["jsonb"].oid

    def dump(self, obj: Any) -> bytes:
        return b"\x01" + orjson.dumps(obj)  # jsonb's binary format: version 1, then the text


def _copied(cursor: Any, table: str, columns: tuple[str, ...], types: list[str],
            rows: Iterable[Row]) -> None:
    cursor.adapters.register_dumper(dict, _OrjsonJsonbDumper)  # this cursor's only
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN (FORMAT BINARY)") as copy:
        copy.set_types(types)
        for row in rows:
            copy.write_row(row)


def _copy_postgresql(records: list[Row], partials: list[PartialRow],
                     rejected: list[Row]) -> None:
    with connection.cursor() as cursor:
        if records:
            cursor.execute(STAGE_SQL)
            _copied(cursor, "records_stage", RECORD_COLUMNS, RECORD_TYPES, records)
            cursor.execute(MERGE_SQL)
        if partials:
            cursor.execute(PARTIAL_STAGE_SQL)
            # a write inside a longer transaction must not merge an earlier one's rows again
            cursor.execute("DELETE FROM records_partial_stage")
            _copied(cursor, "records_partial_stage", PARTIAL_COLUMNS, PARTIAL_TYPES,
                    (partial.staged() for partial in partials))
            cursor.execute(PARTIAL_MERGE_SQL)
        if rejected:
            rows: list[Row] = [(*row[:4], _jsonb(row[4]), _jsonb(row[5]), row[6])
                               for row in rejected]
            cursor.executemany(REJECTED_SQL, rows)


# ---------------------------------------------------------------------------
# SQLite (the embedded default): a plain bulk upsert, in the order received (one worker
# process stores one request's message at a time, so partial records can be merged here, over
# the stored records read in the same transaction)
# ---------------------------------------------------------------------------
def _bulk_sqlite(records: list[Row], partials: list[PartialRow], rejected: list[Row]) -> None:
    Record.objects.bulk_create(
        [Record(**dict(zip(RECORD_COLUMNS, row, strict=True)))
         for row in [*records, *_merged_sqlite(partials)]],
        update_conflicts=True, unique_fields=["collection", "key"],
        update_fields=["schema_version", "identifiers", "received_at", "updated_at", "data"],
    )
    RejectedRecord.objects.bulk_create(
        [RejectedRecord(**dict(zip(REJECTED_COLUMNS, row, strict=True))) for row in rejected],
        ignore_conflicts=True,
    )


def _merged_sqlite(partials: list[PartialRow]) -> list[Row]:
    """Each partial row as the whole record it makes of the stored one (or a first write)."""
    keys: dict[int, list[str]] = {}
    for partial in partials:
        keys.setdefault(partial.start[2], []).append(partial.start[4])
    stored = {(row[2], row[4]): row for collection_id, some in keys.items()
              for row in Record.objects.filter(collection_id=collection_id, key__in=some)
              .values_list(*RECORD_COLUMNS)}
    return [partial.over(stored[where]) if (where := (partial.start[2], partial.start[4]))
            in stored else partial.first_write() for partial in partials]


def _writer() -> Callable[[list[Row], list[PartialRow], list[Row]], None]:
    return _copy_postgresql if connection.vendor == "postgresql" else _bulk_sqlite


def _write(batches: list[Batch]) -> None:
    now = timezone.now()
    with transaction.atomic():
        _writer()(*_record_rows(batches, now), rejected_within_cap(_rejected_rows(batches), now))
        for batch in batches:
            for field_name, by, collection_id in batch.inherits or ():
                _inherited(batch, field_name, by, collection_id)


def _inherited(batch: Batch, field_name: str, by: str, collection_id: int) -> None:
    """Fills `field_name` of the batch's records that leave it null from the records of
    `collection_id` that their `by` names, as stored now (this write included)."""
    wanting = {key: data[by] for _, key, _, data in batch.records
               if data.get(field_name) is None and data.get(by) is not None}
    if not wanting:
        return
    values = {key: value for key, value in Record.objects.filter(
        collection_id=collection_id, key__in=set(wanting.values()))
        .values_list("key", f"data__{field_name}") if value is not None}
    changed = []
    for record in Record.objects.filter(collection_id=batch.collection_id,
                                        key__in=[key for key, named in wanting.items()
                                                 if named in values]):
        value = values.get(record.data.get(by))
        if record.data.get(field_name) is None and value is not None:
            record.data[field_name] = record.identifiers[field_name] = value
            changed.append(record)
    Record.objects.bulk_update(changed, ["data", "identifiers"])


def failed_transiently(error: Exception) -> bool:
    """Whether the database failed for a reason of its own (away, a lock or statement timeout,
    a lost connection, a conflict with another transaction), not for the data it was given:
    then the write is tried again later, and no record becomes a rejected one."""
    sqlstate = getattr(error, "sqlstate", None) or getattr(error.__cause__, "sqlstate", None)
    if sqlstate:
        return str(sqlstate) in TRANSIENT_STATES or str(sqlstate)[:2] in TRANSIENT_CLASSES
    return isinstance(error, TRANSIENT_ERRORS)  # a connection lost, or SQLite's locks


def batches_store(*, batches: list[Batch]) -> StoreResult:
    """Stores the batches' records and rejected records, each exactly once whatever is
    retried. Records the database refuses become rejected records with its error, and the
    others are stored; when it fails for a reason of its own, that is raised: the records
    wait where they are, and the caller tries again."""
    try:
        _write(batches)
        return StoreResult(sum(len(b.records) for b in batches),
                           sum(len(b.rejected) for b in batches))
    except STORAGE_ERRORS as error:
        if failed_transiently(error):
            raise
        logger.warning("the database refused a write of %d batches (%s): storing record by "
                       "record", len(batches), str(error).strip())
    return _store_one_by_one(batches)


def _store_one_by_one(batches: list[Batch]) -> StoreResult:
    stored = rejected = 0
    for batch in batches:
        for record in batch.records:
            single = dataclasses.replace(batch, records=[record], rejected=[])
            try:
                _write([single])
                stored += 1
            except STORAGE_ERRORS as error:
                if failed_transiently(error):
                    raise
                _write([_as_rejected(single, record, error)])
                rejected += 1
        if batch.rejected:
            _write([dataclasses.replace(batch, records=[])])
            rejected += len(batch.rejected)
    return StoreResult(stored, rejected)


def _as_rejected(batch: Batch, record: list[Any], error: Exception) -> Batch:
    record_id, _, _, data = record
    errors = [{"attr": None, "code": "storage_failed",
               "detail": f"The database refused this record: {str(error).strip()}"}]
    return Batch(batch.org_id, batch.collection_id, batch.schema_version, batch.received_at,
                 rejected=[[record_id, data, errors]])
