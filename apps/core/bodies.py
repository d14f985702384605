"""Request bodies, read in one place. The WSGI wrapper turns a chunked body (sent by streaming
HTTP clients; Django reads a body only as long as its Content-Length says) into a plain one with
its length. Everything else (the size limit, gzip, strict JSON) is the one reader below, which
the parsers (core/parsers.py) call: `request.data` is the only way in."""

import io
import json
import math
import zlib
from collections.abc import Callable, Iterable, Mapping
from http import HTTPStatus
from typing import Any

import orjson

from apps.core.codes import Code
from apps.core.errors import PROBLEM_CONTENT_TYPE, problem_of, status_of
from apps.core.exceptions import InvalidInput, NotJSON, TooLarge, Unsupported

FRAMING_LIMIT = 16 * 1024 * 1024  # what a chunked body is read to; every view's limit is below
WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
DIGITS_KEPT = bytes(ord("9") if byte in b"0123456789" else ord(" ") for byte in range(256))
LONG_NUMBER = b"9" * 19  # a number orjson would turn into a float


def _dechunked(environ: dict[str, Any]) -> bytes:
    body = environ["wsgi.input"].read(FRAMING_LIMIT + 1)
    if len(body) > FRAMING_LIMIT:
        raise TooLarge("The request body is larger than 16 MB.",
                       code=Code.REQUEST_TOO_LARGE)
    return bytes(body)


def _refusal(refused: TooLarge, start_response: Callable[..., Any]) -> list[bytes]:
    status = status_of(refused) or 413
    answer = json.dumps(problem_of(refused, status)).encode()
    start_response(f"{status} {HTTPStatus(status).phrase}", [
        ("Content-Type", PROBLEM_CONTENT_TYPE), ("Content-Length", str(len(answer)))])
    return [answer]


def bodies_framed(app: WSGIApp) -> WSGIApp:
    """Wraps the WSGI application: a chunked body reaches it plain, with its length."""

    def framed(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if (environ.get("CONTENT_LENGTH") or not environ.get("wsgi.input_terminated")
                or "chunked" not in environ.get("HTTP_TRANSFER_ENCODING", "").lower()):
            return app(environ, start_response)
        try:
            body = _dechunked(environ)
        except TooLarge as refused:
            return _refusal(refused, start_response)
        environ = {**environ, "wsgi.input": io.BytesIO(body), "CONTENT_LENGTH": str(len(body))}
        environ.pop("HTTP_TRANSFER_ENCODING", None)
        return app(environ, start_response)

    return framed


def body_of(stream: Any, meta: Mapping[str, Any], limit: int, advice: str = "") -> bytes:
    """The body as sent, inflated when gzip, at most `limit` bytes either way."""
    length = meta.get("CONTENT_LENGTH") or "0"
    if length.isdigit() and int(length) > limit:
        raise _too_large(f"The request is {length} bytes", limit, advice)
    raw = stream.read(limit + 1) if stream is not None else b""
    if len(raw) > limit:
        raise _too_large("The request is longer than the limit", limit, advice)
    encoding = meta.get("HTTP_CONTENT_ENCODING", "").strip().lower()
    if encoding in ("", "identity"):
        return bytes(raw)
    if encoding != "gzip":
        raise Unsupported(f"Content-Encoding {encoding!r} is not supported: send the body as "
                          "it is, or compressed with gzip.", code=Code.UNSUPPORTED_ENCODING)
    return _inflated(raw, limit, advice)


def _inflated(body: bytes, limit: int, advice: str) -> bytes:
    inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)  # gzip framing
    try:
        plain = inflate.decompress(body, limit + 1)
    except zlib.error as error:
        raise InvalidInput(f"The body is not valid gzip ({error}). Send it compressed with "
                           "gzip, or drop Content-Encoding.", code=Code.INVALID_ENCODING) from error
    if len(plain) > limit:
        raise _too_large("The request body inflates beyond the limit", limit, advice)
    return plain


def _too_large(what: str, limit: int, advice: str) -> TooLarge:
    return TooLarge(f"{what}; at most {limit} bytes{_size(limit)} are accepted."
                    + (f" {advice}" if advice else ""), code=Code.REQUEST_TOO_LARGE)


def _size(limit: int) -> str:
    """` (16 MB)`, ` (500 KB)`, or nothing below a KB."""
    if limit % (1024 * 1024) == 0:
        return f" ({limit // (1024 * 1024)} MB)"
    return f" ({limit // 1024} KB)" if limit >= 1024 else ""


def json_of(raw: bytes) -> Any:
    """The body as JSON that PostgreSQL and Avro can hold the numbers of: no NaN or Infinity,
    no number beyond a double; integers beyond 64 bits stay integers (records name them)."""
    if not has_long_number(raw):
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError:
            pass  # the exact parser below names what is wrong, or reads what orjson cannot
    try:
        return json.loads(raw, parse_constant=_no_constant, parse_float=_finite_float)
    except RecursionError as error:
        raise NotJSON("nested too deeply") from error
    except (ValueError, UnicodeDecodeError) as error:
        raise NotJSON(str(error)) from error


def has_long_number(text: bytes) -> bool:
    """Whether `text` holds a run of 19 digits (a translation and a substring search: ten
    times faster than a regular expression over a batch)."""
    return LONG_NUMBER in text.translate(DIGITS_KEPT)


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not a JSON number; send null or a finite number")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text} is out of range for a double")
    return value
