"""Writes of the browser front doors. Each item is shaped into a record of the collection it
names, then goes through the ingestion pipeline as any record does (checked, validated,
keyed, one queue message per request); answers index items by their place in `batch`."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from apps.catalog import avro
from apps.catalog.builtin_names import BuiltinCollection
from apps.catalog.builtins import (
    BUILTIN_NAMES,
    builtin_collections_ensure,
    builtin_inherits,
    builtins_current,
)
from apps.catalog.builtins import SOURCE_NAME as BUILTIN_SOURCE
from apps.catalog.models import Collection, Identifier
from apps.core.actors import SLUICE
from apps.core.codes import Code
from apps.core.exceptions import FieldProblem, InvalidInput, TooLarge
from apps.ingestion import limits
from apps.ingestion.services import Outcome, batches_enqueue, collection_batch, scope_checked
from apps.orgs.models import Org
from apps.records.selectors import record_keys_existing
from apps.records.services import Batch
from apps.tracker import mapping, segment
from apps.tracker.mapping import Clock, ItemProblem, SessionUser
from apps.tracker.selectors import collections_named
from apps.tracker.sessions import CollectorSession


@dataclass
class Routed:
    """One item on its way: its place in the batch, the collection it names, its record."""

    index: int
    collection: str
    record: dict[str, Any]
    partial: bool = False  # names only what changes of a profile


def batch_of(payload: Any) -> list[Any]:
    """The `batch` list of a tracker or collector body; invalid input when there is none, too
    large when it holds too many items."""
    if not isinstance(payload, dict):
        raise InvalidInput.field("body", Code.INVALID, "Send one JSON object with a `batch` array.")
    items = payload.get("batch")
    if not isinstance(items, list):
        raise InvalidInput.field("batch", Code.REQUIRED if items is None else Code.INVALID,
                                 "`batch` must be a JSON array of items.")
    limits.check_count(len(items))
    return items


def _reject(outcome: Outcome, index: int, problems: list[dict[str, Any]]) -> None:
    outcome.rejected.append({"index": index, "errors": problems})


def _checked(item: Any, index: int, outcome: Outcome) -> bool:
    """Whether Sluice can take the item at all (an object it can store); if not, the item
    alone is rejected, so that one bad item does not hold back the others."""
    where = f"batch[{index}]"
    try:
        limits.check_record(item, where)
    except (InvalidInput, TooLarge) as error:
        _reject(outcome, index, [_within(problem, where) for problem in error.errors])
        return False
    return True


def _within(problem: FieldProblem, where: str) -> dict[str, Any]:
    """A problem of the item at `where`, its path relative to the item."""
    attr = problem.attr.removeprefix(where).lstrip(".") if problem.attr else None
    return {"attr": attr or None, "code": problem.code, "detail": problem.detail}


def _problem(error: ItemProblem) -> dict[str, Any]:
    return {"attr": error.attr, "code": error.code, "detail": error.detail}


def _unusable(name: str, collection: Collection | None) -> dict[str, Any] | None:
    if collection is None:
        return {"attr": "collection", "code": "unknown_collection",
                "detail": f"This org has no collection named {name!r}. Create it first "
                "(POST /v1/<org>/collections) or correct the name."}
    if not any(i.type == Identifier.Type.PRIMARY for i in collection.identifiers.all()):
        return {"attr": "collection", "code": "no_primary_identifier",
                "detail": f"The collection {name!r} has no primary identifier, and records "
                "are keyed by it. Add one first: POST /v1/<org>/identifiers."}
    return None


def _batches(routed: list[Routed], collections: dict[str, Collection],
             outcome: Outcome) -> list[Batch]:
    """One batch per collection (and per kind: whole or partial records), answers re-indexed
    to the items' places in the request. Built-in records take what they inherit (see
    builtin_inherits)."""
    groups: dict[tuple[str, bool], list[Routed]] = {}
    problems = {name: _unusable(name, collections.get(name))
                for name in {item.collection for item in routed}}
    for item in routed:
        problem = problems[item.collection]
        if problem is not None:
            _reject(outcome, item.index, [problem])
        else:
            groups.setdefault((item.collection, item.partial), []).append(item)
    inherits = builtin_inherits(collections)
    batches = []
    for (name, partial), items in groups.items():
        own = Outcome()
        batch = collection_batch(collection=collections[name], outcome=own, partial=partial,
                                 records=[item.record for item in items])
        batch.inherits = inherits.get(name)
        batches.append(batch)
        outcome.accepted += own.accepted
        for entry in [*own.rejected, *own.warnings]:
            entry["index"] = items[entry["index"]].index
        outcome.rejected.extend(own.rejected)
        outcome.warnings.extend(own.warnings)
    outcome.rejected.sort(key=lambda entry: entry["index"])
    outcome.warnings.sort(key=lambda entry: entry["index"])
    return batches


def _shaped(collection: Collection | None, record: dict[str, Any]) -> dict[str, Any]:
    """A record of a built-in collection keeps the fields its schema lacks in its catch-all
    map (properties or traits) instead of dropping them."""
    if collection is None or collection.source.name != BUILTIN_SOURCE:
        return record
    into = mapping.CATCH_ALL.get(collection.name)
    fields = {field["name"] for field in collection.schema["fields"]}
    return mapping.fold_extras(record, fields, into) if into and into in fields else record


# ---------------------------------------------------------------------------
# The Intempt-style tracker: POST /v1/<org>/track
# ---------------------------------------------------------------------------
def _tracker_item(item: Any, index: int, collections: dict[str, Collection], clock: Clock
                  ) -> Routed:
    if not isinstance(item.get("collection"), str) or not item["collection"]:
        raise ItemProblem("collection", "required",
                          "Name the collection of the item in `collection`.")
    collection = collections.get(item["collection"])
    fields = avro.fields_of(collection.schema) if collection else {}
    record = mapping.tracker_record(item, fields, clock)
    return Routed(index, item["collection"], _shaped(collection, record))


def _routed(items: list[Any], outcome: Outcome,
            route: Callable[[dict[str, Any], int], Routed]) -> list[Routed]:
    """Each well-formed item routed to its collection; one that cannot be is rejected."""
    routed = []
    for index, item in enumerate(items):
        if not _checked(item, index, outcome):
            continue
        try:
            routed.append(route(item, index))
        except ItemProblem as error:
            _reject(outcome, index, [_problem(error)])
    return routed


def track_ingest(*, org: Org, payload: Any, received: datetime,
                 only_source: int | None = None) -> Outcome:
    """Validates and queues, in one message, the tracker batch's records of any of the
    org's collections (only of source `only_source` and the built-in ones, when given),
    each addressed by its name."""
    items = batch_of(payload)
    names = [i["collection"] for i in items if isinstance(i, dict)
             and isinstance(i.get("collection"), str)]
    collections = collections_named(org=org, names=names)
    scope_checked(only_source=only_source, collections=collections.values())
    clock = Clock.of(received, payload.get("sentAt"))
    outcome = Outcome()
    routed = _routed(items, outcome, lambda item, index: _tracker_item(item, index, collections,
                                                                       clock))
    batches_enqueue(_batches(routed, collections, outcome), outcome)
    return outcome


# ---------------------------------------------------------------------------
# The Churn360-style usage collector: POST /api/collect
# ---------------------------------------------------------------------------
def _profiles_wanted(user: SessionUser, routed: list[Routed]
                     ) -> dict[tuple[str, Any], dict[str, Any]]:
    """The session's user and every account the batch names (the session's customer or one
    identify named), as minimal records; an anonymous session names none."""
    accounts = {item.record.get("accountId") for item in routed} | {user.account_id}
    wanted: dict[tuple[str, Any], dict[str, Any]] = {
        (BuiltinCollection.ACCOUNTS, account): mapping.account_record(account)
        for account in sorted(a for a in accounts if isinstance(a, str))}
    if user.email:
        wanted[(BuiltinCollection.USERS, user.email)] = mapping.session_user_record(user)
    return wanted


def _profiles_missing(user: SessionUser, routed: list[Routed],
                      collections: dict[str, Collection]) -> list[Routed]:
    """The accounts and the session's user as records, for those not stored yet and not in
    this batch. Only missing ones are written: a profile record replaces the whole earlier
    one, and these minimal records must not erase what identify or the Fuzy API stored."""
    wanted = _profiles_wanted(user, routed)
    for item in routed:
        account = item.collection == BuiltinCollection.ACCOUNTS
        key = item.record.get("accountId" if account else "userId")
        wanted.pop((item.collection, key), None)
    wanted = {(name, key): record for (name, key), record in wanted.items()
              if name in collections}
    existing = record_keys_existing(wanted=[(collections[name], key) for name, key in wanted])
    return [Routed(-1, name, record) for (name, key), record in wanted.items()
            if (collections[name].id, key) not in existing]


def collect_ingest(*, session: CollectorSession, payload: Any, received: datetime) -> Outcome:
    """Validates and queues, in one message, a collector batch: page views to `pages`, track
    calls to `events`, identify calls to `users`, all keyed to the session's customer and
    user (none in an anonymous session: then by visitorId alone); the accounts and the
    session's user are created when they do not exist yet."""
    items = batch_of(payload)
    collections = collections_named(org=session.org, names=[
        BuiltinCollection.PAGES, BuiltinCollection.EVENTS, BuiltinCollection.USERS,
        BuiltinCollection.ACCOUNTS])
    user = SessionUser(session.customer_identifier, session.user_email)
    clock = Clock.of(received, payload.get("sentAt"))

    def route(item: dict[str, Any], index: int) -> Routed:
        name, record = mapping.collector_record(item, user, clock)
        return Routed(index, name, _shaped(collections.get(name), record))

    outcome = Outcome()
    routed = _routed(items, outcome, route)
    profiles = _batches(_profiles_missing(user, routed, collections), collections,
                        Outcome()) if routed else []
    batches_enqueue([*profiles, *_batches(routed, collections, outcome)], outcome)
    return outcome


