from dataclasses import dataclass
from typing import Any

from apps.core import links


@dataclass(frozen=True)
class FuzyProfile:
    """A product, account or user as the Fuzy-style API reads it: its stored data."""

    collection: str
    data: dict[str, Any]


def _account(account_id: Any) -> str:
    return links.path("fuzy-account", account_id=account_id)


@links.register(FuzyProfile)
def fuzy_profile_links(profile: FuzyProfile, org: str) -> dict[str, str]:
    """The account a user belongs to, the parent of an account."""
    pointing = {"users": ("account", "accountId"), "accounts": ("parentAccount",
                                                                 "parentAccountId")}
    if profile.collection not in pointing:
        return {}
    name, field = pointing[profile.collection]
    return {name: _account(profile.data[field])} if profile.data.get(field) else {}
