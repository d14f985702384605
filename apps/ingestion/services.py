"""The ingestion pipeline up to the queue: records are checked, completed with their system
fields, validated against the collection's current schema (or the version the sender names),
keyed, and sent as one message."""

import os
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connection
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError
from redis.exceptions import RedisError

from apps.catalog import avro
from apps.catalog.models import Collection, Identifier
from apps.catalog.selectors import schema_of_version
from apps.core.codes import Code
from apps.core.exceptions import Conflict, Forbidden, InvalidInput, Unavailable
from apps.core.ids import new_id
from apps.ingestion import buffer, limits, metrics, tasks
from apps.records.models import RejectedRecord
from apps.records.selectors import keys_stored, rejected_full
from apps.records.services import Batch, rejected_delete, rejected_update


class QueueUnavailable(Unavailable):
    """The queue (the broker or the ingestion buffer) cannot take records."""

    default_code = Code.QUEUE_UNAVAILABLE
    default_detail = "Sluice cannot queue records right now; nothing was accepted. Retry soon."


@dataclass
class Outcome:
    """What the sender is told: how many were accepted, and why the others were not."""

    accepted: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[dict[str, Any]] = field(default_factory=list)
    queued: list[Batch] = field(default_factory=list)  # what a sender may wait to be stored

    def as_body(self) -> dict[str, Any]:
        return {"accepted": self.accepted, "rejected": self.rejected, "warnings": self.warnings}


def scope_checked(*, only_source: int | None, collections: Iterable[Collection]) -> None:
    """Refuses a sender whose key sends only to the collections of source `only_source` (a
    web source's write key) when it names a collection of another source; the org's
    built-in collections, which every front door writes, are open to it."""
    if only_source is None:
        return
    from apps.catalog.builtins import collection_is_builtin  # builtins imports this module

    for collection in collections:
        if collection.source_id != only_source and not collection_is_builtin(collection):
            raise Forbidden(
                f"This key sends only to the collections of its own source, and the "
                f"collection {collection.name!r} is of another source. Send its records with "
                "a write key of that source, or of the whole org.",
                code=Code.OUTSIDE_KEY_SCOPE, attr="collection")


def primary_identifier(identifiers: list[Identifier], collection: Collection) -> Identifier:
    for identifier in identifiers:
        if identifier.type == Identifier.Type.PRIMARY:
            return identifier
    raise Conflict(
        f"The collection {collection.name!r} has no primary identifier, and records are keyed "
        "by it. Add one first: POST /v1/<org>/identifiers with collId, type \"primary\", name "
        "and the schema of the fields that identify a record.",
        code=Code.NO_PRIMARY_IDENTIFIER,
    )


def _with_system_fields(record: dict[str, Any], fields: dict[str, Any],
                        received_at: str) -> dict[str, Any]:
    """Fills eventId (so a retry is stored once) and receivedAt when the schema has them."""
    if "eventId" in fields and record.get("eventId") is None:
        record = {**record, "eventId": str(uuid.uuid4())}
    if "receivedAt" in fields and "receivedAt" not in record:
        record = {**record, "receivedAt": received_at}
    return record


