"""What the tests of Segment's own libraries share: reading Sluice's records back, and the
records Sluice keeps of a message as it went over the wire (the contract of the Segment door,
written out from the message, not from Sluice's code)."""

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

JS = Path(__file__).resolve().parent / "js"  # package.json pinning the libraries, send.mjs
PAGE_FIELDS = ("url", "title", "referrer", "path")
USER_FIELDS = ("email", "firstName", "lastName", "phone")


def read(api: Any, collection: str, **equal: str) -> list[dict[str, Any]]:
    """The `data` of a collection's records whose fields equal `equal` (at most 1000)."""
    answer = api.get(f"/collections/{collection}/data", params={**equal, "limit": 1000})
    assert answer.status_code == 200, answer.text
    return [record["data"] for record in answer.json()["_embedded"]["records"]]


def flat(values: dict[str, Any]) -> dict[str, Any]:
    """A map as Sluice keeps it: scalars as they are, objects and lists as their JSON text."""
    return {name: json.dumps(value, ensure_ascii=False) if isinstance(value, dict | list)
            else value for name, value in values.items()}


def moment(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def received_between(record: dict[str, Any], start: datetime, end: datetime) -> str:
    """The record's receivedAt, checked to fall while the test ran."""
    received = record["receivedAt"]
    assert start <= moment(received) <= end, (received, start, end)
    return str(received)


def times(message: dict[str, Any], sent_at: str, received: str) -> dict[str, Any]:
    """The times kept of an event or page: the sender's, and the corrected timestamp
    receivedAt - (sentAt - originalTimestamp)."""
    original = message.get("originalTimestamp") or message["timestamp"]
    corrected = moment(received) - (moment(sent_at) - moment(original))
    return {"timestamp": iso(corrected), "originalTimestamp": original, "sentAt": sent_at,
            "receivedAt": received}


def event_record(message: dict[str, Any], sent_at: str, received: str,
                 account: str | None = None) -> dict[str, Any]:
    """The built-in `events` record of a track message."""
    return {
        "eventId": message["messageId"], "event": message["event"], "feature": None,
        "userId": message.get("userId"), "accountId": account, "productId": None,
        "visitorId": message.get("anonymousId"), **times(message, sent_at, received),
        "properties": flat(message.get("properties") or {}),
        "context": flat(message.get("context") or {}),
        "integrations": flat(message.get("integrations") or {}),
    }


def page_record(message: dict[str, Any], sent_at: str, received: str,
                account: str | None = None) -> dict[str, Any]:
    """The built-in `pages` record of a page or screen message: url, title, referrer and path
    from the properties, else from context.page; name and category; the other properties."""
    properties = dict(message.get("properties") or {})
    seen = (message.get("context") or {}).get("page") or {}
    lifted = {name: properties.pop(name, None) or seen.get(name) for name in PAGE_FIELDS}
    name = message.get("name") or properties.get("name")
    category = message.get("category") or properties.get("category")
    rest = {k: v for k, v in properties.items() if k not in ("name", "category")}
    return {
        "eventId": message["messageId"], **lifted, "url": lifted["url"] or "",
        "userId": message.get("userId"), "accountId": account,
        "visitorId": message.get("anonymousId"), **times(message, sent_at, received),
        "properties": flat(rest), "name": name, "category": category,
        "context": flat(message.get("context") or {}),
        "integrations": flat(message.get("integrations") or {}),
    }


def user_fields(traits: dict[str, Any]) -> dict[str, Any]:
    """The users record's fields of identify traits: the known ones, and the others in
    `traits`."""
    return {**{name: traits.get(name) for name in USER_FIELDS},
            "traits": flat({k: v for k, v in traits.items() if k not in USER_FIELDS})}
