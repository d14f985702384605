"""Reads of profiles: a profile collection, the collections whose foreign identifiers point at
it, account descendants and identity merges (a profile's record: apps/records/selectors.py)."""

from django.db.models import QuerySet

from apps.catalog.builtin_names import BuiltinCollection
from apps.catalog.models import Collection, Identifier
from apps.core.cache import catalog
from apps.orgs.models import Org
from apps.profiles.models import Merge
from apps.records.selectors import keys_pointing_at


def profile_collection(*, org: Org, name: str) -> Collection | None:
    """Kept in each process while the catalog does not change (apps/core/cache.py)."""
    return catalog.get(f"profile-collection:{org.id}:{name}", lambda: Collection.objects.filter(
        org=org, name=name, profile=True).first())


def references_to(*, collection: Collection) -> list[tuple[Collection, str]]:
    """(collection, foreign identifier name) for each foreign identifier pointing at the
    collection's primary identifier, in a stable order. Kept in each process while the
    catalog does not change."""
    def load() -> list[tuple[Collection, str]]:
        foreigns = Identifier.objects.filter(
            org_id=collection.org_id, type=Identifier.Type.FOREIGN,
            reference__collection=collection, reference__type=Identifier.Type.PRIMARY,
        ).select_related("collection").order_by("collection__name", "name")
        return [(foreign.collection, foreign.name) for foreign in foreigns]

    return catalog.get(f"references-to:{collection.id}", load) or []


def merged_visitors(*, collection: Collection, key: str) -> list[str]:
    """The visitorIds merged into this user (none for other collections)."""
    if collection.name != BuiltinCollection.USERS:
        return []
    return list(Merge.objects.filter(org_id=collection.org_id, user_id=key,
                                     status=Merge.Status.MERGED).values_list("visitor_id",
                                                                             flat=True))


def descendant_keys(*, collection: Collection, key: str) -> list[str]:
    """The account and every account below it, however deep (cycles are refused on write,
    and each account is visited once regardless)."""
    found, frontier = [key], [key]
    while frontier:
        children = keys_pointing_at(collection=collection, identifier="parentAccountId",
                                    keys=frontier)
        frontier = [child for child in children if child not in found]
        found += frontier
    return found


def merge_list(*, org: Org) -> QuerySet[Merge]:
    return Merge.objects.filter(org=org).order_by("id")
