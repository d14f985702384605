"""factory_boy factories of the domain, for fast tests inside a rolled-back transaction.

Where a model has invariants that a service keeps (a web source's tracker id, a collection's
first schema version, an identifier that fits its collection), the factory calls that service,
so a factory never makes what the product could not."""

from typing import Any

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from apps.catalog import services as catalog_services
from apps.catalog.avro import fields_of
from apps.catalog.models import Collection, Identifier
from apps.core.ids import new_id
from apps.orgs.models import ApiKey, Org
from apps.orgs.services import api_key_create
from apps.profiles.models import Merge
from apps.records.models import Record, RejectedRecord
from apps.sources import services as source_services
from apps.sources.models import Source
from tests.fixtures import ACTOR, record, schema


class OrgFactory(DjangoModelFactory):
    """A bare org: no keys and no built-in collections (org_create makes those; see
    ApiKeyFactory and apps.catalog.builtins for each)."""

    class Meta:
        model = Org

    slug = factory.Sequence(lambda n: f"unit-org-{n}")
    name = factory.LazyAttribute(lambda org: org.slug)


class ApiKeyFactory(DjangoModelFactory):
    """A key made by the real service; the raw key, shown once, is kept on `.raw`."""

    class Meta:
        model = ApiKey

    org = factory.SubFactory(OrgFactory)
    kind = ApiKey.Kind.SECRET
    name = "test key"

    @classmethod
    def _create(cls, model_class: Any, *, org: Org, kind: str, name: str) -> ApiKey:
        key, raw = api_key_create(actor=ACTOR, org=org, kind=kind, name=name)
        key.raw = raw  # type: ignore[attr-defined]
        return key


class SourceFactory(DjangoModelFactory):
    class Meta:
        model = Source

    org = factory.SubFactory(OrgFactory)
    name = factory.Sequence(lambda n: f"source{n}")
    type = Source.Type.SERVER
    title = ""
    description = ""
    allowed_origins = factory.LazyFunction(list)

    @classmethod
    def _create(cls, model_class: Any, **fields: Any) -> Source:
        return source_services.source_create(actor=ACTOR, **fields)


class CollectionFactory(DjangoModelFactory):
    """A collection of flight bookings (fixtures/schemas) unless given another schema, with
    its schema version 1, made by collection_create."""

    class Meta:
        model = Collection

    org = factory.SubFactory(OrgFactory)
    source = factory.SubFactory(SourceFactory, org=factory.SelfAttribute("..org"))
    name = factory.Sequence(lambda n: f"collection{n}")
    schema = factory.LazyFunction(lambda: schema("flight-booking"))
    profile = False
    event = True

    @classmethod
    def _create(cls, model_class: Any, **fields: Any) -> Collection:
        return catalog_services.collection_create(actor=ACTOR, **fields)


def key_schema(name: str, fields: list[tuple[str, Any]]) -> dict[str, Any]:
    """An identifier's schema: a record naming the key fields with their types."""
    return {"type": "record", "name": name, "namespace": "sluice.tests",
            "fields": [{"name": field, "type": kind} for field, kind in fields]}


class IdentifierFactory(DjangoModelFactory):
    """A primary identifier on `key_fields` (eventId unless told), each declared with its type
    in the collection's schema; made by identifier_create."""

    class Meta:
        model = Identifier

    class Params:
        key_fields: tuple[str, ...] = ("eventId",)

    collection = factory.SubFactory(CollectionFactory)
    type = Identifier.Type.PRIMARY
    name = factory.Sequence(lambda n: f"key{n}")
    schema = factory.LazyAttribute(lambda o: key_schema(o.name, [
        (field, fields_of(o.collection.schema)[field]) for field in o.key_fields]))
    reference = None

    @classmethod
    def _create(cls, model_class: Any, **fields: Any) -> Identifier:
        return catalog_services.identifier_create(actor=ACTOR, **fields)


class RecordFactory(DjangoModelFactory):
    """A stored flight booking whose key is its eventId."""

    class Meta:
        model = Record

    id = factory.LazyFunction(new_id)
    collection = factory.SubFactory(CollectionFactory)
    org = factory.SelfAttribute("collection.org")
    schema_version = factory.SelfAttribute("collection.schema_version")
    key = factory.Sequence(lambda n: f"event-{n}")
    identifiers = factory.LazyAttribute(lambda o: {"eventId": o.key})
    received_at = factory.LazyFunction(timezone.now)
    updated_at = factory.SelfAttribute("received_at")
    data = factory.LazyAttribute(lambda o: {**record("flight-booking"), "eventId": o.key})


class RejectedRecordFactory(DjangoModelFactory):
    """A flight booking refused for its bookingDate."""

    class Meta:
        model = RejectedRecord

    id = factory.LazyFunction(new_id)
    collection = factory.SubFactory(CollectionFactory)
    org = factory.SelfAttribute("collection.org")
    schema_version = factory.SelfAttribute("collection.schema_version")
    raw = factory.LazyFunction(lambda: {**record("flight-booking"), "bookingDate": "soon"})
    errors = factory.LazyFunction(lambda: [{
        "attr": "bookingDate", "code": "invalid_date",
        "detail": "'soon' is not an ISO date such as 2020-05-25."}])
    received_at = factory.LazyFunction(timezone.now)


class MergeFactory(DjangoModelFactory):
    class Meta:
        model = Merge

    org = factory.SubFactory(OrgFactory)
    visitor_id = factory.Sequence(lambda n: f"visitor-{n}")
    user_id = factory.Sequence(lambda n: f"user-{n}")
    status = Merge.Status.MERGED
