"""How the browser front doors' items become records: system fields, clock-skew correction,
and the usage collector's page/track/identify calls in the built-in collections' shape.
Pure functions: no HTTP, no ORM."""

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from apps.catalog.builtin_names import BuiltinCollection

SYSTEM_FIELDS = ("eventId", "visitorId", "userId", "timestamp")
# What the browser tracker puts on every item it sends (userId only once identify names one).
STAMPED = ("eventId", "visitorId", "timestamp")
# Where a built-in collection keeps what its schema has no field for.
CATCH_ALL: dict[str, str] = {
    BuiltinCollection.PAGES: "properties", BuiltinCollection.EVENTS: "properties",
    BuiltinCollection.USERS: "traits", BuiltinCollection.ACCOUNTS: "traits"}
SCALARS = (str, int, float, bool, type(None))
PAGE_FIELDS = ("url", "title", "referrer", "path")
TRACK_FIELDS = ("event", "feature")
USER_FIELDS = ("email", "firstName", "lastName", "phone", "address")
# The keys under which a caller may hand its additional fields.
PROPERTY_KEYS = ("properties", "fields", "additionalFields")
ITEM_KEYS = frozenset({"type", "eventId", "visitorId", "userId", "accountId", "timestamp", "traits",
                       *PAGE_FIELDS, *TRACK_FIELDS, *PROPERTY_KEYS})


class ItemProblem(Exception):
    """An item that cannot become a record: `(attr, code, detail)` relative to the item."""

    def __init__(self, attr: str | None, code: str, detail: str) -> None:
        super().__init__(detail)
        self.attr, self.code, self.detail = attr, code, detail


