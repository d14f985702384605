import hashlib
import secrets
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from apps.catalog.builtins import builtin_collections_ensure
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


def api_key_create(*, org: Org, kind: str, name: str = "") -> tuple[ApiKey, str]:
    """A new key of `org`; the raw key is returned once and never stored."""
    raw = KEY_PREFIXES[ApiKey.Kind(kind)] + secrets.token_urlsafe(24)
    key = ApiKey.objects.create(
        org=org, kind=kind, name=name, prefix=raw[:SHOWN_PREFIX_LENGTH], key_hash=key_hash(raw)
    )
    return key, raw


def api_key_revoke(*, key: ApiKey) -> None:
    """Revokes the key; every process stops accepting it at once."""
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])


@transaction.atomic
def api_keys_revoke(*, org: Org, kind: str, keep: ApiKey) -> list[ApiKey]:
    """Revokes the org's live keys of `kind` but `keep`; answers those it revoked."""
    revoked = list(ApiKey.objects.filter(org=org, kind=kind, revoked_at__isnull=True)
                   .exclude(id=keep.id))
    for key in revoked:
        api_key_revoke(key=key)
    return revoked


@transaction.atomic
def org_create(*, slug: str, name: str = "") -> CreatedOrg:
    """A new org with one secret key and one write key."""
    org = Org(slug=slug, name=name or slug)
    org.full_clean()
    org.save()
    _, secret = api_key_create(org=org, kind=ApiKey.Kind.SECRET, name="default secret key")
    _, write = api_key_create(org=org, kind=ApiKey.Kind.WRITE, name="default write key")
    builtin_collections_ensure(org=org)
    return CreatedOrg(org=org, secret_key=secret, write_key=write)


def org_compatibility_set(*, org: Org, compatibility: str) -> Org:
    """Sets the compatibility mode of the org's collections that name none of their own."""
    org.compatibility = Compatibility(compatibility)
    org.save(update_fields=["compatibility"])
    return org
