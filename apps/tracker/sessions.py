"""Usage-collector sessions: an opaque token that names the org, the key and, when the page
knows them, the customer and the user, sealed with AES-256-GCM under a key derived from
SECRET_KEY. The page (and anyone the token leaks to) can read none of it nor change it; any
web process opens it with the secret key alone (no shared memory). A token sealed under a key
of SECRET_KEY_FALLBACKS still opens, so SECRET_KEY is rotated the Django way without ending
every session at once. It expires 20 minutes after it was issued, and a token whose key was
revoked is refused."""

import base64
import binascii
import json
import os
import time
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

from apps.core.codes import Code
from apps.core.exceptions import NotAuthenticated
from apps.orgs.models import ApiKey, Org
from apps.orgs.services import api_key_used
from apps.tracker.selectors import api_key_live

SESSION_SECONDS = 20 * 60
PURPOSE = b"sluice.tracker.collector-session"
FORMAT = b"\x01"  # the first byte of every token: how the rest is laid out
NONCE_BYTES = 12
TAG_BYTES = 16
MAX_TOKEN_CHARS = 8192  # a token of the longest customer and email is under 4,000


class SessionExpired(NotAuthenticated):
    """The session token is expired, forged, or of a revoked key: initialize a new one."""

    default_code = Code.SESSION_EXPIRED
    default_detail = ("The session token has expired or is not valid. Call POST /api/initialize "
                      "again for a new one, then resend.")


class TokenNotValid(Exception):
    """The token was not sealed by this Sluice (under its secret key or a fallback) or was
    changed since."""


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


@lru_cache(maxsize=8)
def _cipher(secret: str) -> AESGCM:
    """The AES-256-GCM cipher of sessions under `secret`: a key of its own, derived with HKDF,
    so that a session key is never a key of anything else that SECRET_KEY protects."""
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=PURPOSE).derive(
        secret.encode())
    return AESGCM(key)


def _seal(claims: dict[str, Any]) -> str:
    nonce = os.urandom(NONCE_BYTES)
    sealed = _cipher(settings.SECRET_KEY).encrypt(nonce, json.dumps(claims).encode(), FORMAT)
    return base64.urlsafe_b64encode(FORMAT + nonce + sealed).rstrip(b"=").decode()


def _opened(token: Any) -> dict[str, Any]:
    """The claims of a token this Sluice sealed, under SECRET_KEY or any of its fallbacks."""
    if not isinstance(token, str) or not 0 < len(token) <= MAX_TOKEN_CHARS:
        raise TokenNotValid()
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError) as error:
        raise TokenNotValid() from error
    if raw[:1] != FORMAT or len(raw) < 1 + NONCE_BYTES + TAG_BYTES:
        raise TokenNotValid()
    nonce, sealed = raw[1:1 + NONCE_BYTES], raw[1 + NONCE_BYTES:]
    for secret in (settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS):
        try:
            claims = json.loads(_cipher(secret).decrypt(nonce, sealed, FORMAT))
        except InvalidTag:
            continue
        if isinstance(claims, dict):
            return claims
    raise TokenNotValid()


def session_token(*, key: ApiKey, customer_identifier: str | None = None,
                  user_email: str | None = None) -> str:
    """A new session token of `key` for this customer and user, or for an anonymous visitor."""
    return _seal({"org": key.org_id, "key": key.id, "customer": customer_identifier,
                  "email": user_email, "issued": int(time.time())})


def session_of(token: Any) -> CollectorSession:
    """The live session of `token`; SessionExpired when it is expired, forged or its key was
    revoked."""
    try:
        claims = _opened(token)
    except TokenNotValid as error:
        raise SessionExpired("The session token is not valid. Call POST /api/initialize for a "
                             "new one.") from error
    if time.time() - claims["issued"] > SESSION_SECONDS:
        raise SessionExpired()
    key = api_key_live(org_id=claims["org"], key_id=claims["key"])
    if key is None:
        raise SessionExpired("The API key of this session was revoked or has expired. "
                             "Initialize a session with a working key.")
    api_key_used(key=key)
    return CollectorSession(key.org, key, claims["customer"], claims["email"])
