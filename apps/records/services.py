"""Writes of records: one service stores batches, idempotent on each record's key. PostgreSQL
takes them with one binary COPY into a staging table merged into the records; SQLite with a
plain bulk upsert. The path is chosen once, by the database in use."""

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

    def as_message(self) -> dict[str, Any]:
        return self.__dict__.copy()


@dataclass(frozen=True)
class StoreResult:
    stored: int
    rejected: int


RECORD_COLUMNS = ("id", "org_id", "collection_id", "schema_version", "key", "identifiers",
                  "received_at", "updated_at", "data")
REJECTED_COLUMNS = ("id", "org_id", "collection_id", "schema_version", "raw", "errors",
                    "received_at")


def _record_rows(batches: Iterable[Batch], now: datetime) -> list[tuple[Any, ...]]:
    """One row per key: within the batches, a later record of a key replaces an earlier one."""
    rows: dict[tuple[int, str], tuple[Any, ...]] = {}
    for batch in batches:
        received = datetime.fromisoformat(batch.received_at)
        for record_id, key, identifiers, data in batch.records:
            rows[(batch.collection_id, key)] = (
                record_id, batch.org_id, batch.collection_id, batch.schema_version, key,
                identifiers, received, now, data,
            )
    return list(rows.values())


def _rejected_rows(batches: Iterable[Batch]) -> list[tuple[Any, ...]]:
    return [
        (rejected_id, batch.org_id, batch.collection_id, batch.schema_version, raw, errors,
         datetime.fromisoformat(batch.received_at))
        for batch in batches for rejected_id, raw, errors in batch.rejected
    ]


# ---------------------------------------------------------------------------
# PostgreSQL: binary COPY into a staging table, merged by key. A record replaces the stored one
# of its key only if it was received at or after it: drains storing at once, or a retry coming
# late, cannot bring back an older state of a profile.
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
REJECTED_SQL = f"""
INSERT INTO records_rejectedrecord ({", ".join(REJECTED_COLUMNS)})
VALUES ({", ".join(["%s"] * len(REJECTED_COLUMNS))}) ON CONFLICT (id) DO NOTHING
"""
RECORD_TYPES = ["bigint", "bigint", "bigint", "integer", "text", "jsonb", "timestamptz",
                "timestamptz", "jsonb"]


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


def _copy_postgresql(records: list[tuple[Any, ...]], rejected: list[tuple[Any, ...]]) -> None:
    with connection.cursor() as cursor:
        if records:
            cursor.execute(STAGE_SQL)
            cursor.adapters.register_dumper(dict, _OrjsonJsonbDumper)  # this cursor's only
            columns = ", ".join(RECORD_COLUMNS)
            with cursor.copy(f"COPY records_stage ({columns}) FROM STDIN (FORMAT BINARY)") as copy:
                copy.set_types(RECORD_TYPES)
                for row in records:
                    copy.write_row(row)
            cursor.execute(MERGE_SQL)
        if rejected:
            cursor.executemany(REJECTED_SQL, [
                (*row[:4], _jsonb(row[4]), _jsonb(row[5]), row[6]) for row in rejected
            ])


# ---------------------------------------------------------------------------
# SQLite (the embedded default): a plain bulk upsert, in the order received (one worker
# process stores one request's message at a time)
# ---------------------------------------------------------------------------
def _bulk_sqlite(records: list[tuple[Any, ...]], rejected: list[tuple[Any, ...]]) -> None:
    Record.objects.bulk_create(
        [Record(**dict(zip(RECORD_COLUMNS, row, strict=True))) for row in records],
        update_conflicts=True, unique_fields=["collection", "key"],
        update_fields=["schema_version", "identifiers", "received_at", "updated_at", "data"],
    )
    RejectedRecord.objects.bulk_create(
        [RejectedRecord(**dict(zip(REJECTED_COLUMNS, row, strict=True))) for row in rejected],
        ignore_conflicts=True,
    )


def _writer() -> Callable[[list[tuple[Any, ...]], list[tuple[Any, ...]]], None]:
    return _copy_postgresql if connection.vendor == "postgresql" else _bulk_sqlite


def _write(batches: list[Batch]) -> None:
    with transaction.atomic():
        _writer()(_record_rows(batches, timezone.now()), _rejected_rows(batches))


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
            single = Batch(batch.org_id, batch.collection_id, batch.schema_version,
                           batch.received_at, records=[record])
            try:
                _write([single])
                stored += 1
            except STORAGE_ERRORS as error:
                if failed_transiently(error):
                    raise
                _write([_as_rejected(single, record, error)])
                rejected += 1
        if batch.rejected:
            _write([Batch(batch.org_id, batch.collection_id, batch.schema_version,
                          batch.received_at, rejected=batch.rejected)])
            rejected += len(batch.rejected)
    return StoreResult(stored, rejected)


def _as_rejected(batch: Batch, record: list[Any], error: Exception) -> Batch:
    record_id, _, _, data = record
    errors = [{"attr": None, "code": "storage_failed",
               "detail": f"The database refused this record: {str(error).strip()}"}]
    return Batch(batch.org_id, batch.collection_id, batch.schema_version, batch.received_at,
                 rejected=[[record_id, data, errors]])


def record_delete(*, record: Record) -> None:
    record.delete()


def rejected_update(*, rejected: RejectedRecord, errors: list[dict[str, Any]],
                    schema_version: int) -> None:
    rejected.errors, rejected.schema_version = errors, schema_version
    rejected.save(update_fields=["errors", "schema_version"])
