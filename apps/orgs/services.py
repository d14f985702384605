import hashlib
import logging
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.core.cache import cache
from django.db import DatabaseError, transaction
from django.utils import timezone
from redis.exceptions import RedisError

from apps.audit.models import Action
from apps.audit.services import record
from apps.catalog.builtins import builtin_collections_ensure
from apps.core.actors import Actor
from apps.core.codes import Code
from apps.core.exceptions import Conflict, InvalidInput
from apps.core.snapshots import snapshot
from apps.orgs.models import ApiKey, Compatibility, Org
from apps.sources.models import Source

KEY_PREFIXES = {ApiKey.Kind.SECRET: "sluice_sk_", ApiKey.Kind.READ: "sluice_rk_",
                ApiKey.Kind.WRITE: "sluice_wk_"}
SHOWN_PREFIX_LENGTH = 14
ROTATION_GRACE = timedelta(hours=24)  # how long a rotated key keeps working, unless told
USED_EVERY_SECONDS = 60  # a key's last use is written at most this often
logger = logging.getLogger("sluice.keys")


@dataclass(frozen=True)
class CreatedOrg:
    org: Org
    secret_key: str
    write_key: str


def key_hash(raw_key: str) -> str:
    return hashlib.sha256(raw_key.encode()).hexdigest()


def _key_recorded(actor: Actor, action: Action, key: ApiKey,
                  before: dict[str, Any] | None) -> None:
    record(actor=actor, org=key.org, action=action, target_type="key", target_id=key.id,
           before=before, after=snapshot(key))


def api_key_checked(*, org: Org, kind: str, source: Source | None,
                    expires_at: datetime | None) -> None:
    """InvalidInput unless a key of `org` can be made so: a source only for a write key, of
    the same org; an expiry to come."""
    if expires_at is not None and expires_at <= timezone.now():
        raise InvalidInput.field("expiresAt", Code.INVALID, "The time is past: give a time to "
                                 "come, or revoke the key to stop it now.")
    if source is None:
        return
    if source.org_id != org.id:
        raise InvalidInput.unknown_id("sourceId", "source")
    if kind != ApiKey.Kind.WRITE:
        raise InvalidInput.field("sourceId", Code.INVALID, "Only a write key is scoped to a "
                                 "source; a secret or read key covers the whole org.")


@transaction.atomic
def api_key_create(*, actor: Actor, org: Org, kind: str, name: str = "",
                   source: Source | None = None, expires_at: datetime | None = None
                   ) -> tuple[ApiKey, str]:
    """A new key of `org`; the raw key is returned once and never stored. A write key with a
    `source` sends only to its collections (and the built-in ones)."""
    kind = ApiKey.Kind(kind)
    api_key_checked(org=org, kind=kind, source=source, expires_at=expires_at)
    raw = KEY_PREFIXES[kind] + secrets.token_urlsafe(24)
    key = ApiKey.objects.create(
        org=org, kind=kind, name=name, source=source, expires_at=expires_at,
        prefix=raw[:SHOWN_PREFIX_LENGTH], key_hash=key_hash(raw))
    _key_recorded(actor, Action.KEY_CREATED, key, None)
    return key, raw


@transaction.atomic
def api_key_rotate(*, actor: Actor, org: Org, key: ApiKey,
                   old_key_expires_at: datetime | None = None) -> tuple[ApiKey, str]:
    """A new key of `key`'s kind, name and source; `key` keeps working until
    `old_key_expires_at` (24 hours from now unless told; a time past means now), never later
    than it would have anyway. Answers the new key and its raw value, once."""
    now = timezone.now()
    if not key.works_at(now):
        raise Conflict("This key is revoked or expired: it cannot be rotated. Create a new "
                       "key instead (POST /v1/<org>/keys).", code=Code.KEY_NOT_LIVE)
    until = now + ROTATION_GRACE if old_key_expires_at is None else max(old_key_expires_at, now)
    new, raw = api_key_create(actor=actor, org=org, kind=key.kind, name=key.name,
                              source=key.source)
    before = snapshot(key)
    key.expires_at = until if key.expires_at is None else min(key.expires_at, until)
    key.save(update_fields=["expires_at"])
    _key_recorded(actor, Action.KEY_ROTATED, key, before)
    return new, raw


