"""What Sluice refuses, and why, in the product's words and free of HTTP. Services,
selectors, tasks and the modules they use raise these errors, never an interface's; each
interface tells them its own way: the API's exception handler (core/errors.py, the one place
that picks an HTTP status for each kind), the admin's forms (core/admin.py).

The hierarchy, by kind:

* SluiceError
  + InvalidInput - the input is wrong; `errors` names each field at fault
    - NotJSON - the body is not JSON that Sluice can read
  + NotAuthenticated - no valid key (or session) says who asks
  + Forbidden - the key may not do this
  + NotFound - nothing exists there for this key
  + Conflict - it clashes with what exists
  + TooLarge - more than Sluice takes at once
  + Unsupported - a format or encoding that Sluice does not read
  + RateLimited - more requests than the key's or the org's rate limit; retry after `retry_after`
  + Unavailable - something Sluice needs is away; trying again after `retry_after` may work
    - DatabaseUnavailable

Apps subclass a kind for an error of their own (tracker/sessions.py's SessionExpired).

Every error carries a stable snake_case `code` (one of apps.core.codes.Code, never renamed
once shipped), a `detail` for people, the path of the field at fault in `attr` (or None) and
`errors`: its field errors as `(attr, code, detail)`; an error that is not about several
fields has one, itself.
"""

from collections.abc import Iterable
from typing import Any, ClassVar, NamedTuple, Self

from apps.core.codes import Code

RETRY_AFTER_SECONDS = 5  # told to senders when a service Sluice needs is away


class FieldProblem(NamedTuple):
    """One thing wrong with one field: its path (`schema.fields[3].type`, or None for the
    input as a whole), a code and a detail."""

    attr: str | None
    code: str
    detail: str


def _by_field(problems: Iterable[tuple[str | None, str, str]]) -> list[FieldProblem]:
    """The problems in order, except that a field's problems come together at its first:
    the order the API has always answered them in."""
    fields: dict[str | None, list[FieldProblem]] = {}
    for attr, code, detail in problems:
        fields.setdefault(attr, []).append(FieldProblem(attr, str(code), detail))
    return [problem for found in fields.values() for problem in found]


class SluiceError(Exception):
    """The base of every error Sluice raises on purpose. A kind without a code of its own
    (Unavailable) is raised through a subclass, or with `code=`."""

    default_code: ClassVar[str] = Code.SERVER_ERROR
    default_detail: ClassVar[str] = "Sluice failed to do this."

    def __init__(self, detail: str | None = None, *, code: str | None = None,
                 attr: str | None = None,
                 errors: Iterable[tuple[str | None, str, str]] | None = None) -> None:
        self.code = str(code or self.default_code)
        self.detail = self.default_detail if detail is None else detail
        self.attr = attr
        self.errors = [FieldProblem(attr, self.code, self.detail)] if errors is None \
            else _by_field(errors)
        super().__init__(self.detail)

    def extensions(self) -> dict[str, Any]:
        """Members the error's problem-details body carries beside the standard ones."""
        return {}


class InvalidInput(SluiceError):
    """The input is wrong: `errors` names each field at fault and why."""

    default_code = Code.VALIDATION_ERROR
    default_detail = "The request is not valid; see `errors` for each field."

    @classmethod
    def field(cls, attr: str, code: str, detail: str) -> Self:
        """Invalid input with one field at fault."""
        return cls(errors=[(attr, code, detail)])

    @classmethod
    def unknown_id(cls, attr: str, thing: str) -> Self:
        """Invalid input: the id in `attr` names no `thing` of this org."""
        return cls.field(attr, Code.NOT_FOUND, f"No {thing} with this id in this org.")


class NotJSON(InvalidInput):
    """The body is not JSON that Sluice can read; `reason` says where it breaks."""

    default_code = Code.PARSE_ERROR

    def __init__(self, reason: str) -> None:
        super().__init__(f"The body is not valid JSON ({reason}). Send one JSON object or array.")


class NotAuthenticated(SluiceError):
    """No valid key (or session) says who asks."""

    default_code = Code.NOT_AUTHENTICATED
    default_detail = (
        "Send a valid API key of this org as 'Authorization: ApiKey <key>' or 'x-api-key: <key>'."
    )
    challenge: ClassVar[str] = "ApiKey"  # the WWW-Authenticate that asks for what is missing


class Forbidden(SluiceError):
    """The key is known but may not do this."""

    default_code = Code.PERMISSION_DENIED
    default_detail = "This key may not do this."


class NotFound(SluiceError):
    """Nothing exists there for this key: what another org's object looks like, too."""

    default_code = Code.NOT_FOUND
    default_detail = (
        "Nothing exists at this address for your key. Check the org, the id and the key."
    )


class Conflict(SluiceError):
    """It clashes with what exists: a taken name, an object still referenced."""

    default_code = Code.CONFLICT
    default_detail = "This conflicts with what already exists."


class TooLarge(SluiceError):
    """More than Sluice takes at once: a request, a record, a count of records."""

    default_code = Code.PAYLOAD_TOO_LARGE
    default_detail = "The request is too large."


class Unsupported(SluiceError):
    """A format or an encoding that Sluice does not read."""

    default_code = Code.UNSUPPORTED_MEDIA_TYPE
    default_detail = "Sluice does not read this format."


class RateLimited(SluiceError):
    """More requests than the key's or its org's rate limit lets through: nothing was done;
    the same request after `retry_after` seconds may be taken. `headers` tell the limits."""

    default_code = Code.RATE_LIMITED
    default_detail = "Too many requests with this key or in this org."

    def __init__(self, detail: str | None = None, *, retry_after: int,
                 headers: dict[str, str]) -> None:
        super().__init__(detail)
        self.retry_after, self.headers = retry_after, headers

    def extensions(self) -> dict[str, Any]:
        return {"retryAfter": self.retry_after}


class Unavailable(SluiceError):
    """Something Sluice needs is away; nothing was done, and trying again after
    `retry_after` seconds may succeed."""

    retry_after: ClassVar[int] = RETRY_AFTER_SECONDS


class DatabaseUnavailable(Unavailable):
    """The database cannot be reached."""

    default_code = Code.DATABASE_UNAVAILABLE
    default_detail = "Sluice cannot reach its database right now. Retry soon."
