"""The base of every API view that touches an org's data: the org is resolved once, from the
URL or from the key, after the key has been checked against it (see permissions.py)."""

from typing import Any, TypeVar

from rest_framework import exceptions, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core import logs
from apps.core.actors import Actor
from apps.core.exceptions import NotFound, NotJSON, RateLimited
from apps.core.permissions import READ_METHODS, org_key_checked
from apps.core.ratelimits import Verdict, request_admitted

T = TypeVar("T")


class OrgAPIView(APIView):
    """`self.org` is the org of the request, already checked against its key, and within its
    key's and its org's rate limits (core/ratelimits.py), which every answer then tells;
    `self.actor` is who the services that change the org record as having made the change
    (the key). A view whose URL names no org (a vendor's front door) says
    `org_in_url = False`: the key's org is used."""

    org_in_url = True
    limits: Verdict | None = None
    write_key_methods: tuple[str, ...] = ()  # what a write key may do; others need more
    read_key_methods: tuple[str, ...] = READ_METHODS  # what a read key may do
    body_required = False  # True: a POST or PUT without a body is refused

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        if not hasattr(self, str(request.method).lower()):  # wrong with any key, or none
            self.http_method_not_allowed(request)
        super().initial(request, *args, **kwargs)
        self.key = org_key_checked(
            request, org_in_url=kwargs.get("org", "") if self.org_in_url else None,
            write_key_methods=self.write_key_methods, read_key_methods=self.read_key_methods)
        self.org = self.key.org
        logs.org_known(self.org.slug)
        self.limits = request_admitted(self.key)
        if self.limits is not None and not self.limits.allowed:
            raise RateLimited(_over_limit(self.limits), retry_after=self.limits.retry_after(),
                              headers=self.limits.headers())
        if self.body_required and request.method in ("POST", "PUT") and request.stream is None:
            raise NotJSON("the body is empty")

    def finalize_response(self, request: Request, response: Response, *args: Any,
                          **kwargs: Any) -> Response:
        response = super().finalize_response(request, response, *args, **kwargs)
        if self.limits is not None:
            for name, value in self.limits.headers().items():
                response[name] = value
        return response

    @property
    def actor(self) -> Actor:
        return Actor.key(self.key, self.request)

    def found(self, obj: T | None) -> T:
        """The object, or the same 404 as for anything that does not exist."""
        if obj is None:
            raise NotFound()
        return obj

    def valid(self, serializer_class: type[serializers.Serializer], *,  # type: ignore[type-arg]
              partial: bool = False) -> dict[str, Any]:
        """The request body, validated by `serializer_class`; a 400 naming each field if not."""
        if not isinstance(self.request.data, dict):
            raise exceptions.ValidationError(
                {"non_field_errors": ["The body must be one JSON object."]}
            )
        serializer = serializer_class(data=self.request.data, partial=partial,
                                      context={"request": self.request, "org": self.org})
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)

    def output(self, serializer_class: type[serializers.Serializer], instance: Any,  # type: ignore[type-arg]
               **kwargs: Any) -> Any:
        return serializer_class(instance, context={"request": self.request}, **kwargs).data


def _over_limit(limits: Verdict) -> str:
    empty = [level.policy for level in limits.levels if level.remaining() < 1]
    said = " and ".join(f"the {'key' if policy.name == 'key' else 'org'}'s ({policy.rate} "
                        f"requests a second, {policy.burst} at once)" for policy in empty)
    return (f"Too many requests: over the rate limit of {said}. Nothing was done; send it "
            f"again in {limits.retry_after()} s (Retry-After).")
