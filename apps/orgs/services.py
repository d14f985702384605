import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from apps.audit.models import Action
from apps.audit.services import record
from apps.catalog.builtins import builtin_collections_ensure
from apps.core.actors import Actor
from apps.core.snapshots import snapshot
from apps.orgs.models import ApiKey, Compatibility, Org

KEY_PREFIXES = {ApiKey.Kind.SECRET: "sluice_sk_", ApiKey.Kind.WRITE: "sluice_wk_"}
SHOWN_PREFIX_LENGTH = 14


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


@transaction.atomic
def api_key_create(*, actor: Actor, org: Org, kind: str, name: str = "") -> tuple[ApiKey, str]:
    """A new key of `org`; the raw key is returned once and never stored."""
    raw = KEY_PREFIXES[ApiKey.Kind(kind)] + secrets.token_urlsafe(24)
    key = ApiKey.objects.create(
        org=org, kind=kind, name=name, prefix=raw[:SHOWN_PREFIX_LENGTH], key_hash=key_hash(raw)
    )
    _key_recorded(actor, Action.KEY_CREATED, key, None)
    return key, raw


@transaction.atomic
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
    """Revokes the key; every process stops accepting it at once."""
    if key.revoked_at is None:
        before = snapshot(key)
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])
        _key_recorded(actor, Action.KEY_REVOKED, key, before)


@transaction.atomic
def api_keys_revoke(*, actor: Actor, org: Org, kind: str, keep: ApiKey) -> list[ApiKey]:
    """Revokes the org's live keys of `kind` but `keep`; answers those it revoked."""
    revoked = list(ApiKey.objects.filter(org=org, kind=kind, revoked_at__isnull=True)
                   .exclude(id=keep.id))
    for key in revoked:
        api_key_revoke(actor=actor, key=key)
    return revoked


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