def _last_secret_key(key: ApiKey) -> bool:
    now = timezone.now()
    others = ApiKey.objects.filter(org_id=key.org_id, kind=ApiKey.Kind.SECRET,
                                   revoked_at__isnull=True).exclude(id=key.id)
    return key.works_at(now) and not any(other.works_at(now) for other in others)


def api_key_rename(*, actor: Actor, key: ApiKey, name: str) -> ApiKey:
    """Gives the key another name (the one thing of a key that changes but its revocation)."""
    if name != key.name:
        before = snapshot(key)
        key.name = name
        key.save(update_fields=["name"])
        _key_recorded(actor, Action.KEY_UPDATED, key, before)
    return key


@transaction.atomic
def api_key_revoke(*, actor: Actor, key: ApiKey) -> None:
    """Revokes the key; every process stops accepting it at once. A key may not revoke its
    org's last working secret key (an operator may: the CLI and the admin make new ones)."""
    if key.revoked_at is not None:
        return
    if actor.kind == "key" and key.is_secret and _last_secret_key(key):
        raise Conflict("This is the org's last working secret key: without it nothing could "
                       "manage the org. Create another secret key first (POST /v1/<org>/keys "
                       "with {\"kind\": \"secret\"}) or rotate this one (POST "
                       "/v1/<org>/keys/<id>/rotate).", code=Code.LAST_SECRET_KEY)
    before = snapshot(key)
    key.revoked_at = timezone.now()
    key.save(update_fields=["revoked_at"])
    _key_recorded(actor, Action.KEY_REVOKED, key, before)


@transaction.atomic
def api_keys_revoke(*, actor: Actor, org: Org, kind: str, keep: ApiKey) -> list[ApiKey]:
    """Revokes the org's live keys of `kind` and of `keep`'s source (or of none) but `keep`;
    answers those it revoked."""
    revoked = list(ApiKey.objects.filter(org=org, kind=kind, source=keep.source,
                                         revoked_at__isnull=True).exclude(id=keep.id))
    for key in revoked:
        api_key_revoke(actor=actor, key=key)
    return revoked


_noted: dict[int, float] = {}  # this process: key id -> when it last noted a use


def api_key_used(*, key: ApiKey) -> None:
    """Notes that `key` was used now, without a database write per request: each process
    notes a key at most once a minute, and of those notes only the first in a minute (a
    cache entry added if absent decides it, across processes) writes `last_used_at`."""
    now = time.monotonic()
    if now - _noted.get(key.id, -USED_EVERY_SECONDS) < USED_EVERY_SECONDS:
        return
    if len(_noted) >= 10_000:
        _noted.clear()
    _noted[key.id] = now
    try:
        if cache.add(f"api-key-used:{key.id}", 1, timeout=USED_EVERY_SECONDS):
            ApiKey.objects.filter(id=key.id).update(last_used_at=timezone.now())
    except (RedisError, OSError, DatabaseError) as error:  # a request never fails for it
        logger.warning("the last use of key %s is not noted (%s)", key.prefix, error)


@transaction.atomic
def org_create(*, actor: Actor, slug: str, name: str = "",
               compatibility: str = Compatibility.BACKWARD) -> CreatedOrg:
    """A new org with one secret key and one write key."""
    org = Org(slug=slug, name=name or slug, compatibility=compatibility)
    org.full_clean()
    org.save()
    record(actor=actor, org=org, action=Action.ORG_CREATED, target_type="org", target_id=org.id,
           after=snapshot(org))
    _, secret = api_key_create(actor=actor, org=org, kind=ApiKey.Kind.SECRET,
                               name="default secret key")
    _, write = api_key_create(actor=actor, org=org, kind=ApiKey.Kind.WRITE,
                              name="default write key")
    builtin_collections_ensure(actor=actor, org=org)
    return CreatedOrg(org=org, secret_key=secret, write_key=write)


@transaction.atomic
def org_update(*, actor: Actor, org: Org, changes: dict[str, Any]) -> Org:
    """Applies the changes (its name, the compatibility mode of the org's collections that
    name none of their own, ...)."""
    before = snapshot(org)
    for field, value in changes.items():
        setattr(org, field, value)
    org.full_clean()
    org.save(update_fields=list(changes))
    after = snapshot(org)
    if after != before:
        record(actor=actor, org=org, action=Action.ORG_UPDATED, target_type="org",
               target_id=org.id, before=before, after=after)
    return org
