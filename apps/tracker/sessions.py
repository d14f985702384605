"""Usage-collector sessions: a signed, timestamped token naming the org, the key and, when the
page knows them, the customer and the user. Any web process verifies it with the secret key
alone (no shared memory); it expires after 20 minutes, and a token whose key was revoked is
refused."""

from dataclasses import dataclass
from typing import Any

from django.core import signing

from apps.core.codes import Code
from apps.core.exceptions import NotAuthenticated
from apps.orgs.models import ApiKey, Org
from apps.orgs.services import api_key_used
from apps.tracker.selectors import api_key_live

SESSION_SECONDS = 20 * 60
SALT = "sluice.tracker.collector-session"


class SessionExpired(NotAuthenticated):
    """The session token is expired, forged, or of a revoked key: initialize a new one."""

    default_code = Code.SESSION_EXPIRED
    default_detail = ("The session token has expired or is not valid. Call POST /api/initialize "
                      "again for a new one, then resend.")


@dataclass(frozen=True)
class CollectorSession:
    """A browser session of a write (or secret) key: it may only send records. A session
    started with the key alone has no customer and no user."""

    org: Org
    key: ApiKey
    customer_identifier: str | None
    user_email: str | None
    is_secret = False
    kind = "write"

    @property
    def source_id(self) -> int | None:
        return self.key.source_id

    @property
    def org_id(self) -> int:
        return self.org.id

    @property
    def key_id(self) -> int:
        return self.key.id

    @property
    def org_slug(self) -> str:
        return self.org.slug


def session_token(*, key: ApiKey, customer_identifier: str | None = None,
                  user_email: str | None = None) -> str:
    """A new session token of `key` for this customer and user, or for an anonymous visitor."""
    claims = {"org": key.org_id, "key": key.id, "customer": customer_identifier,
              "email": user_email}
    return signing.dumps(claims, salt=SALT, compress=True)


def _claims(token: Any, max_age: int | None) -> dict[str, Any]:
    if not isinstance(token, str) or not token:
        raise signing.BadSignature("no token")
    claims = signing.loads(token, salt=SALT, max_age=max_age)
    if not isinstance(claims, dict):
        raise signing.BadSignature("not a session")
    return claims


def session_of(token: Any) -> CollectorSession:
    """The live session of `token`; SessionExpired when it is expired, forged or its key was
    revoked."""
    try:
        claims = _claims(token, SESSION_SECONDS)
    except signing.SignatureExpired as error:
        raise SessionExpired() from error
    except signing.BadSignature as error:
        raise SessionExpired("The session token is not valid. Call POST /api/initialize for a "
                             "new one.") from error
    key = api_key_live(org_id=claims["org"], key_id=claims["key"])
    if key is None:
        raise SessionExpired("The API key of this session was revoked or has expired. "
                             "Initialize a session with a working key.")
    api_key_used(key=key)
    return CollectorSession(key.org, key, claims.get("customer"),
                            claims.get("email"))


def org_id_of(token: Any) -> int | None:
    """The org a genuine token names, expired or not (to answer CORS on its 401), or None."""
    try:
        return int(_claims(token, None)["org"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return None
