"""What one ingestion request may hold: size limits, and JSON that PostgreSQL and Avro can
hold. Everything here answers before anything is queued."""

import json
from typing import Any

import orjson

from apps.core.bodies import has_long_number
from apps.core.codes import Code
from apps.core.exceptions import InvalidInput, TooLarge

MAX_REQUEST_BYTES = 500 * 1024
MAX_RECORD_BYTES = 32 * 1024
MAX_RECORDS = 2500
MAX_DEPTH = 32
REQUEST_ADVICE = "Send fewer records per request."


def check_count(count: int) -> None:
    if count > MAX_RECORDS:
        raise TooLarge(f"The request holds {count} records; at most {MAX_RECORDS} are accepted "
                       "per request. Split it.", code=Code.TOO_MANY_RECORDS)


def check_record(record: Any, path: str) -> None:
    """Too large, or invalid input naming the record (and the field) Sluice cannot take."""
    if not isinstance(record, dict):
        raise InvalidInput.field(path, Code.NOT_AN_OBJECT, "A record is a JSON object.")
    try:
        dumped: bytes | None = orjson.dumps(record)
    except orjson.JSONEncodeError:  # a lone surrogate, or an integer beyond 64 bits
        dumped = None
    size = len(dumped) if dumped is not None else len(json.dumps(
        record, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "surrogatepass"))
    if size > MAX_RECORD_BYTES:
        raise TooLarge(f"{path} is {size} bytes; a record may be at most {MAX_RECORD_BYTES} "
                       "bytes (32 KB).", code=Code.RECORD_TOO_LARGE)
    if dumped is None or _may_be_unstorable(dumped):
        problem = _unstorable(record, path, 0)
        if problem:
            raise InvalidInput(errors=[problem])


def _may_be_unstorable(dumped: bytes) -> bool:
    """False when the serialized record cannot hold a NUL, a too-deep nesting or an integer
    beyond a long: then the exact (slower) walk is skipped."""
    return (b"\\u0000" in dumped or dumped.count(b"[") + dumped.count(b"{") > MAX_DEPTH
            or has_long_number(dumped))


def _unstorable(value: Any, path: str, depth: int) -> tuple[str, str, str] | None:
    if depth > MAX_DEPTH:
        return (path, Code.TOO_DEEP, f"Nested deeper than {MAX_DEPTH} levels.")
    if isinstance(value, str):
        return _bad_string(value, path)
    if isinstance(value, int) and not -(2**63) <= value < 2**63:
        return (path, Code.OUT_OF_RANGE, f"{value} does not fit any Avro number (a 64-bit long).")
    if isinstance(value, dict):
        for key, item in value.items():
            found = _bad_string(key, f"{path}.{_readable(key)}") or _unstorable(
                item, f"{path}.{key}", depth + 1)
            if found:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = _unstorable(item, f"{path}[{index}]", depth + 1)
            if found:
                return found
    return None


def _bad_string(value: str, path: str) -> tuple[str, str, str] | None:
    if "\x00" in value:
        return (path, Code.NUL_CHARACTER, "Strings may not contain the NUL character (\\u0000).")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return (path, Code.LONE_SURROGATE, "Strings may not contain a lone UTF-16 surrogate.")
    return None


def _readable(name: str) -> str:
    """A field's name as a path can show it: a lone surrogate (which no UTF-8 answer can
    carry) as its escape."""
    return name.encode("utf-8", "backslashreplace").decode("utf-8")
