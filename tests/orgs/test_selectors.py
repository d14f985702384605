"""Finding the key a request sends: live keys only, revoking counts at once."""

import pytest

from apps.orgs.models import ApiKey
from apps.orgs.selectors import api_key_by_raw
from apps.orgs.services import api_key_revoke
from tests.factories import ApiKeyFactory
from tests.fixtures import ACTOR

pytestmark = pytest.mark.django_db


def test_a_live_key_is_found_with_its_org(django_assert_num_queries):
    key = ApiKeyFactory(kind=ApiKey.Kind.WRITE)
    ApiKeyFactory(org=key.org)
    found = api_key_by_raw(key.raw)
    assert found == key
    with django_assert_num_queries(0):
        assert found.org_slug == key.org.slug


@pytest.mark.parametrize("raw", ["", "sluice_sk_unknown", "sluice_wk_"])
def test_an_unknown_key_is_not_found(raw):
    ApiKeyFactory()
    assert api_key_by_raw(raw) is None


def test_a_key_is_found_by_its_whole_value_only():
    key = ApiKeyFactory()
    assert api_key_by_raw(key.raw[:-1]) is None
    assert api_key_by_raw(key.prefix) is None
    assert api_key_by_raw(key.key_hash) is None


def test_a_revoked_key_is_not_found_even_just_after_it_was():
    key = ApiKeyFactory()
    assert api_key_by_raw(key.raw) == key  # now kept in this process
    api_key_revoke(actor=ACTOR, key=key)
    assert api_key_by_raw(key.raw) is None



def test_a_key_is_not_found_once_its_expiry_passes_even_while_it_is_kept():
    import time
    from datetime import timedelta

    from django.utils import timezone

    from apps.orgs.services import api_key_create

    key, raw = api_key_create(actor=ACTOR, org=ApiKeyFactory().org, kind="read",
                              expires_at=timezone.now() + timedelta(seconds=0.5))
    assert api_key_by_raw(raw) == key  # now kept in this process
    time.sleep(0.6)
    assert api_key_by_raw(raw) is None
