"""The Fuzy-style model (products, accounts, users, events) written as records of the org's
built-in collections, through the same validation and pipeline as any record."""

import uuid
from typing import Any

from apps.catalog.builtin_names import BuiltinCollection
from apps.catalog.builtins import builtin_collections_ensure, builtin_inherits
from apps.core.actors import SLUICE
from apps.core.exceptions import InvalidInput
from apps.ingestion.services import Outcome, source_ingest
from apps.orgs.models import Org
from apps.records.selectors import builtin_field_by_key

Problem = tuple[str, str, str]

# Each names only what changes: merged into the stored profile where records are stored.
PARTIAL = frozenset({BuiltinCollection.PRODUCTS, BuiltinCollection.ACCOUNTS,
                     BuiltinCollection.USERS})


def builtin_write(*, org: Org, records: dict[str, list[dict[str, Any]]]) -> Outcome:
    """Queues records of built-in collections (by name), all in one message; products,
    accounts and users are partial records, so concurrent updates of one all apply."""
    collections = builtin_collections_ensure(actor=SLUICE, org=org)
    payload = {name: rows for name, rows in records.items() if rows}
    return source_ingest(collections=collections, payload=payload, partial=PARTIAL,
                         inherits=builtin_inherits(collections))


def account_cycle_problems(*, org: Org, accounts: list[dict[str, Any]],
                           path: str) -> list[Problem]:
    """A problem for each account whose parent chain (stored accounts and the ones given)
    leads back to itself. A parent that is no text is left for the record's own check."""
    parents = builtin_field_by_key(org=org, collection=BuiltinCollection.ACCOUNTS,
                                   field="parentAccountId")
    for account in accounts:
        if "parentAccountId" in account:  # else it keeps the stored one
            parents[str(account.get("accountId"))] = account["parentAccountId"]
    problems = []
    for index, account in enumerate(accounts):
        start, seen = account.get("accountId"), set()
        current = account.get("parentAccountId")
        while isinstance(current, str) and current not in seen:
            if current == start:
                problems.append((f"{path}[{index}].parentAccountId", "account_cycle",
                                 f"Account {start!r} would be its own ancestor."))
                break
            seen.add(current)
            current = parents.get(current)
    return problems


def _required(item: dict[str, Any], path: str, *names: str) -> list[Problem]:
    return [(f"{path}.{name}", "required", f"`{name}` is required.")
            for name in names if item.get(name) in (None, "")]


def _user_and_account(event: dict[str, Any], path: str, users: list[dict[str, Any]],
                      accounts: list[dict[str, Any]]) -> tuple[Any, Any, list[Problem]]:
    """The event's userId and accountId; full user/account objects join the writes."""
    user, account = event.get("user"), event.get("account")
    problems: list[Problem] = []
    if isinstance(account, dict):
        problems += _required(account, f"{path}.account", "accountId")
        accounts.append(account)
        account = account.get("accountId")
    if isinstance(user, dict):
        problems += _required(user, f"{path}.user", "userId")
        nested = user.get("account")
        if isinstance(nested, dict):
            problems += _required(nested, f"{path}.user.account", "accountId")
            accounts.append(nested)
            user = {**{k: v for k, v in user.items() if k != "account"},
                    "accountId": nested.get("accountId")}
        users.append(user)
        account = account or user.get("accountId")
        user = user.get("userId")
    user = user or event.get("userId")
    account = account or event.get("accountId")
    if user is None and account is None:
        problems.append((path, "user_or_account_required",
                         "An event needs a user (`user` or `userId`) and/or an account "
                         "(`account` or `accountId`)."))
    return user, account, problems


def events_write(*, org: Org, events: list[Any]) -> Outcome:
    """PUT /v3/event: events, with the users and accounts given in full inside them."""
    users: list[dict[str, Any]] = []
    accounts: list[dict[str, Any]] = []
    rows: list[dict[str, Any]] = []
    problems: list[Problem] = []
    for index, event in enumerate(events):
        path = f"events[{index}]"
        if not isinstance(event, dict):
            problems.append((path, "not_an_object", "An event is a JSON object."))
            continue
        problems += _required(event, path, "description", "timestamp")
        user_id, account_id, found = _user_and_account(event, path, users, accounts)
        problems += found
        product = event.get("product")
        rows.append({
            "eventId": event.get("eventId") or str(uuid.uuid4()),
            "event": event.get("description"), "feature": event.get("feature"),
            "userId": user_id, "accountId": account_id,
            "productId": (product.get("productId") if isinstance(product, dict) else product)
            or event.get("productId") or "default",
            "timestamp": event.get("timestamp"), "properties": event.get("properties") or {},
        })
    problems += account_cycle_problems(org=org, accounts=accounts, path="accounts")
    if problems:
        raise InvalidInput(errors=problems)
    return builtin_write(org=org, records={BuiltinCollection.ACCOUNTS: accounts,
                                           BuiltinCollection.USERS: users,
                                           BuiltinCollection.EVENTS: rows})
