"""Logs as JSON lines, one object a line, from the web server and the workers alike; each line
written while a request is answered carries its request id (and its org, once known). A key
never reaches a line: whatever looks like one is masked, wherever it stands.

The standard library's loggers stay the interface (`logging.getLogger(...)`); structlog's
ProcessorFormatter turns their records into JSON (or, for people at a terminal, aligned text:
SLUICE_LOG_FORMAT=console)."""

import re
import secrets
from typing import Any

import structlog
from structlog.contextvars import bind_contextvars, clear_contextvars, get_contextvars
from structlog.typing import EventDict, Processor, WrappedLogger

MASK = "[masked]"
# Keys are `sluice_<kind>_<random>`; a header or field that carries a credential is masked
# whatever it holds (a Segment library sends its write key base64-encoded, as Basic auth).
_KEY = re.compile(r"sluice_([a-z]{2})_[A-Za-z0-9_-]+")
_CREDENTIAL_NAMES = r"authorization|x-api-key|api[_-]?key|write[_-]?key|secret[_-]?key|token"
_CREDENTIAL_IN_TEXT = re.compile(
    rf"""((?:{_CREDENTIAL_NAMES})["']?\s*[:=]\s*["']?)(?:(?:apikey|bearer|basic)\s+)?"""
    r"""[^\s"',;&}]+""", re.IGNORECASE)
_CREDENTIAL_NAME = re.compile(rf"^(?:http_)?(?:{_CREDENTIAL_NAMES})$", re.IGNORECASE)
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:@/+=-]{1,128}")


def masked_text(text: str) -> str:
    """`text` with every key, and every credential named in it, masked."""
    if "sluice_" in text:
        text = _KEY.sub(lambda found: f"sluice_{found.group(1)}_{MASK}", text)
    return _CREDENTIAL_IN_TEXT.sub(lambda found: found.group(1) + MASK, text)


def _masked(value: Any) -> Any:
    if isinstance(value, str):
        return masked_text(value)
    if isinstance(value, dict):
        return {name: MASK if isinstance(name, str) and _CREDENTIAL_NAME.match(name)
                else _masked(item) for name, item in value.items()}
    if isinstance(value, list | tuple):
        return [_masked(item) for item in value]
    if value is None or isinstance(value, bool | int | float):
        return value
    return masked_text(str(value))  # an object (a request) is written as its text: masked


def mask_credentials(_: WrappedLogger, __: str, event: EventDict) -> EventDict:
    """A structlog processor: the event with every key masked, in names and values."""
    return _masked(event)  # type: ignore[no-any-return]


def formatter(log_format: str = "json") -> structlog.stdlib.ProcessorFormatter:
    """The formatter of every handler: JSON lines, or `console` (aligned text) for people."""
    renderer: Processor = (structlog.dev.ConsoleRenderer(colors=False) if log_format == "console"
                           else structlog.processors.JSONRenderer())
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[
            structlog.contextvars.merge_contextvars,
            structlog.stdlib.add_log_level,
            structlog.stdlib.add_logger_name,
            structlog.stdlib.ExtraAdder(),
            structlog.processors.TimeStamper(fmt="iso", utc=True),
        ],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            mask_credentials,
            renderer,
        ],
    )


def config(level: str, log_format: str) -> dict[str, Any]:
    """Django's LOGGING (and gunicorn's logconfig_dict): everything to stderr, formatted."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"sluice": {"()": "apps.core.logs.formatter", "log_format": log_format}},
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "sluice"}},
        "root": {"handlers": ["console"], "level": level},
        "loggers": {"httpx": {"level": "WARNING"}, "httpcore": {"level": "WARNING"}},
    }


# ---------------------------------------------------------------------------
# What every line written while answering a request carries
# ---------------------------------------------------------------------------
def request_id_of(asked: str | None) -> str:
    """The request id a sender gave (X-Request-ID) when it is a plain token of at most 128
    characters and no key; else a new one."""
    if asked and _REQUEST_ID.fullmatch(asked) and masked_text(asked) == asked:
        return asked
    return secrets.token_hex(16)


def request_begun(request_id: str) -> None:
    """From here on, this thread's lines carry the request id (and no earlier request's)."""
    clear_contextvars()
    bind_contextvars(request_id=request_id)


def org_known(slug: str) -> None:
    """The request's lines carry the org its key belongs to from here on."""
    bind_contextvars(org=slug)


def request_id() -> str:
    """The id of the request being answered (a new one outside a request)."""
    return str(get_contextvars().get("request_id") or secrets.token_hex(16))


def task_begun(name: str, task_id: str) -> None:
    """A worker's lines carry the task they are written for."""
    clear_contextvars()
    bind_contextvars(task=name, task_id=task_id)


def ended() -> None:
    """The request or task is over: its lines are written."""
    clear_contextvars()
