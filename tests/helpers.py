"""Small builders and checks shared by tests: the builders go through the live HTTP API like a
user; `refused` checks the code of an error a service raises."""

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import httpx
import pytest

from tests.fixtures import schema

T = TypeVar("T")

CURL_FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def create_source(api: httpx.Client, name: str = "mywebsource", **fields: Any) -> dict[str, Any]:
    body = {"name": name, "title": "myWebSource", "type": "web", **fields}
    response = api.post("/sources", json=body)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def create_collection(api: httpx.Client, source_id: str, name: str = "flight-booking",
                      avro: dict[str, Any] | None = None, **fields: Any) -> dict[str, Any]:
    body = {"sourceId": source_id, "name": name, "profile": False, "event": True,
            "schema": avro or schema("flight-booking"), **fields}
    response = api.post("/collections", json=body)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def key_schema(name: str, *fields: tuple[str, str]) -> dict[str, Any]:
    return {"type": "record", "name": name, "namespace": "com.intempt.data.source.web",
            "fields": [{"name": field, "type": kind} for field, kind in fields]}


def create_identifier(api: httpx.Client, coll_id: str, kind: str = "primary",
                      name: str = "profileId", fields: tuple[tuple[str, str], ...] = (
                          ("eventId", "string"),), **extra: Any) -> dict[str, Any]:
    body = {"collId": coll_id, "type": kind, "name": name,
            "schema": key_schema(name, *fields), **extra}
    response = api.post("/identifiers", json=body)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def flight_collection(api: httpx.Client) -> int:
    """A new collection of the seed's flight bookings, keyed by eventId: its id."""
    collection = create_collection(api, create_source(api)["id"])
    create_identifier(api, collection["id"])
    return int(collection["id"])


def problem(status: int, code: str, detail: str,
            errors: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The exact error body Sluice answers."""
    from http import HTTPStatus

    return {
        "type": f"urn:sluice:problem:{code}", "title": HTTPStatus(status).phrase,
        "status": status, "code": code, "detail": detail,
        "errors": errors if errors is not None else [{"code": code, "detail": detail,
                                                       "attr": None}],
    }


VALIDATION = "The request is not valid; see `errors` for each field."
NOT_FOUND = "Nothing exists at this address for your key. Check the org, the id and the key."
NOT_AUTHENTICATED = (
    "Send a valid API key of this org as 'Authorization: ApiKey <key>' or 'x-api-key: <key>'."
)
WRITE_KEY = (
    "This is a write key: it can only send records. Use a secret key of this org to manage it."
)


def hal_links(base: str, self_path: str, **onward: str) -> dict[str, dict[str, str]]:
    """`_links` as Sluice answers them: `self`, then the links that lead on, each path made
    absolute on `base` (e.g. the live server's `/v1/<org>`)."""
    return {name: {"href": f"{base}{path}"} for name, path in {"self": self_path,
                                                                **onward}.items()}


def org_base(api: Any) -> str:
    """The absolute `/v1/<org>` of a live API client of one org."""
    return f"{api.root}/v1/{api.org.slug}"


def validation(*errors: tuple[str, str, str]) -> dict[str, Any]:
    """A 400 body with `(attr, code, detail)` field errors."""
    return problem(400, "validation_error", VALIDATION, [
        {"attr": attr, "code": code, "detail": detail} for attr, code, detail in errors
    ])


def wait_for(check: Callable[[], T], timeout: float = 30.0, interval: float = 0.1) -> T:
    """Polls `check` until it returns something truthy; fails after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting after {timeout}s; last result {result!r}")
        time.sleep(interval)


def stored_keys(coll_id: int, count: int) -> list[str]:
    """The keys of the collection's records, once `count` of them are stored."""
    from apps.records.models import Record

    stored = Record.objects.filter(collection_id=coll_id)
    wait_for(lambda: stored.count() == count, timeout=60)
    return sorted(stored.values_list("key", flat=True))


def codes_of(error: BaseException) -> set[str]:
    """The stable codes an error carries (`get_codes()`, `.code`, its field errors' codes),
    whatever its class: unit tests of services assert the code, never the exception class."""
    found: set[str] = set()

    def collect(codes: Any) -> None:
        if isinstance(codes, dict):
            for value in codes.values():
                collect(value)
        elif isinstance(codes, list | tuple):
            for value in codes:
                collect(value)
        elif isinstance(codes, str):
            found.add(codes)

    if callable(getattr(error, "get_codes", None)):
        collect(error.get_codes())  # type: ignore[attr-defined]
    collect(getattr(error, "code", None))
    for problem in getattr(error, "errors", None) or []:  # the field errors of Sluice's own
        collect(getattr(problem, "code", None))
    return found


@contextmanager
def refused(code: str) -> Iterator[None]:
    """Expects the block to raise an error carrying `code` (see codes_of)."""
    with pytest.raises(Exception) as raised:  # noqa: B017  (the class is not the contract)
        yield
    assert code in codes_of(raised.value), f"{raised.value!r} carries {codes_of(raised.value)}"