# ---------------------------------------------------------------------------
# Segment's Tracking API: POST /v1/batch, /v1/track, /v1/identify, ...
# ---------------------------------------------------------------------------
def segment_messages(call: str, payload: Any) -> list[Any]:
    """The messages of a Segment request (`call`: a call's name, or "batch")."""
    if not isinstance(payload, dict):
        raise InvalidInput.field("body", Code.INVALID, "Send one JSON object: a message, or "
                                 "{\"batch\": [messages...]} to /v1/batch.")
    if call == "batch" and not isinstance(payload.get("batch"), list):
        raise InvalidInput.field("batch", Code.REQUIRED if payload.get("batch") is None
                                 else Code.INVALID, "`batch` must be a JSON array of messages.")
    messages = segment.messages_of(call, payload)
    limits.check_count(len(messages))
    return messages


def segment_ingest(*, org: Org, call: str, payload: Any, received: datetime,
                   only_source: int | None = None) -> Outcome:
    """Validates and queues, in one message, what a Segment request's messages make: tracks
    in `events` (or the org's collection of the event's name), pages and screens in `pages`,
    identify and alias in `users`, group in `accounts` and the user's membership. Answers
    index the messages by their place in the batch."""
    messages = segment_messages(call, payload)
    names = [*BUILTIN_NAMES, *(m["event"] for m in messages if isinstance(m, dict)
                               and m.get("type") == "track" and isinstance(m.get("event"), str))]
    collections = collections_named(org=org, names=names)
    if not builtins_current(collections):  # an org made by an earlier Sluice
        builtin_collections_ensure(actor=SLUICE, org=org)
        collections = collections_named(org=org, names=names)
    scope_checked(only_source=only_source, collections=collections.values())
    fields = {name: avro.fields_of(collection.schema) for name, collection in collections.items()
              if name not in BUILTIN_NAMES}
    outcome = Outcome()
    routed: list[Routed] = []
    clock = Clock.of(received, payload.get("sentAt"))
    for index, message in enumerate(messages):
        if not _checked(message, index, outcome):
            continue
        try:
            found = segment.message_records(message, clock, payload.get("sentAt"), fields)
        except ItemProblem as error:
            _reject(outcome, index, [_problem(error)])
            continue
        routed += [Routed(index, r.collection, r.record, r.partial) for r in found]
    batches_enqueue(_batches(routed, collections, outcome), outcome)
    return outcome
