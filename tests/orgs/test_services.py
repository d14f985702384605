"""Writes of orgs and their keys: a raw key is answered once and only its hash is kept."""

import hashlib
from datetime import timedelta

import pytest
from django.utils import timezone

from apps.catalog.models import Collection
from apps.core.actors import Actor
from apps.orgs.models import ApiKey, Org
from apps.orgs.selectors import api_key_by_raw
from apps.orgs.services import (
    api_key_create,
    api_key_revoke,
    api_key_rotate,
    api_key_used,
    org_create,
)
from tests.factories import ApiKeyFactory, OrgFactory, SourceFactory
from tests.fixtures import ACTOR
from tests.helpers import refused

pytestmark = pytest.mark.django_db


def sha256(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def test_a_new_org_has_a_secret_key_a_write_key_and_the_built_in_collections():
    created = org_create(actor=ACTOR, slug="acme", name="Acme Inc.")
    org = Org.objects.get(slug="acme")
    assert created.org == org and org.name == "Acme Inc."
    assert created.secret_key.startswith("sluice_sk_")
    assert created.write_key.startswith("sluice_wk_")
    keys = {key.kind: key for key in ApiKey.objects.filter(org=org)}
    assert set(keys) == {"secret", "write"}
    assert keys["secret"].key_hash == sha256(created.secret_key)
    assert keys["write"].key_hash == sha256(created.write_key)
    assert keys["secret"].prefix == created.secret_key[:14]
    assert keys["write"].revoked_at is None
    assert sorted(Collection.objects.filter(org=org).values_list("name", flat=True)) == [
        "accounts", "events", "pages", "products", "users"]


def test_an_org_is_named_after_its_slug_by_default():
    assert org_create(actor=ACTOR, slug="plain").org.name == "plain"


@pytest.mark.parametrize("slug", ["", "-acme", "acme corp", "acme/1", "a" * 64, "ünï"])
def test_an_org_with_an_invalid_slug_is_not_made(slug):
    with pytest.raises(Exception):  # noqa: B017  (what counts is that nothing is written)
        org_create(actor=ACTOR, slug=slug)
    assert not Org.objects.filter(slug=slug).exists()
    assert not ApiKey.objects.filter(org__slug=slug).exists()


def test_a_slug_is_taken_once():
    first = org_create(actor=ACTOR, slug="acme")
    with pytest.raises(Exception):  # noqa: B017
        org_create(actor=ACTOR, slug="acme", name="Impostor")
    assert list(Org.objects.filter(slug="acme")) == [first.org]
    assert ApiKey.objects.filter(org=first.org).count() == 2
    assert Collection.objects.filter(org=first.org).count() == 5


@pytest.mark.parametrize(("kind", "prefix"), [("secret", "sluice_sk_"), ("write", "sluice_wk_")])
def test_a_key_is_kept_as_its_hash_and_its_prefix(kind, prefix):
    org = OrgFactory()
    key, raw = api_key_create(actor=ACTOR, org=org, kind=kind, name="ci")
    stored = ApiKey.objects.get(id=key.id)
    assert raw.startswith(prefix) and len(raw) > 40
    assert (stored.org, stored.kind, stored.name, stored.prefix, stored.key_hash,
            stored.revoked_at) == (org, kind, "ci", raw[:14], sha256(raw), None)
    assert raw not in {stored.prefix, stored.key_hash, stored.name}
    assert stored.is_secret is (kind == "secret")


def test_each_key_is_new():
    org = OrgFactory()
    raws = {api_key_create(actor=ACTOR, org=org, kind="write")[1] for _ in range(5)}
    assert len(raws) == 5


def test_revoking_a_key_keeps_when_it_was_first_revoked():
    key = ApiKeyFactory()
    api_key_revoke(actor=ACTOR, key=key)
    revoked_at = ApiKey.objects.get(id=key.id).revoked_at
    assert revoked_at is not None
    api_key_revoke(actor=ACTOR, key=ApiKey.objects.get(id=key.id))
    assert ApiKey.objects.get(id=key.id).revoked_at == revoked_at


def test_a_keys_use_is_written_at_most_once_a_minute(django_assert_num_queries):
    from django.core.cache import cache

    from apps.orgs import services

    key = ApiKeyFactory()
    with django_assert_num_queries(1):
        api_key_used(key=key)
    first = ApiKey.objects.get(id=key.id).last_used_at
    assert first is not None
    with django_assert_num_queries(0):  # this process noted it: not even the cache is asked
        for _ in range(100):
            api_key_used(key=key)
    services._noted.clear()  # another process, within the same minute
    with django_assert_num_queries(0):
        api_key_used(key=key)
    services._noted.clear()
    cache.delete(f"api-key-used:{key.id}")  # a minute later
    with django_assert_num_queries(1):
        api_key_used(key=key)
    assert ApiKey.objects.get(id=key.id).last_used_at > first


def test_a_rotation_makes_the_same_key_anew_and_keeps_the_old_one_until_told():
    site = SourceFactory(type="web")
    old, _ = api_key_create(actor=ACTOR, org=site.org, kind="write", name="tag", source=site)
    until = timezone.now() + timedelta(minutes=5)
    new, raw = api_key_rotate(actor=ACTOR, org=site.org, key=old, old_key_expires_at=until)
    assert (new.kind, new.name, new.source, new.expires_at) == ("write", "tag", site, None)
    assert api_key_by_raw(raw) == new and ApiKey.objects.get(id=old.id).expires_at == until
    later, _ = api_key_rotate(actor=ACTOR, org=site.org, key=ApiKey.objects.get(id=old.id),
                              old_key_expires_at=until + timedelta(hours=1))
    assert ApiKey.objects.get(id=old.id).expires_at == until  # never later than it was
    api_key_revoke(actor=ACTOR, key=later)
    with refused("key_not_live"):
        api_key_rotate(actor=ACTOR, org=site.org, key=ApiKey.objects.get(id=later.id))


def test_a_key_may_not_revoke_the_last_secret_key_but_an_operator_may():
    only = ApiKeyFactory()
    with refused("last_secret_key"):
        api_key_revoke(actor=Actor.key(only), key=only)
    assert ApiKey.objects.get(id=only.id).revoked_at is None
    api_key_revoke(actor=ACTOR, key=only)  # the admin, the CLI
    assert ApiKey.objects.get(id=only.id).revoked_at is not None


def test_a_source_is_only_for_a_write_key_of_its_org():
    site = SourceFactory(type="web")
    with refused("invalid"):
        api_key_create(actor=ACTOR, org=site.org, kind="read", source=site)
    with refused("not_found"):
        api_key_create(actor=ACTOR, org=OrgFactory(), kind="write", source=site)
    with refused("invalid"):
        api_key_create(actor=ACTOR, org=site.org, kind="secret", expires_at=timezone.now())
