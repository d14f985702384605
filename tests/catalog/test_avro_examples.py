"""The example record of a schema is one that Sluice takes, with a plain value of each type
in each field that has no default."""

import itertools

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from apps.catalog.avro import RecordValidator, record_schema_problems
from apps.catalog.avro_examples import example_record
from tests.catalog.test_avro_against_apache import records
from tests.fixtures import schema


def test_each_field_without_a_default_holds_a_plain_value_of_its_type():
    validator = RecordValidator(schema("every-kind"))
    example = example_record(validator.parsed, validator.names)
    assert example == {
        "name": "…", "count": 1, "price": 1, "paid": True, "status": "booked",
        "day": "2020-05-25", "at": "2020-05-25T14:30:00Z", "local": "2020-05-25T14:30:00",
        "ref": "3f1c6a52-6b0e-4d0a-9c1e-5b2f0f7a9d11", "amount": "0.01", "code": "...",
        "raw": "...", "tags": [], "extra": {}, "note": None,
        "seat": {"row": 1, "next": None},  # a record that holds itself ends in null
        "again": "booked"}
    assert validator.check(validator.split(example)[0]).problems == []


def test_the_flight_booking_example_names_its_four_fields_and_the_tracker_s_two():
    validator = RecordValidator(schema("flight-booking"))
    assert example_record(validator.parsed, validator.names) == {
        "eventId": "…", "visitorId": "…", "bookingId": "…", "flightId": "…",
        "bookingStatus": "…", "bookingDate": "2020-05-25"}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_sluice_takes_the_example_record_of_any_schema_a_collection_can_have(data):
    drawn = data.draw(records(0, itertools.count()))
    assume(not record_schema_problems(drawn))  # an empty union, say, has no value at all
    validator = RecordValidator(drawn)
    example = example_record(validator.parsed, validator.names)
    assert validator.check(validator.split(example)[0]).problems == [], example
