"""Input Sluice cannot take is answered with a JSON error naming the record and the field,
before anything is queued."""

import json
import uuid

import pytest

from apps.records.models import Record, RejectedRecord
from tests.fixtures import record
from tests.helpers import problem, validation, wait_for


def booking(**fields):
    return {**record("flight-booking"), "eventId": str(uuid.uuid4()), **fields}


def assert_nothing_queued(api, coll_id):
    """Sends a marker record; once it is stored, it must be the collection's only row."""
    marker = booking()
    assert api.post(f"/collections/{coll_id}/data", json=marker).status_code == 202
    rows = wait_for(lambda: list(Record.objects.filter(collection_id=int(coll_id))))
    assert [r.key for r in rows] == [marker["eventId"]]
    assert not RejectedRecord.objects.filter(collection_id=int(coll_id)).exists()


def post_raw(api, coll_id, content, content_type="application/json"):
    return api.post(f"/collections/{coll_id}/data", content=content,
                    headers={"Content-Type": content_type})


def parse_error(detail):
    return problem(400, "parse_error",
                   f"The body is not valid JSON ({detail}). Send one JSON object or array.")


CASES = {
    "malformed JSON": (b'{"bookingId": ', 400, parse_error(
        "Expecting value: line 1 column 15 (char 14)")),
    "NaN": (b'{"bookingId": NaN}', 400, parse_error(
        "NaN is not a JSON number; send null or a finite number")),
    "Infinity": (b'[{"n": -Infinity}]', 400, parse_error(
        "-Infinity is not a JSON number; send null or a finite number")),
    "a float beyond a double": (b'{"n": 1e400}', 400, parse_error(
        "1e400 is out of range for a double")),
    "an integer beyond a long": (b'{"records": [{"n": 9223372036854775808}]}', 400, validation(
        ("records[0].n", "out_of_range",
         "9223372036854775808 does not fit any Avro number (a 64-bit long)."))),
    "a NUL character": (b'[{"a": 1}, {"bookingId": "x\\u0000y"}]', 400, validation(
        ("records[1].bookingId", "nul_character",
         "Strings may not contain the NUL character (\\u0000)."))),
    "a lone surrogate": (b'{"bookingId": "\\ud800"}', 400, validation(
        ("records[0].bookingId", "lone_surrogate",
         "Strings may not contain a lone UTF-16 surrogate."))),
    "a NUL in a key": (b'{"a\\u0000": 1}', 400, validation(
        ("records[0].a\x00", "nul_character",
         "Strings may not contain the NUL character (\\u0000)."))),
    "deep nesting": (b'{"a": ' + b'[' * 40 + b']' * 40 + b'}', 400, validation(
        ("records[0].a" + "[0]" * 32, "too_deep", "Nested deeper than 32 levels."))),
    "very deep nesting": (b'[' * 100_000 + b']' * 100_000, 400, parse_error(
        "nested too deeply")),
    "a record that is not an object": (b'[{"a": 1}, 7]', 400, validation(
        ("records[1]", "not_an_object", "A record is a JSON object."))),
    "records that is not a list": (b'{"records": 7}', 400, validation(
        ("records", "invalid", "`records` must be a JSON array."))),
}


@pytest.mark.parametrize("case", CASES)
def test_bad_input_is_refused_before_anything_is_queued(api, flights, orm, case):
    content, status, body = CASES[case]
    coll_id = flights["collection"]["id"]
    answer = post_raw(api, coll_id, content)
    assert answer.status_code == status
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json() == body
    assert_nothing_queued(api, coll_id)


def test_limits_answer_413_and_queue_nothing(api, flights, orm):
    coll_id = flights["collection"]["id"]
    big = booking(bookingId="x" * 33_000)
    answer = api.post(f"/collections/{coll_id}/data", json=[booking(), big])
    assert answer.status_code == 413
    size = len(json.dumps(big, separators=(",", ":")))
    assert answer.json() == problem(413, "record_too_large", f"records[1] is {size} bytes; a "
                                    "record may be at most 32768 bytes (32 KB).")

    many = [{"eventId": str(i)} for i in range(2501)]
    answer = api.post(f"/collections/{coll_id}/data", json=many)
    assert answer.status_code == 413
    assert answer.json() == problem(413, "too_many_records", "The request holds 2501 records; "
                                    "at most 2500 are accepted per request. Split it.")

    huge = json.dumps([booking(bookingId="y" * 30_000) for _ in range(18)]).encode()
    answer = post_raw(api, coll_id, huge)
    assert answer.status_code == 413
    assert answer.json() == problem(413, "request_too_large", f"The request is {len(huge)} "
                                    "bytes; at most 512000 bytes (500 KB) are accepted. Send "
                                    "fewer records per request.")
    assert_nothing_queued(api, coll_id)


def test_a_body_sent_with_curls_default_content_type_is_read_as_json(api, flights, orm):
    coll_id = flights["collection"]["id"]
    sent = booking()
    answer = post_raw(api, coll_id, json.dumps(sent), "application/x-www-form-urlencoded")
    assert answer.status_code == 202
    wait_for(lambda: Record.objects.filter(collection_id=int(coll_id), key=sent["eventId"]))


def test_an_unknown_collection_is_404_and_another_orgs_key_sees_the_same(api, flights,
                                                                         make_org):
    other = make_org()
    for path, key in [("/collections/999/data", api.org.secret_key),
                      (f"/collections/{flights['collection']['id']}/data", other.secret_key)]:
        answer = api.post(path, json=booking(), headers={"Authorization": f"ApiKey {key}"})
        assert answer.status_code == 404
        assert answer.json()["code"] == "not_found"


def test_a_nul_character_in_an_address_or_a_query_is_refused(api, flights):
    coll_id = flights["collection"]["id"]
    for path in ["/collections/%00/data", f"/collections/{coll_id}/data/%00", "/sources/a%00b"]:
        answer = api.get(path)  # refused by the front (nginx): no address holds a NUL
        assert (answer.status_code, answer.json()["code"]) == (400, "bad_request"), path
        assert answer.headers["Content-Type"] == "application/problem+json"
    detail = "Query parameters may not contain the NUL character (%00)."
    for query, name in [("bookingStatus=a%00", "bookingStatus"), ("collId=%00", "collId")]:
        answer = api.get(f"/collections/{coll_id}/data?{query}" if name == "bookingStatus"
                         else f"/rejected?{query}")
        assert answer.status_code == 400
        assert answer.json() == problem(400, "nul_character", detail, [
            {"code": "nul_character", "detail": detail, "attr": name}])


def test_a_request_refused_before_its_body_was_read_leaves_the_connection_usable(api, flights):
    """A sender whose 100 KB request is refused (here for its key) goes on sending on the same
    keep-alive connection."""
    coll_id = flights["collection"]["id"]
    big = json.dumps([booking(bookingId="z" * 1000) for _ in range(100)])
    for _ in range(5):
        refused = api.post(f"/collections/{coll_id}/data", content=big,
                           headers={"Authorization": "ApiKey sluice_wk_revoked"})
        assert refused.status_code == 401
        assert api.get(f"/collections/{coll_id}").status_code == 200
