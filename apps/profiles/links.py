from dataclasses import dataclass

from apps.catalog.builtin_names import BuiltinCollection
from apps.catalog.models import Collection
from apps.core import links
from apps.profiles.models import Merge
from apps.records.models import Record


@dataclass(frozen=True)
class Profile:
    """A profile collection's record with the collections that point at it."""

    collection: Collection
    key: str
    record: Record
    related: list[tuple[Collection, str]]
    merged_visitors: list[str]


@dataclass(frozen=True)
class Erasure:
    """An erased profile of `collection`: what its answer leads on to."""

    collection: Collection


def related_path(org: str, collection: str, key: str, other: str) -> str:
    return links.path("profile-related", org=org, collection=collection, key=key, other=other)


@links.register(Profile)
def profile_links(profile: Profile, org: str) -> dict[str, str]:
    name, key = profile.collection.name, profile.key
    found = {
        "self": links.path("profile-detail", org=org, collection=name, key=key),
        "collection": links.path("collection-detail", org=org,
                                 collection_id=profile.collection.id),
    }
    for other, _ in profile.related:
        found[other.name] = related_path(org, name, key, other.name)
    return found


@links.register(Merge)
def merge_links(merge: Merge, org: str) -> dict[str, str]:
    """The user profile that the visitor's records join."""
    return {"profile": links.path("profile-detail", org=org, collection=BuiltinCollection.USERS,
                                  key=merge.user_id)}


@links.register(Erasure)
def erasure_links(erasure: Erasure, org: str) -> dict[str, str]:
    return {"collection": links.path("collection-detail", org=org,
                                      collection_id=erasure.collection.id)}
