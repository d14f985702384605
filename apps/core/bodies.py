"""Request bodies as Django can read them. Under WSGI Django reads a body only as long as its
Content-Length says, so a chunked body (sent by streaming HTTP clients) would look empty; and
server-side senders compress their batches with gzip, as Segment's and PostHog's APIs allow.
Both are turned here, bounded, into a plain body with its length."""

import io
import json
import zlib
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any

from apps.core.codes import Code
from apps.core.errors import PROBLEM_CONTENT_TYPE, problem_of, status_of
from apps.core.exceptions import InvalidInput, SluiceError, TooLarge, Unsupported

BODY_LIMIT = 16 * 1024 * 1024  # read or inflated; Sluice's own limits are far below
WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def _read(environ: dict[str, Any], chunked: bool) -> bytes:
    """The body as sent: to its end when chunked, else as long as its Content-Length says."""
    length = environ.get("CONTENT_LENGTH") or "0"
    body = environ["wsgi.input"].read(
        BODY_LIMIT + 1 if chunked or not length.isdigit() else min(int(length), BODY_LIMIT + 1))
    if len(body) > BODY_LIMIT:
        raise TooLarge("The request body is larger than 16 MB.", code=Code.REQUEST_TOO_LARGE)
    return bytes(body)


def _inflated(body: bytes) -> bytes:
    inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)  # gzip framing
    try:
        plain = inflate.decompress(body, BODY_LIMIT + 1)
    except zlib.error as error:
        raise InvalidInput(f"The body is not valid gzip ({error}). Send it compressed with "
                           "gzip, or drop Content-Encoding.", code=Code.INVALID_ENCODING) from error
    if len(plain) > BODY_LIMIT:
        raise TooLarge("The request body inflates to more than 16 MB.",
                       code=Code.REQUEST_TOO_LARGE)
    return plain


def _plain_body(environ: dict[str, Any], encoding: str, chunked: bool) -> bytes:
    if encoding not in ("", "identity", "gzip"):
        raise Unsupported(f"Content-Encoding {encoding!r} is not supported: send the body as "
                          "it is, or compressed with gzip.", code=Code.UNSUPPORTED_ENCODING)
    body = _read(environ, chunked)
    return _inflated(body) if encoding == "gzip" else body


def bodies_framed(app: WSGIApp) -> WSGIApp:
    """Wraps the WSGI application: chunked and gzip bodies reach it plain, with their length."""

    def framed(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        encoding = environ.get("HTTP_CONTENT_ENCODING", "").strip().lower()
        chunked = (not environ.get("CONTENT_LENGTH") and bool(environ.get("wsgi.input_terminated"))
                   and "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower())
        if not chunked and encoding in ("", "identity"):
            return app(environ, start_response)
        try:
            body = _plain_body(environ, encoding, chunked)
        except SluiceError as refused:
            status = status_of(refused) or 500
            answer = json.dumps(problem_of(refused, status)).encode()
            start_response(f"{status} {HTTPStatus(status).phrase}", [
                ("Content-Type", PROBLEM_CONTENT_TYPE), ("Content-Length", str(len(answer)))])
            return [answer]
        environ = {**environ, "wsgi.input": io.BytesIO(body), "CONTENT_LENGTH": str(len(body))}
        environ.pop("HTTP_CONTENT_ENCODING", None)
        environ.pop("HTTP_TRANSFER_ENCODING", None)
        return app(environ, start_response)

    return framed