def parse_time(value: Any) -> datetime | None:
    """An ISO time as an aware datetime (UTC when it names no zone), or None."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class Clock:
    """The server's receive time and how far the sender's clock is behind it."""

    received: datetime
    skew: timedelta = timedelta(0)

    @classmethod
    def of(cls, received: datetime, sent_at: Any) -> "Clock":
        sent = parse_time(sent_at)
        return cls(received, received - sent if sent else timedelta(0))

    def event_time(self, timestamp: Any) -> Any:
        """The item's time on the server's clock; the receive time when it has none. A value
        that is not a time is kept as sent, for validation to name."""
        if timestamp is None:
            return iso(self.received)
        moment = parse_time(timestamp)
        return iso(moment + self.skew) if moment else timestamp


def system_fields(item: dict[str, Any], clock: Clock) -> dict[str, Any]:
    return {"eventId": item.get("eventId"), "visitorId": item.get("visitorId"),
            "userId": item.get("userId"), "timestamp": clock.event_time(item.get("timestamp"))}


def _holds_long(field_type: Any) -> bool:
    """Whether a field keeps time as a number (epoch milliseconds) rather than ISO text."""
    if isinstance(field_type, list):
        return "string" not in field_type and any(_holds_long(b) for b in field_type)
    if isinstance(field_type, dict):
        field_type = field_type.get("type")
    return bool(field_type == "long")


def _as_field_time(value: Any, field_type: Any) -> Any:
    moment = parse_time(value) if _holds_long(field_type) else None
    return round(moment.timestamp() * 1000) if moment else value


def tracker_record(item: dict[str, Any], schema_fields: dict[str, Any], clock: Clock
                   ) -> dict[str, Any]:
    """The record of a tracker item: its `fields`, completed with the system fields that the
    schema (`{name: type}`) has and the fields lack; the others are left out, unwarned."""
    fields = item.get("fields", {})
    if not isinstance(fields, dict):
        raise ItemProblem("fields", "invalid", "`fields` must be a JSON object.")
    record = dict(fields)
    for name in SYSTEM_FIELDS:
        if name in schema_fields and record.get(name) is None:
            value = clock.event_time(item.get(name)) if name == "timestamp" else item.get(name)
            if value is not None:
                record[name] = value
    if "timestamp" in schema_fields and "timestamp" not in fields and "timestamp" in record:
        record["timestamp"] = _as_field_time(record["timestamp"], schema_fields["timestamp"])
    return record


def _flat(value: Any) -> Any:
    """A catch-all map holds scalars; anything else is kept as its JSON text."""
    return value if isinstance(value, SCALARS) else json.dumps(value, ensure_ascii=False)


def fold_extras(record: dict[str, Any], schema_fields: Any, into: str) -> dict[str, Any]:
    """Moves the fields the schema lacks into its catch-all map field `into`."""
    kept = {name: value for name, value in record.items() if name in schema_fields}
    extras = {name: value for name, value in record.items() if name not in schema_fields}
    current = kept.get(into)
    merged = {**(current if isinstance(current, dict) else {}), **extras}
    if merged or isinstance(current, dict):
        kept[into] = {str(name): _flat(value) for name, value in merged.items()}
    return kept


# ---------------------------------------------------------------------------
# The usage collector (Churn360): page, track, identify
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class SessionUser:
    """Who a collector session is about: the customer (account) and the user; neither is
    known in a session started with the key alone."""

    account_id: str | None
    email: str | None


def _properties(item: dict[str, Any]) -> dict[str, Any]:
    properties: dict[str, Any] = {}
    for key in PROPERTY_KEYS:
        value = item.get(key)
        if value is not None and not isinstance(value, dict):
            raise ItemProblem(key, "invalid", f"`{key}` must be a JSON object.")
        properties.update(value or {})
    properties.update({k: v for k, v in item.items() if k not in ITEM_KEYS})
    return properties


def _lift(item: dict[str, Any], properties: dict[str, Any], names: tuple[str, ...]
          ) -> dict[str, Any]:
    """The named fields from the item, or else from its properties (taken out of them)."""
    return {name: item[name] if item.get(name) is not None else properties.pop(name, None)
            for name in names}


def collector_record(item: Any, user: SessionUser, clock: Clock) -> tuple[str, dict[str, Any]]:
    """The built-in collection and record of one collector call. Records are keyed to the
    customer (accountId: the item's, set by identify, else the session's), the user (the
    userId the item carries, set by identify, else the session's email) and the visitor;
    an anonymous visitor's page views and track calls have only the visitorId."""
    if not isinstance(item, dict):
        raise ItemProblem(None, "not_an_object", "An item is a JSON object.")
    kind = item.get("type")
    user_id = item.get("userId") or user.email
    account_id = item.get("accountId") or user.account_id
    common = {**system_fields(item, clock), "userId": user_id, "accountId": account_id}
    if kind == "page":
        properties = _properties(item)
        fields = _lift(item, properties, PAGE_FIELDS)
        return BuiltinCollection.PAGES, {**common, **fields, "properties": flat_map(properties)}
    if kind == "track":
        properties = _properties(item)
        fields = _lift(item, properties, TRACK_FIELDS)
        return BuiltinCollection.EVENTS, {**common, **fields, "properties": flat_map(properties)}
    if kind == "identify":
        return BuiltinCollection.USERS, identify_record(item, user, user_id)
    raise ItemProblem("type", "unknown_type",
                      f"{kind!r} is not a collector call; send \"page\", \"track\" or "
                      "\"identify\".")


def flat_map(values: dict[str, Any]) -> dict[str, Any]:
    return {str(name): _flat(value) for name, value in values.items()}


def identify_record(item: dict[str, Any], user: SessionUser, user_id: str | None
                    ) -> dict[str, Any]:
    """The users record of identify(traits, userId): known traits to their fields, the rest
    to `traits`; the email is the session's when the traits have none. Without a userId or
    a session email, the user is the traits' email, and `customerIdentifier` in the traits
    names the customer when the item does not."""
    traits = item.get("traits", {})
    if not isinstance(traits, dict):
        raise ItemProblem("traits", "invalid", "`traits` must be a JSON object.")
    traits = {**_properties({k: v for k, v in item.items() if k != "traits"}), **traits}
    known = {name: traits.pop(name) for name in USER_FIELDS if name in traits}
    traits.pop("userId", None)
    customer = traits.pop("customerIdentifier", None)
    user_id = user_id or known.get("email")
    if not user_id:
        raise ItemProblem("userId", "required", "This session names no user: call "
                          "identify(traits, userId) or put the user's email in the traits.")
    account_id = item.get("accountId") or customer or user.account_id
    return {"userId": user_id, "accountId": account_id,
            "visitorId": item.get("visitorId"), **known,
            "email": known.get("email") or user.email, "traits": flat_map(traits)}


def session_user_record(user: SessionUser) -> dict[str, Any]:
    return {"userId": user.email, "accountId": user.account_id, "email": user.email}


def account_record(account_id: str) -> dict[str, Any]:
    return {"accountId": account_id}
