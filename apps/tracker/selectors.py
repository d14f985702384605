"""Reads of the browser front doors: which origins may call them, the live key behind a
collector session, the collections a batch names and the track call a web source's page
can make."""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from apps.catalog import avro
from apps.catalog.avro_examples import example_record
from apps.catalog.models import Collection
from apps.core.cache import catalog
from apps.orgs.models import ApiKey, Org
from apps.sources.models import Source
from apps.tracker.mapping import STAMPED

ANY_ORIGIN = "*"
# The collector's page is allowed by the org's web sources; a usage-collector source may list
# origins as well, since that is where a Churn360 user would look for them.
COLLECTOR_SOURCE_TYPES = (Source.Type.WEB, Source.Type.USAGE)
TRACKER_SOURCE_TYPES = (Source.Type.WEB,)


@dataclass(frozen=True)
class SourceOrigins:
    """The origins that the sources of one org allow, by tracker id."""

    sources: tuple[tuple[str | None, tuple[str, ...]], ...]

    def allow(self, origin: str, tracker_id: str | None = None) -> bool:
        """Whether the source with `tracker_id` (any source when None) lists `origin`."""
        return any(
            _listed(origin, origins) for tracker, origins in self.sources
            if tracker_id is None or tracker == tracker_id
        )


def _listed(origin: str, origins: Iterable[str]) -> bool:
    return any(allowed in (ANY_ORIGIN, origin.lower()) for allowed in origins)


def source_origins(*, org: Org, types: tuple[str, ...] = TRACKER_SOURCE_TYPES) -> SourceOrigins:
    """The origins the org's sources of `types` allow."""
    rows = Source.objects.filter(org=org, type__in=types).values_list(
        "tracker_id", "allowed_origins")
    return SourceOrigins(tuple((tracker, tuple(origins or ())) for tracker, origins in rows))


def api_key_live(*, org_id: int, key_id: int) -> ApiKey | None:
    """The org's key with this id, its org loaded, unless it was revoked or expired."""
    key = ApiKey.objects.select_related("org").filter(
        id=key_id, org_id=org_id, revoked_at__isnull=True).first()
    return key if key is not None and key.works_at(timezone.now()) else None


def collections_named(*, org: Org, names: Iterable[str]) -> dict[str, Collection]:
    """The org's collections with these names, their identifiers and source loaded. Kept in
    each process while the catalog does not change (apps/core/cache.py)."""
    wanted = sorted(set(names))

    def load() -> dict[str, Collection]:
        found = Collection.objects.filter(org=org, name__in=wanted).select_related(
            "source").prefetch_related("identifiers")
        return {collection.name: collection for collection in found}

    return catalog.get(f"collections-named:{org.id}:{chr(31).join(wanted)}", load) or {}


@dataclass(frozen=True)
class TrackExample:
    """A track call: the collection it names and the fields it sends."""

    collection: str
    fields: dict[str, Any]


# The README's call, for a source that has no collection yet.
FLIGHT_BOOKING = TrackExample("flight-booking", {
    "bookingId": "1", "flightId": "1", "bookingStatus": "booked", "bookingDate": "2020-05-25"})


def track_example(*, org: Org, source: Source) -> TrackExample:
    """A track call that the source's first collection accepts: an example value in each
    field its current schema requires, but those the tracker stamps on every item. The
    README's flight booking when the source has no collection."""
    collection = Collection.objects.filter(org=org, source=source).order_by("id").first()
    if collection is None:
        return FLIGHT_BOOKING
    validator = avro.validator_for(collection.id, collection.schema_version, collection.schema)
    fields = example_record(validator.parsed, validator.names)
    return TrackExample(collection.name,
                        {name: value for name, value in fields.items() if name not in STAMPED})
