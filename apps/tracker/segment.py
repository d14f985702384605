"""Segment's Tracking API (identify, track, page, screen, group, alias and batch), as
Segment's and RudderStack's libraries send it, mapped to records: a track to the built-in
`events` (or to the org's collection of the event's name), a page or screen to `pages`, an
identify to `users`, a group to `accounts` and the user's membership, an alias to a users
record that stitches the previous id to the user. Pure functions: no HTTP, no ORM."""

from dataclasses import dataclass
from typing import Any

from apps.catalog.builtin_names import BuiltinCollection
from apps.tracker.mapping import (
    PAGE_FIELDS,
    USER_FIELDS,
    Clock,
    ItemProblem,
    flat_map,
    iso,
    parse_time,
    tracker_record,
)

CALLS = ("identify", "track", "page", "screen", "group", "alias")
SHORT_FORMS = {call[0]: call for call in CALLS}  # /v1/i, /v1/t, /v1/p, /v1/s, /v1/g, /v1/a


@dataclass(frozen=True)
class Routed:
    """A message's record: the collection it goes to, and whether it names only what changes
    (a profile's traits merge into what is stored)."""

    collection: str
    record: dict[str, Any]
    partial: bool = False


def messages_of(call: str, payload: Any) -> list[Any]:
    """The messages of a request: a batch's `batch`, else the one message, of type `call`."""
    if call == "batch":
        return list(payload["batch"])
    return [{**payload, "type": payload.get("type") or call}]


def _text(value: Any) -> str | None:
    """An id as Segment allows it (a string, or a number), as text."""
    if value is None or value == "":
        return None
    return value if isinstance(value, str) else str(value)


def _object(message: dict[str, Any], name: str) -> dict[str, Any]:
    value = message.get(name)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ItemProblem(name, "invalid", f"`{name}` must be a JSON object.")
    return value


def _time(value: Any) -> Any:
    """A time as Sluice keeps it (ISO, milliseconds, UTC); what is not a time, as sent, for
    validation to name."""
    moment = parse_time(value)
    return iso(moment) if moment else value


def _common(message: dict[str, Any], clock: Clock, sent_at: Any) -> dict[str, Any]:
    """What every event and page keeps: ids, the corrected time (`receivedAt - (sentAt -
    originalTimestamp)`, as Segment computes it), the times as sent, context, integrations."""
    original = message.get("originalTimestamp") or message.get("timestamp")
    return {
        "eventId": _text(message.get("messageId")), "userId": _text(message.get("userId")),
        "visitorId": _text(message.get("anonymousId")),
        "timestamp": clock.event_time(original),
        "originalTimestamp": _time(original) if original is not None else None,
        "sentAt": _time(sent_at) if sent_at is not None else None,
        "receivedAt": iso(clock.received),
        "context": flat_map(_object(message, "context")),
        "integrations": flat_map(_object(message, "integrations")),
    }


def message_records(message: Any, clock: Clock, sent_at: Any,
                    own: dict[str, dict[str, Any]]) -> list[Routed]:
    """The records of one message; `clock` and `sent_at` are the batch's (a message's own
    `sentAt` comes first), `own` the fields (`{name: type}`) of the org's collections that a
    track may name (it then goes there)."""
    if not isinstance(message, dict):
        raise ItemProblem(None, "not_an_object", "A message is a JSON object.")
    call = message.get("type")
    if message.get("sentAt"):
        sent_at, clock = message["sentAt"], Clock.of(clock.received, message["sentAt"])
    if call == "track":
        return [_track(message, clock, sent_at, own)]
    if call in ("page", "screen"):
        return [_page(message, clock, sent_at)]
    if call == "identify":
        return [_identify(message)]
    if call == "group":
        return _group(message)
    if call == "alias":
        return [_alias(message)]
    raise ItemProblem("type", "unknown_type", f"{call!r} is not a Segment call; send one of "
                      f"{', '.join(CALLS)}.")


def _required(message: dict[str, Any], name: str, why: str) -> str:
    value = _text(message.get(name))
    if value is None:
        raise ItemProblem(name, "required", f"`{name}` is required: {why}.")
    return value


def _track(message: dict[str, Any], clock: Clock, sent_at: Any,
           own: dict[str, dict[str, Any]]) -> Routed:
    """To the org's collection named as the event (validated by its schema: the Intempt way
    of declaring an event's shape), else to the built-in events."""
    event = _required(message, "event", "the event's name")
    properties = _object(message, "properties")
    if event in own:
        item = {"fields": properties, "eventId": _text(message.get("messageId")),
                "visitorId": _text(message.get("anonymousId")),
                "userId": _text(message.get("userId")),
                "timestamp": message.get("originalTimestamp") or message.get("timestamp")}
        return Routed(event, tracker_record(item, own[event], clock))
    return Routed(BuiltinCollection.EVENTS, {**_common(message, clock, sent_at), "event": event,
                                             "properties": flat_map(properties)})


def _page(message: dict[str, Any], clock: Clock, sent_at: Any) -> Routed:
    properties = dict(_object(message, "properties"))
    seen = _object(_object(message, "context"), "page")
    page = {name: properties.pop(name, None) or seen.get(name) for name in PAGE_FIELDS}
    page["url"] = page["url"] or ""
    # the libraries copy a page's name and category into its properties too
    named = {name: _text(message.get(name)) or _text(properties.get(name))
             for name in ("name", "category")}
    for name in named:
        properties.pop(name, None)
    return Routed(BuiltinCollection.PAGES, {**_common(message, clock, sent_at), **page,
                                            **named, "properties": flat_map(properties)})


def _identify(message: dict[str, Any]) -> Routed:
    user = _required(message, "userId", "Sluice keeps a user's traits on the user's profile; "
                     "traits of an anonymous visitor ride on its track and page calls")
    traits = dict(_object(message, "traits") or _object(_object(message, "context"), "traits"))
    known = {name: traits.pop(name) for name in USER_FIELDS if name in traits
             and (name != "address" or isinstance(traits[name], dict))}
    record = {"userId": user, **known, "traits": flat_map(traits)}
    if _text(message.get("anonymousId")):
        record["visitorId"] = _text(message.get("anonymousId"))
    return Routed(BuiltinCollection.USERS, record, partial=True)


def _group(message: dict[str, Any]) -> list[Routed]:
    account = _required(message, "groupId", "the account (group) the user belongs to")
    traits = dict(_object(message, "traits"))
    record: dict[str, Any] = {"accountId": account, "traits": flat_map(
        {name: value for name, value in traits.items() if name != "name"})}
    if "name" in traits:
        record["name"] = _text(traits["name"])
    routed = [Routed(BuiltinCollection.ACCOUNTS, record, partial=True)]
    user = _text(message.get("userId"))
    if user is not None:
        routed.append(Routed(BuiltinCollection.USERS, {"userId": user, "accountId": account},
                             partial=True))
    return routed


def _alias(message: dict[str, Any]) -> Routed:
    user = _required(message, "userId", "the user the previous id becomes")
    previous = _required(message, "previousId", "the id the user was known by before")
    return Routed(BuiltinCollection.USERS, {"userId": user, "visitorId": previous},
                  partial=True)
