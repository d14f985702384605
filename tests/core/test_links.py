"""Links are Django's reversed paths, however often they are built."""

import pytest
from django.urls import reverse

from apps.core import links


@pytest.mark.parametrize(("name", "kwargs"), [
    ("collection-detail", {"org": "acme", "collection_id": 382891315863314432}),
    ("record-detail", {"org": "acme", "collection_id": "flight-booking", "record_id": 7}),
    ("profile-detail", {"org": "acme", "collection": "users", "key": "ann@example.org"}),
    ("profile-detail", {"org": "acme", "collection": "users", "key": "a b?c#d%e"}),
    ("rejected-list", {"org": "acme"}),
    ("fuzy-account", {"account_id": "acc 1"}),
])
def test_a_path_is_what_reverse_gives(name, kwargs):
    assert links.path(name, **kwargs) == reverse(name, kwargs=kwargs)
    assert links.path(name, **kwargs) == reverse(name, kwargs=kwargs)  # from the cache