def _identifier_values(identifiers: list[Identifier], data: dict[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for identifier in identifiers:
        found = [data.get(name) for name in identifier.field_names]
        if any(value is not None for value in found):
            values[identifier.name] = found[0] if len(found) == 1 else found
    return values


def record_key(values: list[Any]) -> str:
    return str(values[0]) if len(values) == 1 else "\x1f".join(map(str, values))


def _key_problems(primary: Identifier, data: dict[str, Any]) -> list[avro.RecordProblem]:
    return [(name, Code.REQUIRED, f"The field {name!r} is required: it identifies the record "
             f"(primary identifier {primary.name!r}).")
            for name in primary.field_names if data.get(name) is None]


def record_problems(*, validator: avro.RecordValidator, primary: Identifier,
                    record: dict[str, Any], received_at: str) -> list[avro.RecordProblem]:
    """What ingestion would find wrong with `record` under `validator`'s schema, keyed by
    `primary`: [] when it would be accepted."""
    data, _ = validator.split(_with_system_fields(record, validator.fields, received_at))
    return validator.problems(data) or _key_problems(primary, data)


def collection_batch(*, collection: Collection, records: list[Any], outcome: Outcome,
                     label: dict[str, Any] | None = None, partial: bool = False,
                     version: int | None = None) -> Batch:
    """Validates `records` of one collection into a batch, telling `outcome` about each:
    against schema version `version` (InvalidInput if there is none), else the current one,
    and tagged with it. Partial records name only the fields they change (see
    _partial_batch)."""
    version = collection.schema_version if version is None else version
    schema = schema_of_version(collection=collection, version=version)
    identifiers = list(collection.identifiers.all())
    primary = primary_identifier(identifiers, collection)
    validator = avro.validator_for(collection.id, version, schema)
    received_at = timezone.now().isoformat()
    batch = Batch(collection.org_id, collection.id, version, received_at)
    if partial:
        return _partial_batch(collection, batch, identifiers, primary, validator, records,
                              outcome, label)
    for index, raw in enumerate(records):
        record = _with_system_fields(raw, validator.fields, received_at)
        fields, unknown = validator.split(record)
        checked = validator.check(fields)
        data = checked.data
        problems = checked.problems or _key_problems(primary, data)
        where = _told(outcome, label, index, unknown + checked.unknown)
        if problems:
            _rejected(batch, outcome, where, record, problems)
            continue
        key = record_key([data[name] for name in primary.field_names])
        batch.records.append([new_id(), key, _identifier_values(identifiers, data), data])
        outcome.accepted += 1
    return batch


def _told(outcome: Outcome, label: dict[str, Any] | None, index: int,
          unknown: list[str]) -> dict[str, Any]:
    """Where the record stands in the request; warns of the fields not in the schema."""
    where = {**(label or {}), "index": index}
    if unknown:
        outcome.warnings.append({**where, "fields": unknown, "detail": "Fields not in the "
                                 f"schema were not stored: {', '.join(unknown)}."})
    return where


def _rejected(batch: Batch, outcome: Outcome, where: dict[str, Any], record: dict[str, Any],
              problems: list[avro.RecordProblem]) -> None:
    errors = [{"attr": attr, "code": code, "detail": detail} for attr, code, detail in problems]
    batch.rejected.append([new_id(), record, errors])
    outcome.rejected.append({**where, "errors": errors})


@dataclass
class _Partial:
    """A partial record as checked: its key and fields once valid, else its problems."""

    record: dict[str, Any]
    unknown: list[str]
    key: str = ""
    fields: dict[str, Any] = field(default_factory=dict)  # the schema fields given
    problems: list[avro.RecordProblem] = field(default_factory=list)
    missing: list[avro.RecordProblem] = field(default_factory=list)  # for a first write


def _partial_batch(collection: Collection, batch: Batch, identifiers: list[Identifier],
                   primary: Identifier, validator: avro.RecordValidator, records: list[Any],
                   outcome: Outcome, label: dict[str, Any] | None) -> Batch:
    """Partial records: the fields each names must be valid, and its key given. A field the
    schema requires without a default may be left out once the record exists (stored, or
    made whole earlier in the batch); a first write fills the others with their defaults."""
    checked = [_partial_checked(validator, identifiers, primary,
                                _with_system_fields(raw, validator.fields, batch.received_at))
               for raw in records]
    wanting = [item.key for item in checked if item.missing and not item.problems]
    whole = keys_stored(collection=collection, keys=wanting)  # none asked: no query
    for index, item in enumerate(checked):
        where = _told(outcome, label, index, item.unknown)
        problems = item.problems or ([] if item.key in whole else item.missing)
        if problems:
            _rejected(batch, outcome, where, item.record, problems)
            continue
        whole.add(item.key)
        batch.records.append([new_id(), item.key, _identifier_patch(identifiers, item.fields),
                              item.fields])
        outcome.accepted += 1
    defaults = {name: spec["default"] for name, spec in validator.fields.items()
                if "default" in spec}
    batch.partial = {"data": defaults, "identifiers": _identifier_values(identifiers, defaults),
                     "maps": [name for name, spec in validator.fields.items()
                              if _is_map(spec["type"])]}
    return batch


def _partial_checked(validator: avro.RecordValidator, identifiers: list[Identifier],
                     primary: Identifier, record: dict[str, Any]) -> _Partial:
    fields, unknown = validator.split(record)
    checked = validator.check(fields)
    data = checked.data
    item = _Partial(record, unknown + checked.unknown)
    given = {name for name in record if name in validator.fields}
    for problem in checked.problems:
        named = problem[0].split(".")[0].split("[")[0] in given | set(primary.field_names)
        (item.problems if named else item.missing).append(problem)
    item.problems = (item.problems or _key_problems(primary, data)
                     or _identifier_gaps(identifiers, given))
    if not item.problems:
        item.key = record_key([data[name] for name in primary.field_names])
        item.fields = {name: data[name] for name in given}
    return item


def _identifier_gaps(identifiers: list[Identifier], given: set[str]
                     ) -> list[avro.RecordProblem]:
    """An identifier of several fields is changed whole: all of its fields, or none."""
    return [(name, "required", f"A partial record gives every field of the identifier "
             f"{identifier.name!r} or none of them.")
            for identifier in identifiers if given & set(identifier.field_names)
            for name in identifier.field_names if name not in given]


def _identifier_patch(identifiers: list[Identifier], patch: dict[str, Any]) -> dict[str, Any]:
    """The values of the identifiers whose fields the patch gives; None: no longer set."""
    values: dict[str, Any] = {}
    for identifier in identifiers:
        if all(name in patch for name in identifier.field_names):
            values[identifier.name] = _identifier_values([identifier], patch).get(
                identifier.name)
    return values


def _is_map(field_type: Any) -> bool:
    branches = field_type if isinstance(field_type, list) else [field_type]
    return any(isinstance(branch, dict) and branch.get("type") == "map" for branch in branches)


def check_records(records: list[Any], path: str) -> None:
    """Rejects, before anything is queued, records Sluice cannot take at all."""
    for index, record in enumerate(records):
        limits.check_record(record, f"{path}[{index}]")


def _buffered(message: buffer.Message) -> None:
    buffer.push(message, schedule_drain=tasks.drain_scheduled)


def _queued(message: buffer.Message) -> None:
    # kwargsrepr spares Celery a repr of every record for the message headers
    tasks.store.apply_async(kwargs={"message": message}, kwargsrepr=f"{{batches: {len(message)}}}")


# With Redis, requests go to the ingestion buffer; without it, one Celery message each.
_enqueue = _buffered if settings.REDIS_URL else _queued


def batches_enqueue(batches: list[Batch], outcome: Outcome | None = None) -> None:
    """Queues the request's batches as one message: answered 202 only once it is queued.
    `outcome`, the answer's, keeps them for a sender that waits until they are stored."""
    if outcome is not None:
        outcome.queued.extend(batches)
    message = [batch.as_message() for batch in batches if batch.records or batch.rejected]
    if not message:
        return
    try:
        _enqueue(message)
    except (BrokerError, RedisError) as error:
        raise QueueUnavailable() from error
    metrics.batches_queued(batches)
    if outcome is not None and outcome.rejected:
        _drops_told(outcome, batches)


def _drops_told(outcome: Outcome, batches: list[Batch]) -> None:
    """Warns when records rejected here are past their collection's cap: counted as dropped,
    not kept."""
    full = rejected_full(collection_ids=[batch.collection_id for batch in batches
                                         if batch.rejected])
    for collection_id, dropped in full.items():
        outcome.warnings.append({
            "collId": str(collection_id), "code": Code.REJECTED_DROPPED, "dropped": dropped,
            "detail": "This collection holds its cap of rejected records: records rejected "
            "now are counted as dropped, not kept (`dropped`: so far). Replay or wait for "
            "older ones to pass their retention period, or raise the org's cap."})


def health() -> dict[str, Any]:
    """Whether this web process reaches what ingestion needs (the database and the queue) and,
    with Redis, what waits in the ingestion buffer, whether workers keep up with it, and
    whether Redis may evict it."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        database = True
    except DatabaseError:
        database = False
    queue = buffer.reachable() if settings.REDIS_URL else os.access(
        settings.BROKER_DIR / "queue", os.W_OK)
    return {"status": "ok" if database and queue else "unavailable",
            "database": "ok" if database else "unreachable",
            "queue": "ok" if queue else "unreachable",
            "buffer": _buffer_state() if settings.REDIS_URL and queue else None}


def _buffer_state() -> dict[str, Any] | None:
    try:
        shards = buffer.waiting(timezone.now())
    except RedisError:
        return None
    policy = buffer.eviction_policy()
    ages = [shard["oldestSeconds"] for shard in shards if shard["oldestSeconds"] is not None]
    oldest = max(ages, default=None)
    return {"evictionPolicy": policy, "safe": policy == "noeviction", "shards": shards,
            "oldestSeconds": oldest, "workers": workers_state(oldest),
            "behindAfterSeconds": settings.DRAIN_BEHIND_SECONDS}


def workers_state(oldest_seconds: float | None) -> str:
    """`idle` when nothing waits to be stored, `draining` while what waits is younger than
    DRAIN_BEHIND_SECONDS, `behind` once it is older: workers are stopped, or too few."""
    if oldest_seconds is None:
        return "idle"
    return "behind" if oldest_seconds >= settings.DRAIN_BEHIND_SECONDS else "draining"


def records_of(payload: Any) -> list[Any]:
    """One record, `{"records": [...]}` or a JSON array, as a list of records."""
    if isinstance(payload, list):
        return payload
    if isinstance(payload, dict) and set(payload) == {"records"}:
        if not isinstance(payload["records"], list):
            raise InvalidInput.field("records", Code.INVALID, "`records` must be a JSON array.")
        return payload["records"]
    return [payload]


def collection_ingest(*, collection: Collection, payload: Any,
                      version: int | None = None) -> Outcome:
    """Validates and queues the records of one collection, written in schema version
    `version` (else the current one)."""
    records = records_of(payload)
    limits.check_count(len(records))
    check_records(records, "records")
    outcome = Outcome()
    batch = collection_batch(collection=collection, records=records, outcome=outcome,
                             version=version)
    batches_enqueue([batch], outcome)
    return outcome


def source_ingest(*, collections: dict[str, Collection], payload: dict[str, list[Any]],
                  partial: frozenset[str] = frozenset(),
                  inherits: dict[str, list[list[Any]]] | None = None) -> Outcome:
    """Validates and queues records of several collections of one source, in one message;
    those of the collections named in `partial` are partial records, and those of the
    collections in `inherits` fill fields they leave null as it says (see Batch.inherits)."""
    limits.check_count(sum(len(records) for records in payload.values()))
    for name, records in payload.items():
        check_records(records, name)
    outcome = Outcome()
    batches = []
    for name, records in payload.items():
        batch = collection_batch(collection=collections[name], records=records,
                                 outcome=outcome, label={"collection": name},
                                 partial=name in partial)
        batch.inherits = (inherits or {}).get(name)
        batches.append(batch)
    batches_enqueue(batches, outcome)
    return outcome


@dataclass
class ReplayOutcome:
    replayed: int = 0
    still_rejected: list[dict[str, Any]] = field(default_factory=list)

    def as_body(self) -> dict[str, Any]:
        return {"replayed": self.replayed, "stillRejected": len(self.still_rejected),
                "rejected": self.still_rejected}


def rejected_replay(*, rejected: list[RejectedRecord]) -> ReplayOutcome:
    """Validates rejected records again against their collection's current schema: those that
    pass are queued (and then leave the rejected list); the others keep their new reasons."""
    replay = ReplayOutcome()
    by_collection: dict[int, list[RejectedRecord]] = {}
    for item in rejected:
        by_collection.setdefault(item.collection_id, []).append(item)
    for items in by_collection.values():
        collection = items[0].collection
        outcome = Outcome()
        batch = collection_batch(collection=collection, records=[i.raw for i in items],
                                 outcome=outcome)
        batch.rejected = []  # the failing ones stay where they are, with today's reasons
        batches_enqueue([batch])
        failing = {entry["index"]: entry["errors"] for entry in outcome.rejected}
        for index, item in enumerate(items):
            if index in failing:
                rejected_update(rejected=item, errors=failing[index],
                                schema_version=collection.schema_version)
                replay.still_rejected.append({"id": str(item.id), "errors": failing[index]})
        passed = [item for index, item in enumerate(items) if index not in failing]
        rejected_delete(rejected=passed)
        replay.replayed += len(passed)
    return replay
