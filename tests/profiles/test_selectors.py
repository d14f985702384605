"""Reads of profiles, on an org's built-in collections: a profile collection and its record,
the collections pointing at it, merged visitors and account trees."""

import pytest

from apps.catalog.builtins import builtin_collections_ensure
from apps.catalog.models import Identifier
from apps.profiles.models import Merge
from apps.profiles.selectors import (
    descendant_keys,
    merge_list,
    merged_visitors,
    profile_collection,
    references_to,
)
from apps.records.selectors import profile_record
from tests.factories import (
    CollectionFactory,
    IdentifierFactory,
    MergeFactory,
    OrgFactory,
    RecordFactory,
)
from tests.fixtures import ACTOR

pytestmark = pytest.mark.django_db


@pytest.fixture
def builtins():
    return builtin_collections_ensure(actor=ACTOR, org=OrgFactory())


def test_a_profile_collection_is_found_by_name_in_its_org_only(builtins):
    users = builtins["users"]
    assert profile_collection(org=users.org, name="users") == users
    assert profile_collection(org=users.org, name="accounts") == builtins["accounts"]
    assert profile_collection(org=users.org, name="events") is None  # not of profiles
    assert profile_collection(org=users.org, name="nothing") is None
    stranger = builtin_collections_ensure(actor=ACTOR, org=OrgFactory())["users"]
    assert profile_collection(org=stranger.org, name="users") == stranger


def test_a_profile_record_is_its_collections_record_of_that_key(builtins):
    users = builtins["users"]
    ann = RecordFactory(collection=users, key="ann")
    RecordFactory(collection=builtins["accounts"], key="bob")
    assert profile_record(collection=users, key="ann") == ann
    assert profile_record(collection=users, key="bob") is None


def test_references_to_a_profile_are_the_foreign_identifiers_pointing_at_it(builtins):
    names = {name: c for name, c in builtins.items()}

    def references(name):
        return [(c.name, identifier) for c, identifier in references_to(
            collection=names[name])]

    assert references("users") == [("events", "userId"), ("pages", "userId")]
    assert references("accounts") == [("accounts", "parentAccountId"), ("events", "accountId"),
                                      ("pages", "accountId"), ("users", "accountId")]
    assert references("products") == [("events", "productId")]
    assert references("events") == []


def test_references_to_count_a_new_foreign_identifier_at_once(builtins):
    users = builtins["users"]
    assert len(references_to(collection=users)) == 2
    orders = CollectionFactory(org=users.org, source=users.source, name="orders")
    IdentifierFactory(collection=orders, name="buyer", type=Identifier.Type.FOREIGN,
                      reference=Identifier.objects.get(collection=users, type="primary"),
                      key_fields=("visitorId",))
    assert [(c.name, name) for c, name in references_to(collection=users)] == [
        ("events", "userId"), ("orders", "buyer"), ("pages", "userId")]


def test_merged_visitors_are_a_users_merges_only(builtins):
    users = builtins["users"]
    org = users.org
    MergeFactory(org=org, visitor_id="v1", user_id="ann")
    MergeFactory(org=org, visitor_id="v2", user_id="ann")
    MergeFactory(org=org, visitor_id="v3", user_id="ann", status=Merge.Status.CONFLICT)
    MergeFactory(org=org, visitor_id="v4", user_id="bob")
    MergeFactory(visitor_id="v5", user_id="ann")  # another org's
    assert sorted(merged_visitors(collection=users, key="ann")) == ["v1", "v2"]
    assert merged_visitors(collection=users, key="nobody") == []
    assert merged_visitors(collection=builtins["accounts"], key="ann") == []


def account(accounts, key, parent=None):
    RecordFactory(collection=accounts, key=key,
                  identifiers={"accountId": key, "parentAccountId": parent},
                  data={"accountId": key, "parentAccountId": parent})


def test_descendant_keys_are_an_account_and_every_account_below_it(builtins):
    accounts = builtins["accounts"]
    account(accounts, "root")
    account(accounts, "a", "root")
    account(accounts, "b", "root")
    account(accounts, "a1", "a")
    account(accounts, "a1x", "a1")
    account(accounts, "other")
    assert sorted(descendant_keys(collection=accounts, key="root")) == [
        "a", "a1", "a1x", "b", "root"]
    assert sorted(descendant_keys(collection=accounts, key="a")) == ["a", "a1", "a1x"]
    assert descendant_keys(collection=accounts, key="b") == ["b"]
    assert descendant_keys(collection=accounts, key="missing") == ["missing"]


def test_descendant_keys_visit_each_account_once_even_in_a_cycle(builtins):
    accounts = builtins["accounts"]
    account(accounts, "x", "z")
    account(accounts, "y", "x")
    account(accounts, "z", "y")
    assert sorted(descendant_keys(collection=accounts, key="x")) == ["x", "y", "z"]


def test_the_merge_list_holds_the_orgs_merges_oldest_first():
    org = OrgFactory()
    first = MergeFactory(org=org)
    MergeFactory()
    second = MergeFactory(org=org, status=Merge.Status.CONFLICT)
    assert list(merge_list(org=org)) == [first, second]
