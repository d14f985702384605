"""Reads of sources: each one answers the org's own sources and never another org's."""

import pytest

from apps.sources.selectors import source_get, source_list
from tests.factories import OrgFactory, SourceFactory

pytestmark = pytest.mark.django_db


def test_the_list_holds_the_orgs_sources_oldest_first():
    org, other = OrgFactory(), OrgFactory()
    first = SourceFactory(org=org)
    SourceFactory(org=other)
    second = SourceFactory(org=org)
    assert list(source_list(org=org)) == [first, second]
    assert list(source_list(org=OrgFactory())) == []


def test_a_source_is_found_by_its_id_as_a_number_or_text_or_by_its_name():
    source = SourceFactory(name="backend")
    SourceFactory(org=source.org)
    assert source_get(org=source.org, source_id=source.id) == source
    assert source_get(org=source.org, source_id=str(source.id)) == source
    assert source_get(org=source.org, source_id="backend") == source


def test_another_orgs_source_is_never_found():
    source = SourceFactory(name="backend")
    stranger = OrgFactory()
    assert source_get(org=stranger, source_id=source.id) is None
    assert source_get(org=stranger, source_id=str(source.id)) is None
    assert source_get(org=stranger, source_id="backend") is None


@pytest.mark.parametrize("ref", ["missing", 0, -1, "0", True, None, 2**63])
def test_what_names_no_source_finds_none(ref):
    source = SourceFactory(name="backend")
    assert source_get(org=source.org, source_id=ref) is None
