"""Identity stitching and erasure on an org's built-in collections."""

import pytest

from apps.catalog.builtins import builtin_collections_ensure
from apps.core.ids import new_id
from apps.profiles.models import Merge
from apps.profiles.services import merges_from_batches, merges_record, profile_erase
from apps.records.models import Record
from apps.records.services import Batch
from tests.factories import MergeFactory, OrgFactory, RecordFactory
from tests.fixtures import ACTOR

pytestmark = pytest.mark.django_db


@pytest.fixture
def builtins():
    return builtin_collections_ensure(actor=ACTOR, org=OrgFactory())


def merges(org) -> list[tuple[str, str, str]]:
    return sorted(Merge.objects.filter(org=org).values_list("visitor_id", "user_id", "status"))


def test_a_visitor_merges_into_one_user_and_later_claims_are_conflicts():
    org = OrgFactory()
    merges_record(org_id=org.id, pairs=[("v1", "ann"), ("v2", "ann"), ("v1", "bob")])
    merges_record(org_id=org.id, pairs=[("v1", "ann"), ("v1", "bob"), ("v1", "carl")])
    assert merges(org) == [("v1", "ann", "merged"), ("v1", "bob", "conflict"),
                           ("v1", "carl", "conflict"), ("v2", "ann", "merged")]


def test_merges_are_kept_per_org():
    one, other = OrgFactory(), OrgFactory()
    MergeFactory(org=one, visitor_id="v1", user_id="ann")
    merges_record(org_id=other.id, pairs=[("v1", "bob")])
    assert merges(other) == [("v1", "bob", "merged")]
    assert merges(one) == [("v1", "ann", "merged")]


def users_batch(collection, *rows) -> Batch:
    return Batch(collection.org_id, collection.id, 1, "2025-03-01T12:00:00+00:00",
                 records=[[new_id(), data.get("userId") or "x", {}, data] for data in rows])


def test_merges_come_from_users_records_that_carry_a_visitor_and_a_user(builtins):
    users, events = builtins["users"], builtins["events"]
    merges_from_batches(batches=[
        users_batch(users, {"userId": "ann", "visitorId": "v1"}, {"userId": "bob"},
                    {"userId": "carl", "visitorId": None}, {"userId": "dan", "visitorId": ""}),
        users_batch(events, {"userId": "eve", "visitorId": "v2"}),
        users_batch(users, {"userId": "fay", "visitorId": "v1"}),
    ])
    assert merges(users.org) == [("v1", "ann", "merged"), ("v1", "fay", "conflict")]


def test_batches_without_identifications_record_no_merge(builtins, django_assert_num_queries):
    events = builtins["events"]
    with django_assert_num_queries(0):
        merges_from_batches(batches=[users_batch(events, {"userId": "eve"})])
    assert merges(events.org) == []


@pytest.fixture
def ann(builtins):
    """The user ann, merged with visitor v1, with what points at her, and what does not."""
    users, events, pages = builtins["users"], builtins["events"], builtins["pages"]
    org = users.org
    RecordFactory(collection=users, key="ann", identifiers={"userId": "ann"})
    RecordFactory(collection=users, key="bob", identifiers={"userId": "bob"})
    MergeFactory(org=org, visitor_id="v1", user_id="ann")
    MergeFactory(org=org, visitor_id="v9", user_id="ann", status=Merge.Status.CONFLICT)
    MergeFactory(org=org, visitor_id="v2", user_id="bob")
    for key, user, visitor in [("e1", "ann", None), ("e2", None, "v1"), ("e3", "bob", None),
                               ("e4", None, "v2"), ("e5", "ann", "v1")]:
        RecordFactory(collection=events, key=key, identifiers={"eventId": key, "userId": user},
                      data={"eventId": key, "userId": user, "visitorId": visitor})
    RecordFactory(collection=pages, key="p1", identifiers={"eventId": "p1", "userId": "ann"},
                  data={"eventId": "p1", "userId": "ann"})
    return builtins


def left(collection) -> list[str]:
    return sorted(Record.objects.filter(collection=collection).values_list("key", flat=True))


def test_erasing_a_user_deletes_their_records_and_their_visitors(ann):
    users, events, pages = ann["users"], ann["events"], ann["pages"]
    assert profile_erase(collection=users, key="ann") == {"events": 3, "pages": 1, "users": 1}
    assert (left(users), left(events), left(pages)) == (["bob"], ["e3", "e4"], [])
    assert merges(users.org) == [("v2", "bob", "merged")]


def test_erasing_someone_unknown_deletes_nothing(ann):
    users, events = ann["users"], ann["events"]
    assert profile_erase(collection=users, key="nobody") == {}
    assert (left(users), left(events)) == (["ann", "bob"], ["e1", "e2", "e3", "e4", "e5"])


def test_erasing_touches_no_other_org(ann):
    users = ann["users"]
    theirs = builtin_collections_ensure(actor=ACTOR, org=OrgFactory())
    RecordFactory(collection=theirs["users"], key="ann", identifiers={"userId": "ann"})
    RecordFactory(collection=theirs["events"], key="e1", identifiers={"userId": "ann"},
                  data={"visitorId": "v1"})
    MergeFactory(org=theirs["users"].org, visitor_id="v1", user_id="ann")
    profile_erase(collection=users, key="ann")
    assert (left(theirs["users"]), left(theirs["events"])) == (["ann"], ["e1"])
    assert merges(theirs["users"].org) == [("v1", "ann", "merged")]


def test_erasing_an_account_deletes_what_points_at_it(builtins):
    accounts, users = builtins["accounts"], builtins["users"]
    RecordFactory(collection=accounts, key="acme", identifiers={"accountId": "acme"})
    RecordFactory(collection=accounts, key="acme-eu",
                  identifiers={"accountId": "acme-eu", "parentAccountId": "acme"})
    RecordFactory(collection=users, key="ann", identifiers={"userId": "ann",
                                                            "accountId": "acme"})
    RecordFactory(collection=users, key="bob", identifiers={"userId": "bob",
                                                            "accountId": "other"})
    assert profile_erase(collection=accounts, key="acme") == {"accounts": 2, "users": 1}
    assert (left(accounts), left(users)) == ([], ["bob"])
