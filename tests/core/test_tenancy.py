"""The one tenancy base: whatever permission classes a view declares, a key sees only its own
org, and only a secret key manages."""

import pytest
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory

from apps.core.apis import OrgAPIView
from apps.orgs.models import ApiKey
from tests.factories import ApiKeyFactory, OrgFactory

pytestmark = pytest.mark.django_db


class OpenByMistake(OrgAPIView):
    """A view that replaced its permission classes, as if to skip the org check."""

    permission_classes = [AllowAny]

    def get(self, request: Request, org: str) -> Response:
        return Response({"org": self.org.slug})

    def post(self, request: Request, org: str) -> Response:
        return Response({"org": self.org.slug})


class KeysOrg(OpenByMistake):
    """A vendor's front door: the URL names no org, the key does."""

    org_in_url = False
    write_key_methods = ("POST",)


def ask(view: type[OrgAPIView], method: str, org_in_url: str, raw_key: str | None) -> Response:
    headers = {"HTTP_X_API_KEY": raw_key} if raw_key else {}
    request = getattr(APIRequestFactory(), method)(f"/v1/{org_in_url}/x", **headers)
    return view.as_view()(request, org=org_in_url)


def test_a_view_cannot_skip_the_org_check_by_replacing_its_permissions():
    own = ApiKeyFactory(kind=ApiKey.Kind.SECRET)
    other = ApiKeyFactory(kind=ApiKey.Kind.SECRET)
    write = ApiKeyFactory(org=own.org, kind=ApiKey.Kind.WRITE)
    slug = own.org.slug
    assert (ask(OpenByMistake, "get", slug, own.raw).data) == {"org": slug}
    assert ask(OpenByMistake, "get", slug, None).status_code == 401
    assert ask(OpenByMistake, "get", slug, other.raw).status_code == 404
    assert ask(OpenByMistake, "get", OrgFactory().slug, own.raw).status_code == 404
    refused = ask(OpenByMistake, "post", slug, write.raw)
    assert (refused.status_code, refused.data["code"]) == (403, "permission_denied")


def test_where_the_url_names_no_org_the_key_names_it():
    own = ApiKeyFactory(kind=ApiKey.Kind.WRITE)
    answer = ask(KeysOrg, "post", "anything", own.raw)
    assert (answer.status_code, answer.data) == (200, {"org": own.org.slug})
    managing = ask(KeysOrg, "get", "anything", own.raw)
    assert (managing.status_code, managing.data["code"]) == (403, "permission_denied")
    assert ask(KeysOrg, "get", "anything", None).status_code == 401


class ReadOnly(OrgAPIView):
    def get(self, request: Request, org: str) -> Response:
        return Response({"org": self.org.slug})


def test_a_wrong_method_is_405_for_any_key():
    write = ApiKeyFactory(kind=ApiKey.Kind.WRITE)
    secret = ApiKeyFactory(org=write.org, kind=ApiKey.Kind.SECRET)
    for key in (write, secret):
        answer = ask(ReadOnly, "post", write.org.slug, key.raw)
        assert (answer.status_code, answer.data["code"]) == (405, "method_not_allowed")
