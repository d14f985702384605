"""Storing partial records (what the Fuzy API's products, accounts and users are): each is
merged into the stored record in the order received, on PostgreSQL's COPY path and on the
plain path of the embedded default alike."""

import pytest

from apps.catalog.models import Collection
from apps.ingestion.services import Outcome, collection_batch
from apps.records.models import Record
from apps.records.services import Batch, batches_store, storing

EMPTY_ACCOUNT = {"name": None, "parentAccountId": None, "paymentProcessorIds": {}, "traits": {}}


@pytest.fixture(params=["copy", "plain"])
def accounts(request, make_org, orm, monkeypatch):
    """The accounts collection of a new org, stored into by one path or the other."""
    if request.param == "plain":  # the embedded default's path, here on PostgreSQL
        monkeypatch.setattr(storing, "_writer", lambda: storing._bulk_sqlite)
    return Collection.objects.get(org__slug=make_org().slug, name="accounts")


def partial(collection: Collection, *records: dict) -> Batch:
    outcome = Outcome()
    batch = collection_batch(collection=collection, records=list(records), outcome=outcome,
                             partial=True)
    assert outcome.accepted == len(records)
    return batch


def whole(collection: Collection, *records: dict) -> Batch:
    return collection_batch(collection=collection, records=list(records), outcome=Outcome())


def account(collection: Collection, key: str = "k") -> Record:
    return Record.objects.get(collection=collection, key=key)


def test_partial_records_of_one_key_in_one_write_combine_in_the_order_received(accounts):
    first = partial(accounts, {"accountId": "k", "name": "A", "traits": {"a": 1}})
    second = partial(accounts, {"accountId": "k", "name": "B", "traits": {"b": 2}},
                     {"accountId": "k", "parentAccountId": "p"})
    batches_store(batches=[second, first])  # handed over out of order
    assert account(accounts).data == {**EMPTY_ACCOUNT, "accountId": "k", "name": "B",
                                      "parentAccountId": "p", "traits": {"a": 1, "b": 2}}
    assert account(accounts).identifiers == {"accountId": "k", "parentAccountId": "p"}


def test_a_partial_record_applies_over_the_stored_one_and_keeps_the_rest(accounts):
    batches_store(batches=[whole(accounts, {"accountId": "k", "name": "A",
                                            "paymentProcessorIds": {"stripe": "cus_1"},
                                            "parentAccountId": "p", "traits": {"a": 1}})])
    batches_store(batches=[partial(accounts, {"accountId": "k", "traits": {"b": 2},
                                              "paymentProcessorIds": {"chargebee": "cb_1"}})])
    batches_store(batches=[partial(accounts, {"accountId": "k", "parentAccountId": None})])
    assert account(accounts).data == {
        "accountId": "k", "name": "A", "parentAccountId": None, "traits": {"a": 1, "b": 2},
        "paymentProcessorIds": {"stripe": "cus_1", "chargebee": "cb_1"}}
    assert account(accounts).identifiers == {"accountId": "k"}


def test_a_partial_record_stored_after_a_later_received_one_still_applies(accounts):
    batches_store(batches=[partial(accounts, {"accountId": "k", "name": "A"})])
    earlier = partial(accounts, {"accountId": "k", "traits": {"a": 1}})
    later = partial(accounts, {"accountId": "k", "parentAccountId": "p"})
    batches_store(batches=[later])
    batches_store(batches=[earlier])  # a drain storing late
    assert account(accounts).data == {**EMPTY_ACCOUNT, "accountId": "k", "name": "A",
                                      "parentAccountId": "p", "traits": {"a": 1}}
    assert account(accounts).received_at.isoformat() == later.received_at


def test_whole_and_partial_records_in_one_write_apply_in_the_order_received(accounts):
    old = partial(accounts, {"accountId": "k", "name": "gone"})
    replaced = whole(accounts, {"accountId": "k", "name": "A", "traits": {"a": 1}})
    patched = partial(accounts, {"accountId": "k", "traits": {"b": 2}, "name": None})
    batches_store(batches=[patched, replaced, old])
    assert account(accounts).data == {**EMPTY_ACCOUNT, "accountId": "k",
                                      "traits": {"a": 1, "b": 2}}

